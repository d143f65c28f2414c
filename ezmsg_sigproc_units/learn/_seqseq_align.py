"""Host arithmetic of ``learn.process.seqseqsampler``: which samples of a buffered stream fall
in a trigger's window ``[lo, hi)`` and how two such ranges are made the same length.

Only timestamps (host metadata) are read here; the data stays in the buffers
(``_sampler_history.SampleHistory``) on its device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_TOL = 1e-9
"""Tolerance, in samples, for a window edge that falls on a sample."""


def first_at_or_after(hist: Any, t: float) -> int:
    """Global index of the first sample of ``hist`` at or after time ``t``."""
    if hist.linear:
        i0, t0 = hist.ref
        return max(hist.valid_first, math.ceil((t - t0) / hist.gain + i0 - _TOL))
    k = int(np.searchsorted(hist.times, t - _TOL * spacing(hist), side="left"))
    return max(hist.valid_first, hist.first + k)


def times(hist: Any, start: int, stop: int) -> np.ndarray:
    """Timestamps of global samples ``start:stop``."""
    if hist.linear:
        i0, t0 = hist.ref
        return t0 + (np.arange(start, stop) - i0) * hist.gain
    return hist.times[start - hist.first:stop - hist.first]


def spacing(hist: Any) -> float:
    """The sample period (a LinearAxis' gain, else the median positive timestamp step)."""
    if hist.linear:
        return float(hist.gain)
    dt = np.diff(hist.times)
    dt = dt[dt > 0]
    return float(np.median(dt)) if dt.size else 0.0


def span(hist: Any) -> tuple[float, float]:
    """Times of the oldest kept and the newest sample."""
    return hist.time_of(hist.valid_first), hist.time_of(hist.end - 1)


def best_offset(longer: np.ndarray, shorter: np.ndarray) -> tuple[int, float]:
    """The shift of ``shorter`` along ``longer`` with the smallest mean absolute time
    difference, and that difference (the first shift wins ties)."""
    n = shorter.shape[0]
    costs = [float(np.mean(np.abs(longer[k:k + n] - shorter)))
             for k in range(longer.shape[0] - n + 1)]
    k = int(np.argmin(costs))
    return k, costs[k]
