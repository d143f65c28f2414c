"""NumPy native of ``fir``'s direct method for long filters on few columns: ``np.convolve``
per channel and kernel. The Toeplitz products cost ``T * (T + ntaps)`` multiply-adds per
column in skinny matrix products; ``np.convolve`` costs ``T * ntaps`` in a tight loop.
Measured (float32, 3 Kaiser kernels of several hundred taps): 200 x 8 chunks 957 -> about
250 us; with hundreds of columns the one product per block wins again (30 x 256: the
products 1.0 ms, the loop about 3.5 ms), hence ``CONVOLVE_MAX_COLUMNS``."""

from __future__ import annotations

import numpy as np

CONVOLVE_MIN_TAPS = 128
"""Shorter filters keep the block products (their Toeplitz tables are small)."""

CONVOLVE_MAX_COLUMNS = 32
"""Channels times kernels up to which the per-column loop runs."""


def prefers_convolve(ntaps: int, n_columns: int) -> bool:
    return ntaps >= CONVOLVE_MIN_TAPS and n_columns <= CONVOLVE_MAX_COLUMNS


def convolve_bank(taps: np.ndarray, tail: np.ndarray, x: np.ndarray) -> tuple:
    """``(y, new_tail)`` as ``fir._direct_bank``: ``taps`` ``(ntaps, K)`` float64 host,
    ``tail`` ``(ntaps - 1, C)``, ``x`` ``(T, C)``; ``y`` ``(T, C, K)`` in ``x``'s dtype."""
    b = taps.astype(x.dtype, copy=False)
    e = np.concatenate([tail, x], axis=0)
    T, C = x.shape
    y = np.empty((T, C, b.shape[1]), dtype=x.dtype)
    for c in range(C):
        col = np.ascontiguousarray(e[:, c])
        for k in range(b.shape[1]):
            y[:, c, k] = np.convolve(col, b[:, k], mode="valid")
    return y, e[T:, ...]
