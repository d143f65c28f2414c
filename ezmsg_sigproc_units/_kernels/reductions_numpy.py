"""NumPy natives of ``reductions``, chosen there in one visible ``is_numpy_namespace`` branch."""

from __future__ import annotations

import numpy as np


def sort_unstable(x: np.ndarray, axis: int) -> np.ndarray:
    """Ascending sort along ``axis``, NaN last. array_api_compat's sort is stable (NumPy's
    radix/tim sort); the default introsort gives the same values 2-4x faster, and stability
    is irrelevant to a median. (np.median's partition was slower than sorting in timings of
    8-512 samples x 1-512 lanes; np.nanmedian slower still.)"""
    return np.sort(x, axis=axis)
