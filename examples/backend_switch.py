"""One graph on any backend: compute on numpy, torch, jax or mlx, hand NumPy to a host sink.

    Clock -> Oscillator --\\
          -> WhiteNoise ---> Add -> ButterworthFilter -> Abs -> AsArray(numpy) -> HostSink
          (on --backend, --device)                            (host)

    python -m examples.backend_switch --backend torch [--device cuda:0] [--seconds 3]

Nothing but the ``--backend``/``--device`` flag changes between backends: the sources generate
there and every Unit keeps the data where it arrived. ``AsArray`` is the one boundary that
moves it: ``HostSink`` uses NumPy-only functions (``np.percentile``), so it must get NumPy.
"""

from __future__ import annotations

import sys

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import Clock, ClockSettings

from ezmsg_sigproc_units.asarray import AsArray, AsArraySettings
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilter, ButterworthFilterSettings
from ezmsg_sigproc_units.math.abs import Abs
from ezmsg_sigproc_units.math.add import Add
from ezmsg_sigproc_units.synth import Oscillator, OscillatorSettings, WhiteNoise, WhiteNoiseSettings

from .common import ExampleSettings, StatsSink, example_main, sink_settings


class HostSink(StatsSink):
    """A sink that needs NumPy arrays: its status line uses ``np.percentile``."""

    def summary_line(self, now: float) -> str:
        x = self.STATE.last.data
        if not isinstance(x, np.ndarray):
            raise TypeError(f"HostSink needs NumPy arrays, got {type(x).__name__}")
        p5, p50, p95 = np.percentile(x, [5, 50, 95])
        return (f"{self.progress_line(now)} | |band-passed| percentiles 5/50/95: "
                f"{p5:.3f} {p50:.3f} {p95:.3f} | {type(x).__module__} {x.dtype}")


class BackendSwitchSettings(ExampleSettings):
    fs: float = 1000.0
    """Sampling rate of the sources in Hz. Default 1000.0."""
    n_ch: int = 16
    """Number of channels. Default 16."""
    cuton: float = 5.0
    """Band-pass lower edge in Hz. Default 5.0."""
    cutoff: float = 30.0
    """Band-pass upper edge in Hz. Default 30.0."""


class BackendSwitchSystem(ez.Collection):
    SETTINGS = BackendSwitchSettings

    CLOCK = Clock()
    OSC = Oscillator()
    NOISE = WhiteNoise()
    ADD = Add()
    FILTER = ButterworthFilter()
    ABS = Abs()
    TO_HOST = AsArray()
    SINK = HostSink()

    def configure(self) -> None:
        s = self.SETTINGS
        src = dict(fs=s.fs, n_ch=s.n_ch, backend=s.backend, device=s.device)
        self.CLOCK.apply_settings(ClockSettings(dispatch_rate=50.0))
        self.OSC.apply_settings(OscillatorSettings(freq=12.0, **src))
        self.NOISE.apply_settings(WhiteNoiseSettings(scale=1.0, seed=2, **src))
        self.FILTER.apply_settings(ButterworthFilterSettings(
            axis="time", order=4, cuton=s.cuton, cutoff=s.cutoff, coef_type="sos"))
        self.TO_HOST.apply_settings(AsArraySettings(backend="numpy"))  # the host boundary
        self.SINK.apply_settings(sink_settings(s))

    def network(self) -> ez.NetworkDefinition:
        return (
            (self.CLOCK.OUTPUT_SIGNAL, self.OSC.INPUT_CLOCK),
            (self.CLOCK.OUTPUT_SIGNAL, self.NOISE.INPUT_CLOCK),
            (self.OSC.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_A),
            (self.NOISE.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_B),
            (self.ADD.OUTPUT_SIGNAL, self.FILTER.INPUT_SIGNAL),
            (self.FILTER.OUTPUT_SIGNAL, self.ABS.INPUT_SIGNAL),
            (self.ABS.OUTPUT_SIGNAL, self.TO_HOST.INPUT_SIGNAL),
            (self.TO_HOST.OUTPUT_SIGNAL, self.SINK.INPUT_SIGNAL),
        )


SETTINGS = BackendSwitchSettings
SYSTEM = BackendSwitchSystem


def main(argv: list[str] | None = None) -> int:
    return example_main(SYSTEM, SETTINGS, "backend_switch", argv)


if __name__ == "__main__":
    sys.exit(main())
