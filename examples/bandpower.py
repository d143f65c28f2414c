"""Band power of synthetic EEG (alpha and beta bursts): a BCI-style pipeline.

    EEGSynth (pink background + alpha 10 Hz + beta 20 Hz bursts + 50 Hz line noise)
        -> ButterworthFilter -> BandPower -> Log -> BandTable

    python -m examples.bandpower --seconds 3 [--backend numpy|torch|jax|mlx] [--device D]

A band-pass (1-40 Hz, order 4) removes the line noise and the drift no band looks at;
BandTable prints, about once per second, the latest log10 relative band power of every
channel in the alpha (8-12 Hz) and beta (18-30 Hz) bands. Alpha is the stronger rhythm
(amplitude 10 against 4); each channel's bursts wax and wane at their own rate.
"""

from __future__ import annotations

import sys

import ezmsg.core as ez

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilter, ButterworthFilterSettings
from ezmsg_sigproc_units.math.log import Log, LogSettings
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
from ezmsg_sigproc_units.synth import EEGSynth, EEGSynthSettings

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
        return "\n".join([f"{self.progress_line(now)}\n  log10 relative band power, by channel",
                          *rows])


class BandPowerSystemSettings(ExampleSettings):
    n_ch: int = 4
    """EEG channels. Default 4."""
    seed: int = 1
    """Seed of the EEG's pink background. Default 1."""
    band_pass: bool = True
    """Band-pass 1-40 Hz (Butterworth, order 4) before the band power. Default True."""


class BandPowerSystem(ez.Collection):
    SETTINGS = BandPowerSystemSettings

    EEG = EEGSynth()
    FILTER = ButterworthFilter()
    BANDS = BandPower()
    LOG = Log()
    SINK = BandTable()

    def configure(self) -> None:
        s = self.SETTINGS
        # 10 ticks/s = 50-sample blocks = one hop: every block completes one window
        self.EEG.apply_settings(EEGSynthSettings(fs=FS, n_ch=s.n_ch, dispatch_rate=10.0,
                                                 seed=s.seed, backend=s.backend,
                                                 device=s.device))
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
            (self.EEG.OUTPUT_SIGNAL, self.FILTER.INPUT_SIGNAL),
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
