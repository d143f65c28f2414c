"""The default example system (``make run``): sources on a chosen backend, a chain of Units,
and a sink that prints statistics and stops the run by itself.

    Clock -> Oscillator --\\
          -> WhiteNoise ---> Add -> Scale -> Abs -> Clip -> StatsSink

    python -m examples.default --seconds 3 [--backend numpy|torch|jax|mlx] [--device D]

With a graph server started first (``ezmsg start``, ``EZMSG_GRAPHSERVER_ADDR`` set), the
running graph is visible with ``ezmsg mermaid``.
"""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.baseproc import Clock, ClockSettings

from ezmsg_sigproc_units import _backend
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

from .common import StatsSink, StatsSinkSettings, parse_args

FS = 1000.0  # Hz
DISPATCH_RATE = 100.0  # clock ticks per second: blocks of FS / DISPATCH_RATE = 10 samples
N_CH = 8


class DefaultSettings(ez.Settings):
    seconds: float = 3.0
    """Signal seconds to run before the sink stops the system."""
    backend: str = "numpy"
    """Array library the sources generate with (everything downstream follows the data)."""
    device: str | None = None
    """Device for ``backend``; None is its default."""
    record: str | None = None
    """JSON file for the sink's final counts (tests)."""
    quiet: bool = False
    """Suppress the sink's status lines."""


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
        where = dict(backend=s.backend, device=s.device)
        self.CLOCK.apply_settings(ClockSettings(dispatch_rate=DISPATCH_RATE))
        self.OSC.apply_settings(OscillatorSettings(fs=FS, freq=10.0, n_ch=N_CH, **where))
        self.NOISE.apply_settings(WhiteNoiseSettings(fs=FS, n_ch=N_CH, scale=0.2, seed=0, **where))
        self.SCALE.apply_settings(ScaleSettings(scale=0.5))
        self.CLIP.apply_settings(ClipSettings(min=0.0, max=0.5))
        self.SINK.apply_settings(StatsSinkSettings(seconds=s.seconds, record=s.record,
                                                   quiet=s.quiet))

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


def main(argv: list[str] | None = None) -> None:
    args = parse_args("The default example system of ezmsg-sigproc-units.", argv)
    # Fail fast on a backend/device that is not here (inside the graph it would only be
    # logged), and import the library now rather than on the first clock tick.
    _backend.resolve(args.backend, args.device)
    system = DefaultSystem(DefaultSettings(seconds=args.seconds, backend=args.backend,
                                           device=args.device))
    ez.run(DEFAULT=system)


if __name__ == "__main__":
    main()
