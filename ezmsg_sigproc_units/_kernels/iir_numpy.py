"""The NumPy native implementation of ``iir.iir_filter``: the same block products as the
portable kernel, with the block states from a sequential loop of one small product per block
in one preallocated buffer, and every BLAS call kept on one thread (``linalg_numpy``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .iir_plan import IIRMatrices
from .linalg_numpy import ONE_THREAD_MNK, all_finite, mm
from .nonfinite import guard_iir


def filter_numpy(xp: Any, mats: IIRMatrices, x: np.ndarray,
                 z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``iir_filter`` on NumPy, non-finite input included. NumPy has no device, so a host
    check costs no synchronisation: the chunk runs unguarded, and only when its new state
    is not finite *and* it holds a non-finite input (a rare chunk) does it run again under
    ``nonfinite.guard_iir``; a NaN state alone already makes its channel NaN."""
    y, z1 = _filter(xp, mats, x, z)
    if all_finite(z1) or all_finite(x):
        return y, z1
    with np.errstate(invalid="ignore"):  # inf * 0 is meant to give NaN there
        return guard_iir(_filter, xp, mats, x, z)


def _tail(mats: IIRMatrices, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = x.shape[0]
    g = mats.tail(r)
    if g.shape[0] * g.shape[1] * x.shape[1] <= ONE_THREAD_MNK:
        out = g @ np.concatenate([z, x])
    else:
        out = np.empty((r + mats.n, x.shape[1]), dtype=x.dtype)
        mm(g, np.concatenate([z, x]), out)
    return out[:r], out[r:]


def _filter(xp: Any, mats: IIRMatrices, x: np.ndarray,
            z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block states from ``[s_k+1] = [I, A^L] [S x_k; s_k]`` in one buffer holding
    ``[S x_k; s_k; x_k]`` per block, so outputs are one product ``[O, H] [s_k; x_k]``."""
    T, C = x.shape
    L, n = mats.block, mats.n
    nb = T // L
    if nb == 0:
        return _tail(mats, x, z)
    s_in, step, out = mats.numpy
    buf = np.empty((nb + 1, 2 * n + L, C), dtype=x.dtype)
    buf[:nb, 2 * n :] = x[: nb * L].reshape(nb, L, C)
    buf[0, n : 2 * n] = z
    mm(s_in, buf[:nb, 2 * n :], buf[:nb, :n])  # S x_k
    for k in range(nb):
        np.matmul(step, buf[k, : 2 * n], out=buf[k + 1, n : 2 * n])
    y = np.empty((T, C), dtype=x.dtype)
    mm(out, buf[:nb, n:], y[: nb * L].reshape(nb, L, C))  # O s_k + H x_k
    z = buf[nb, n : 2 * n]
    if T == nb * L:
        return y, z.copy()
    y[nb * L :], z = _tail(mats, x[nb * L :], z)
    return y, z
