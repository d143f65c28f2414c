"""Sine plus noise through Add, Scale, Abs and Clip: the system `make run` runs.

    Clock -> Oscillator --\\
          -> WhiteNoise ---> Add -> Scale -> Abs -> Clip -> StatsSink

    python -m examples.default --seconds 3 [--backend numpy|torch|jax|mlx] [--device D]
    ezmsg-sigproc-units run default --seconds 3 --set n_ch=4 --set freq=5

Sources generate on the chosen backend and every Unit downstream follows the data. The sink
prints a progress line and statistics of the last block, and stops the run by itself. With a
graph server started first (``ezmsg start``, ``EZMSG_GRAPHSERVER_ADDR`` set), the running graph
is visible with ``ezmsg mermaid``.
"""

from __future__ import annotations

import sys

import ezmsg.core as ez
from ezmsg.baseproc import Clock, ClockSettings

from ezmsg_sigproc_units.math.abs import Abs
from ezmsg_sigproc_units.math.add import Add
from ezmsg_sigproc_units.math.clip import Clip, ClipSettings
from ezmsg_sigproc_units.math.scale import Scale, ScaleSettings
from ezmsg_sigproc_units.synth import (
    Oscillator,
    OscillatorSettings,
    WhiteNoise,
    WhiteNoiseSettings,
)

from .common import ExampleSettings, StatsSink, example_main, sink_settings

FS = 1000.0  # Hz
DISPATCH_RATE = 100.0  # clock ticks per second: blocks of FS / DISPATCH_RATE = 10 samples
N_CH = 8


class DefaultSettings(ExampleSettings):
    fs: float = FS
    """Sampling rate of the sources in Hz. Default 1000.0."""
    dispatch_rate: float = DISPATCH_RATE
    """Clock ticks per second; each tick gives a block of ``fs / dispatch_rate`` samples."""
    n_ch: int = N_CH
    """Number of channels. Default 8."""
    freq: float = 10.0
    """Oscillator frequency in Hz. Default 10.0."""
    noise: float = 0.2
    """Standard deviation of the added white noise. Default 0.2."""


class DefaultSystem(ez.Collection):
    SETTINGS = DefaultSettings

    CLOCK = Clock()
    OSC = Oscillator()
    NOISE = WhiteNoise()
    ADD = Add()
    SCALE = Scale()
    ABS = Abs()
    CLIP = Clip()
    SINK = StatsSink()

    def configure(self) -> None:
        s = self.SETTINGS
        src = dict(fs=s.fs, n_ch=s.n_ch, backend=s.backend, device=s.device)
        self.CLOCK.apply_settings(ClockSettings(dispatch_rate=s.dispatch_rate))
        self.OSC.apply_settings(OscillatorSettings(freq=s.freq, **src))
        self.NOISE.apply_settings(WhiteNoiseSettings(scale=s.noise, seed=0, **src))
        self.SCALE.apply_settings(ScaleSettings(scale=0.5))
        self.CLIP.apply_settings(ClipSettings(min=0.0, max=0.5))
        self.SINK.apply_settings(sink_settings(s))

    def network(self) -> ez.NetworkDefinition:
        return (
            (self.CLOCK.OUTPUT_SIGNAL, self.OSC.INPUT_CLOCK),
            (self.CLOCK.OUTPUT_SIGNAL, self.NOISE.INPUT_CLOCK),
            (self.OSC.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_A),
            (self.NOISE.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_B),
            (self.ADD.OUTPUT_SIGNAL, self.SCALE.INPUT_SIGNAL),
            (self.SCALE.OUTPUT_SIGNAL, self.ABS.INPUT_SIGNAL),
            (self.ABS.OUTPUT_SIGNAL, self.CLIP.INPUT_SIGNAL),
            (self.CLIP.OUTPUT_SIGNAL, self.SINK.INPUT_SIGNAL),
        )


SETTINGS = DefaultSettings
SYSTEM = DefaultSystem


def main(argv: list[str] | None = None) -> int:
    return example_main(SYSTEM, SETTINGS, "default", argv)


if __name__ == "__main__":
    sys.exit(main())
