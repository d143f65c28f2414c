"""NumPy native of ``affine``: a product whose every BLAS call stays on one thread.

OpenBLAS spreads a product over its threads above about ``linalg_numpy.ONE_THREAD_MNK``
multiply-accumulates; on a loaded machine those threads wait on each other (a 30 x 256 chunk
times a 256 x 256 matrix took 16-32 ms instead of ~40 us). Larger products are cut into
column (or row and column) blocks written into one output.
"""

from __future__ import annotations

import numpy as np

from .linalg_numpy import ONE_THREAD_MNK


def matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` for ``x`` ``(..., k)`` and ``w`` ``(k, n)``: the same numbers as one call
    (each output element is one dot product either way)."""
    k, n = w.shape
    m = x.size // k if k else 0
    if m * k * n <= ONE_THREAD_MNK:
        return x @ w
    x2 = x.reshape(m, k)
    out = np.empty((m, n), dtype=np.result_type(x, w))
    cols = ONE_THREAD_MNK // (m * k)
    if cols >= 16:  # whole chunk, a few columns of w per call (w block stays in cache)
        rows = m
    else:
        cols = min(n, 64)
        rows = max(1, ONE_THREAD_MNK // (k * cols))
    for j in range(0, n, cols):
        for i in range(0, m, rows):
            np.matmul(x2[i:i + rows], w[:, j:j + cols], out=out[i:i + rows, j:j + cols])
    return out.reshape(x.shape[:-1] + (n,))


def affine(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """:func:`matmul` plus ``bias`` (``(1, n)`` or None), added in place into the product's
    own fresh output (one allocation fewer than ``x @ w + bias``)."""
    y = matmul(x, w)
    if bias is not None:
        y += bias
    return y
