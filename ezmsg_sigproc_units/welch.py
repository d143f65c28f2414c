"""Welch power spectral density of a stream: averaged periodograms of overlapping segments.

Each output row is ``scipy.signal.welch`` of one block of signal that spans ``n_segments``
segments of ``segment_dur`` seconds spaced ``segment_shift`` apart (consecutive blocks do not
share segments). Streaming is exact: any chunking gives the same rows. Output dims: the input's
with ``time`` now counting blocks (stamped by their first segment) and the frequency axis
(``freq``) added after it, e.g. ``(time, ch)`` -> ``(time, freq, ch)``.

Matches ``scipy.signal.welch(x, fs, window=<the same symmetric table>, nperseg=n,
noverlap=n - hop, detrend=False, scaling=scaling, average="mean")`` on each block.
"""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.baseproc import CompositeProcessor
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import materialize
from ._units import WindowedUnit
from ._validate import check_count, check_member, check_real
from .aggregate import AggregateSettings, AggregateTransformer, AggregationFunction
from .spectrogram import RenameDimSettings, RenameDimTransformer
from .spectrum import SpectralTransform, SpectrumSettings, SpectrumTransformer, WindowFunction
from .window import WindowSettings, WindowTransformer


class WelchSettings(ez.Settings):
    segment_dur: float = 1.0
    """Length of each segment, in seconds. Default 1.0."""

    segment_shift: float | None = None
    """Hop between segments, in seconds; None is half a segment (50 % overlap, as SciPy)."""

    n_segments: int = 4
    """Segments averaged into one output row. Default 4."""

    window: WindowFunction = WindowFunction.HANNING
    """Taper of each segment (symmetric form). Default HANNING."""

    scaling: str = "density"
    """"density" (V**2/Hz) or "spectrum" (V**2), as in scipy.signal.welch. Default
    "density"."""

    def __post_init__(self) -> None:
        check_real("segment_dur", self.segment_dur)
        if self.segment_dur <= 0:
            raise ValueError(f"segment_dur: must be > 0 s, got {self.segment_dur!r}")
        if self.segment_shift is not None:
            check_real("segment_shift", self.segment_shift)
            if not 0 < self.segment_shift <= self.segment_dur:
                raise ValueError(f"segment_shift: must be in (0, segment_dur], got "
                                 f"{self.segment_shift!r}")
        check_count("n_segments", self.n_segments)
        object.__setattr__(self, "window", check_member(WindowFunction, "window", self.window))
        if self.scaling not in ("density", "spectrum"):
            raise ValueError(f"scaling: 'density' or 'spectrum', got {self.scaling!r}")


class WelchTransformer(CompositeProcessor[WelchSettings, AxisArray, AxisArray]):
    """Segments -> periodograms -> blocks of ``n_segments`` -> mean over each block."""

    @staticmethod
    def _initialize_processors(settings: WelchSettings) -> dict:
        shift = settings.segment_shift or settings.segment_dur / 2
        block = settings.n_segments * shift
        return {
            "segments": WindowTransformer(WindowSettings(
                axis="time", newaxis="seg", window_dur=settings.segment_dur,
                window_shift=shift, zero_pad_until="none")),
            "periodogram": SpectrumTransformer(SpectrumSettings(
                axis="time", window=settings.window, transform=SpectralTransform.POWER,
                scaling=settings.scaling)),
            "seg_as_time": RenameDimTransformer(RenameDimSettings(old="seg", new="time")),
            "blocks": WindowTransformer(WindowSettings(
                axis="time", newaxis="block", window_dur=block, window_shift=block,
                zero_pad_until="none")),
            "average": AggregateTransformer(AggregateSettings(
                axis="time", operation=AggregationFunction.MEAN)),
            "block_as_time": RenameDimTransformer(RenameDimSettings(old="block", new="time")),
        }

    def _post_process(self, result: AxisArray | None) -> AxisArray | None:
        if result is not None:
            materialize(result.data)
        return result


class Welch(WindowedUnit[WelchSettings, AxisArray, AxisArray, WelchTransformer]):
    SETTINGS = WelchSettings
