"""Band power of synthetic rhythms: a BCI-style pipeline.

    Clock -> Oscillator (10 Hz on ch0/ch2, 22 Hz on ch1/ch3) --\\
          -> WhiteNoise ------------------------------------> Add -> BandPower -> Log
                                                               -> BandTable

    python -m examples.bandpower --seconds 3 [--backend numpy|torch|jax|mlx] [--device D]

BandTable prints, about once per second, the latest log10 band power of every channel in the
alpha (8-12 Hz) and beta (18-30 Hz) bands: ch0/ch2 are high in alpha, ch1/ch3 in beta.
"""

from __future__ import annotations

import time

import ezmsg.core as ez
from ezmsg.baseproc import Clock, ClockSettings

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings
from ezmsg_sigproc_units.math.add import Add
from ezmsg_sigproc_units.math.log import Log, LogSettings
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
from ezmsg_sigproc_units.synth import Oscillator, OscillatorSettings, WhiteNoise, WhiteNoiseSettings

from .common import StatsSink, StatsSinkSettings, parse_args

FS = 500.0
BANDS = [(8.0, 12.0), (18.0, 30.0)]


class BandTable(StatsSink):
    """StatsSink that prints a per-band, per-channel table instead of summary statistics."""

    def summary_line(self, now: float) -> str:
        msg = self.STATE.last
        if msg.data.shape[0] == 0:
            return "(no complete window yet)"
        values = _backend.to_host(msg.data[-1, ...])  # latest window: (band, ch), host for print
        rows = [f"  {lo:>4.0f}-{hi:<4.0f}Hz " + " ".join(f"{v:+7.2f}" for v in values[i])
                for i, (lo, hi) in enumerate(BANDS)]
        head = f"t={time.monotonic() - self.STATE.t_start:5.1f}s  log10 band power, ch0..ch3"
        return "\n".join([head, *rows])


class BandPowerSystemSettings(ez.Settings):
    seconds: float = 3.0
    backend: str = "numpy"
    device: str | None = None
    quiet: bool = False
    record: str | None = None


class BandPowerSystem(ez.Collection):
    SETTINGS = BandPowerSystemSettings

    CLOCK = Clock()
    OSC = Oscillator()
    NOISE = WhiteNoise()
    ADD = Add()
    BANDS = BandPower()
    LOG = Log()
    SINK = BandTable()

    def configure(self) -> None:
        s = self.SETTINGS
        where = dict(backend=s.backend, device=s.device)
        # 10 ticks/s = 50-sample blocks = one hop: every block completes one window
        self.CLOCK.apply_settings(ClockSettings(dispatch_rate=10.0))
        self.OSC.apply_settings(OscillatorSettings(fs=FS, freq=[10.0, 22.0, 10.0, 22.0], **where))
        self.NOISE.apply_settings(WhiteNoiseSettings(fs=FS, n_ch=4, scale=0.5, seed=1, **where))
        self.BANDS.apply_settings(BandPowerSettings(
            spectrogram_settings=SpectrogramSettings(window_dur=0.5, window_shift=0.1,
                                                     transform="REL_POWER"),
            bands=BANDS))
        self.LOG.apply_settings(LogSettings(base=10.0, clip_zero=True))
        self.SINK.apply_settings(StatsSinkSettings(seconds=s.seconds, quiet=s.quiet,
                                                   record=s.record))

    def network(self) -> ez.NetworkDefinition:
        return (
            (self.CLOCK.OUTPUT_SIGNAL, self.OSC.INPUT_CLOCK),
            (self.CLOCK.OUTPUT_SIGNAL, self.NOISE.INPUT_CLOCK),
            (self.OSC.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_A),
            (self.NOISE.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_B),
            (self.ADD.OUTPUT_SIGNAL, self.BANDS.INPUT_SIGNAL),
            (self.BANDS.OUTPUT_SIGNAL, self.LOG.INPUT_SIGNAL),
            (self.LOG.OUTPUT_SIGNAL, self.SINK.INPUT_SIGNAL),
        )


def main(argv: list[str] | None = None) -> None:
    args = parse_args("Band power of synthetic alpha and beta rhythms.", argv)
    _backend.resolve(args.backend, args.device)
    ez.run(BANDPOWER=BandPowerSystem(BandPowerSystemSettings(
        seconds=args.seconds, backend=args.backend, device=args.device)))


if __name__ == "__main__":
    main()
