"""Band power of synthetic alpha and beta rhythms: a BCI-style pipeline.

    Clock -> Oscillator (10 Hz on ch0/ch2, 22 Hz on ch1/ch3) --\\
          -> WhiteNoise ------------------------------------> Add -> ButterworthFilter
             -> BandPower -> Log -> BandTable

    python -m examples.bandpower --seconds 3 [--backend numpy|torch|jax|mlx] [--device D]

A band-pass (1-40 Hz, order 4) removes what no band looks at; BandTable prints, about once per
second, the latest log10 band power of every channel in the alpha (8-12 Hz) and beta (18-30 Hz)
bands: ch0/ch2 are high in alpha, ch1/ch3 in beta.
"""

from __future__ import annotations

import sys

import ezmsg.core as ez
from ezmsg.baseproc import Clock, ClockSettings

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilter, ButterworthFilterSettings
from ezmsg_sigproc_units.math.add import Add
from ezmsg_sigproc_units.math.log import Log, LogSettings
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
from ezmsg_sigproc_units.synth import Oscillator, OscillatorSettings, WhiteNoise, WhiteNoiseSettings

from .common import ExampleSettings, StatsSink, example_main, sink_settings

FS = 500.0
BANDS = [(8.0, 12.0), (18.0, 30.0)]


class BandTable(StatsSink):
    """StatsSink that prints a per-band, per-channel table instead of summary statistics."""

    def summary_line(self, now: float) -> str:
        msg = self.STATE.last
        if msg.data.shape[0] == 0:
            return f"{self.progress_line(now)}\n  (no complete window yet)"
        values = _backend.to_host(msg.data[-1, ...])  # latest window: (band, ch), host for print
        rows = [f"  {lo:>4.0f}-{hi:<4.0f}Hz " + " ".join(f"{v:+7.2f}" for v in values[i])
                for i, (lo, hi) in enumerate(BANDS)]
        return "\n".join([f"{self.progress_line(now)}\n  log10 band power, ch0..ch3", *rows])


class BandPowerSystemSettings(ExampleSettings):
    noise: float = 0.5
    """Standard deviation of the white noise added to the rhythms. Default 0.5."""
    band_pass: bool = True
    """Band-pass 1-40 Hz (Butterworth, order 4) before the band power. Default True."""


class BandPowerSystem(ez.Collection):
    SETTINGS = BandPowerSystemSettings

    CLOCK = Clock()
    OSC = Oscillator()
    NOISE = WhiteNoise()
    ADD = Add()
    FILTER = ButterworthFilter()
    BANDS = BandPower()
    LOG = Log()
    SINK = BandTable()

    def configure(self) -> None:
        s = self.SETTINGS
        where = dict(backend=s.backend, device=s.device)
        # 10 ticks/s = 50-sample blocks = one hop: every block completes one window
        self.CLOCK.apply_settings(ClockSettings(dispatch_rate=10.0))
        self.OSC.apply_settings(OscillatorSettings(fs=FS, freq=[10.0, 22.0, 10.0, 22.0], **where))
        self.NOISE.apply_settings(WhiteNoiseSettings(fs=FS, n_ch=4, scale=s.noise, seed=1, **where))
        self.FILTER.apply_settings(ButterworthFilterSettings(
            axis="time", order=4 if s.band_pass else 0, cuton=1.0, cutoff=40.0, coef_type="sos"))
        self.BANDS.apply_settings(BandPowerSettings(
            spectrogram_settings=SpectrogramSettings(window_dur=0.5, window_shift=0.1,
                                                     transform="REL_POWER"),
            bands=BANDS))
        self.LOG.apply_settings(LogSettings(base=10.0, clip_zero=True))
        self.SINK.apply_settings(sink_settings(s))

    def network(self) -> ez.NetworkDefinition:
        return (
            (self.CLOCK.OUTPUT_SIGNAL, self.OSC.INPUT_CLOCK),
            (self.CLOCK.OUTPUT_SIGNAL, self.NOISE.INPUT_CLOCK),
            (self.OSC.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_A),
            (self.NOISE.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_B),
            (self.ADD.OUTPUT_SIGNAL, self.FILTER.INPUT_SIGNAL),
            (self.FILTER.OUTPUT_SIGNAL, self.BANDS.INPUT_SIGNAL),
            (self.BANDS.OUTPUT_SIGNAL, self.LOG.INPUT_SIGNAL),
            (self.LOG.OUTPUT_SIGNAL, self.SINK.INPUT_SIGNAL),
        )


SETTINGS = BandPowerSystemSettings
SYSTEM = BandPowerSystem


def main(argv: list[str] | None = None) -> int:
    return example_main(SYSTEM, SETTINGS, "bandpower", argv)


if __name__ == "__main__":
    sys.exit(main())
