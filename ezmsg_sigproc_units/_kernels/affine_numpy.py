"""NumPy native of ``affine``: a product whose every BLAS call stays on one thread.

OpenBLAS spreads a product over its threads above ``linalg_numpy.ONE_THREAD_MNK``
multiply-accumulates; on a loaded machine those threads wait on each other (a 30 x 256 chunk
times a 256 x 256 matrix took 16-32 ms instead of ~33 us). Larger products are cut into
column blocks of the weights (contiguous copies made once by :func:`column_blocks`: 5 us
faster than strided views at 30 x 256), and rows when a chunk is long, written into one
output. Each output element is the same dot product as in one call.
"""

from __future__ import annotations

import numpy as np

from .linalg_numpy import ONE_THREAD_MNK

Blocks = list[tuple[int, int, np.ndarray]]


def column_blocks(w: np.ndarray, n_samples: int) -> Blocks | None:
    """``(start, stop, w[:, start:stop] contiguous)`` column blocks of ``w`` (``(k, n)``)
    for chunks of about ``n_samples`` rows, or None when such a product is one call."""
    k, n = w.shape
    if n_samples * k * n <= ONE_THREAD_MNK:
        return None
    cols = min(n, max(16, ONE_THREAD_MNK // max(n_samples * k, 1)))
    return [(j, min(j + cols, n), np.ascontiguousarray(w[:, j:j + cols]))
            for j in range(0, n, cols)]


def matmul(x: np.ndarray, w: np.ndarray, blocks: Blocks | None = None) -> np.ndarray:
    """``x @ w`` for ``x`` ``(..., k)`` and ``w`` ``(k, n)``, every call on one BLAS thread.
    ``blocks``: :func:`column_blocks` of ``w`` (None: views of ``w`` are cut here)."""
    k, n = w.shape
    m = x.size // k if k else 0
    if m * k * n <= ONE_THREAD_MNK:
        return x @ w
    if blocks is None:
        blocks = column_blocks(w, m)
    rows = max(1, ONE_THREAD_MNK // (k * (blocks[0][1] - blocks[0][0])))
    x2 = x if x.ndim == 2 else x.reshape(m, k)
    out = np.empty((m, n), dtype=np.result_type(x, w))
    matmul_ = np.matmul
    if rows >= m:  # the whole chunk per column block (the common case)
        for c0, c1, wb in blocks:
            matmul_(x2, wb, out=out[:, c0:c1])
    else:
        for c0, c1, wb in blocks:
            for i in range(0, m, rows):
                matmul_(x2[i:i + rows], wb, out=out[i:i + rows, c0:c1])
    return out if x.ndim == 2 else out.reshape(x.shape[:-1] + (n,))


def affine(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None,
           blocks: Blocks | None = None) -> np.ndarray:
    """:func:`matmul` plus ``bias`` (``(1, n)`` or None), added in place into the product's
    own fresh output (one allocation fewer than ``x @ w + bias``)."""
    y = matmul(x, w, blocks)
    if bias is not None:
        y += bias
    return y
