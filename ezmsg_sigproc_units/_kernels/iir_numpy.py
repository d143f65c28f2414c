"""The NumPy native path of the IIR kernel (``native("iir_filter", "numpy")``) and NumPy
products that stay on one BLAS thread (``native("matmul", "numpy")``). Same products as the
portable kernel in ``iir``; the block states come from a sequential loop in one buffer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._backend import register_native

if TYPE_CHECKING:  # pragma: no cover
    from .iir import IIRPlan

# OpenBLAS runs a product on several threads once m*n*k exceeds 2^18; with every core busy
# (other processes of a pipeline) those threads wait on each other and a 60 us product took
# 17 ms. Every product here stays below that size (channel groups when C is large).
_ONE_THREAD_MNK = 1 << 18


def _mm(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``np.matmul(a, b, out=out)``, split over columns so that each BLAS call stays on one
    thread. ``a`` is 2-D; ``b`` and ``out`` are ``(..., k, C)`` and ``(..., m, C)``."""
    C = b.shape[-1]
    step = max(1, _ONE_THREAD_MNK // (a.shape[0] * a.shape[1]))
    if C <= step:
        np.matmul(a, b, out=out)
        return
    for j in range(0, C, step):
        np.matmul(a, b[..., j : j + step], out=out[..., j : j + step])


@register_native("matmul", "numpy")
def _np_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape[0] * a.shape[1] * b.shape[-1] <= _ONE_THREAD_MNK:
        return a @ b
    out = np.empty(b.shape[:-2] + (a.shape[0], b.shape[-1]), dtype=np.result_type(a, b))
    _mm(a, b, out)
    return out


def _np_tail(plan: IIRPlan, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = x.shape[0]
    g = plan.tails[r]
    if g.shape[0] * g.shape[1] * x.shape[1] <= _ONE_THREAD_MNK:
        out = g @ np.concatenate([z, x])
    else:
        out = np.empty((r + plan.n, x.shape[1]), dtype=x.dtype)
        _mm(g, np.concatenate([z, x]), out)
    return out[:r], out[r:]


@register_native("iir_filter", "numpy")
def _np_filter(xp: Any, plan: IIRPlan, x: Any, z: Any) -> tuple[Any, Any]:
    """NumPy: the same block products, with the block states from a sequential loop of one
    small product per block (``[s_k+1] = [I, A^L] [S x_k; s_k]``) in one preallocated buffer
    holding ``[S x_k; s_k; x_k]`` per block, so outputs are one product ``[O, H] [s_k; x_k]``."""
    T, C = x.shape
    L, n = plan.block, plan.n
    nb = T // L
    if nb == 0:
        return _np_tail(plan, x, z) if T else (x, z)
    np_plan = plan.numpy_only
    buf = np.empty((nb + 1, 2 * n + L, C), dtype=x.dtype)
    buf[:nb, 2 * n :] = x[: nb * L].reshape(nb, L, C)
    buf[0, n : 2 * n] = z
    _mm(np_plan[0], buf[:nb, 2 * n :], buf[:nb, :n])  # S x_k
    step = np_plan[1]
    for k in range(nb):
        np.matmul(step, buf[k, : 2 * n], out=buf[k + 1, n : 2 * n])
    y = np.empty((T, C), dtype=x.dtype)
    _mm(np_plan[2], buf[:nb, n:], y[: nb * L].reshape(nb, L, C))  # O s_k + H x_k
    z = buf[nb, n : 2 * n]
    if T == nb * L:
        return y, z.copy()
    y[nb * L :], z = _np_tail(plan, x[nb * L :], z)
    return y, z
