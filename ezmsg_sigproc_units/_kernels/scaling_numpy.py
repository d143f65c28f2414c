"""NumPy natives of ``scaling``: the rolling scaler's batch sums written into one row with
``out=`` reductions, skipping the masking when every entry is kept (a host check, free on
NumPy): 2-3x faster than the portable concat-and-sum at 200 x 8 and 30 x 256."""

from __future__ import annotations

import numpy as np


def batch_row(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``scaling.batch_row``: ``(1, 3 C)`` ``[n, sum x, sum x^2]`` over the kept entries."""
    T, C = x.shape
    out = np.empty((1, 3 * C), dtype=x.dtype)
    if keep.all():
        out[0, :C] = T
        xv = x
    else:
        np.add.reduce(keep, axis=0, out=out[0, :C], dtype=x.dtype)
        xv = np.where(keep, x, 0.0).astype(x.dtype, copy=False)
    np.add.reduce(xv, axis=0, out=out[0, C : 2 * C])
    np.einsum("tc,tc->c", xv, xv, out=out[0, 2 * C :])
    return out
