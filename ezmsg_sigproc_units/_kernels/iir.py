"""Streaming IIR filtering as a block state-space system (every backend, matrix products only).

Shapes: ``x`` is ``(T, C)``, time first, ``T == 0`` allowed; the state ``z`` is ``(n, C)``;
``iir_filter`` returns ``y`` ``(T, C)`` and the new state. Channels are the columns of every
product, so a NaN stays in its channel. Any chunking gives ``scipy.signal.sosfilt`` of the
whole signal to float rounding, non-finite input included (``nonfinite.guard_iir``: NaN from
a channel's first non-finite input on, for ever).

Plan (``iir_plan.iir_plan``; host design in ``iir_design``): the SOS cascade as one system
``z' = A z + B x, y = C z + D x`` of order ``n``. Blocks of ``L`` samples:
``y_k = H x_k + O s_k``, ``s_k+1 = A^L s_k + S x_k`` (``H`` the Toeplitz impulse response,
``O`` rows ``C A^t``, ``S`` columns ``A^(L-1-j) B``). A chunk's whole blocks are one batched
product; their states come from one product with ``states`` (up to 16 blocks) or a log-depth
scan over ``A^(L 2^d)``; a shorter tail, and any chunk shorter than ``L``, is one product
``G_r [z; x]``. The portable kernel is compiled once per chunk shape where ``_backend`` has a
compiler (JAX), guard included: one dispatch per chunk. NumPy runs its native implementation
(``iir_numpy``: a sequential block loop in preallocated buffers, BLAS kept on one thread).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._backend import compile_kernel, dtype_name, is_numpy_namespace, runs_synchronously, zeros
from . import iir_numpy
from .iir_design import DIRECT_BLOCKS
from .iir_plan import IIRMatrices, IIRPlan
from .linalg import matmul
from .nonfinite import guard_iir, host_all_finite

__all__ = ["IIRPlan", "iir_filter", "iir_initial_state", "iir_plan", "iir_zero_state",
           "zi_from_scipy", "zi_to_scipy"]


def iir_plan(xp: Any, sos: np.ndarray, *, dtype: Any, device: Any, block: int = 32) -> IIRPlan:
    """Plan for filtering with ``sos`` (``(n_sections, 6)``, float64 host) in ``dtype`` on
    ``device`` (its matrices built there now). ``ValueError`` for malformed coefficients.
    A filter whose own poles lie on or outside the unit circle is accepted, as SciPy accepts
    it: its output grows as the filter's does, in every precision (the float32 safeguards
    are for stable designs that rounding would destabilise)."""
    sos = np.array(sos, dtype=np.float64)
    if sos.ndim != 2 or sos.shape[1] != 6 or sos.shape[0] < 1:
        raise ValueError(f"sos: expected shape (n_sections, 6), got {sos.shape}")
    if not np.all(np.isfinite(sos)) or np.any(sos[:, 3] == 0.0):
        raise ValueError("sos: coefficients must be finite with a0 != 0")
    if not isinstance(block, int) or block < 1:
        raise ValueError(f"block: must be a positive int, got {block!r}")
    return IIRPlan(sos, block, dtype_name(dtype)).build(xp, device)


def iir_zero_state(xp: Any, plan: IIRPlan, n_channels: int, like: Any = None) -> Any:
    """Zero state ``(n, C)`` in the plan's dtype, on its device (or ``like``'s)."""
    m = plan.on(xp, like)
    return zeros(xp, (m.n, n_channels), dtype=m.dtype, device=m.device)


def iir_initial_state(xp: Any, plan: IIRPlan, x0: Any) -> Any:
    """State ``(n, C)`` of the filter at rest under the constant input ``x0`` (``(C,)``): the
    ``scipy.signal.sosfilt_zi(sos) * x0`` convention."""
    return plan.on(xp, x0).steady * xp.reshape(x0, (1, x0.shape[0]))


def zi_to_scipy(xp: Any, plan: IIRPlan, z: Any) -> Any:
    """Our state ``(n, C)`` -> scipy ``sosfilt`` ``zi`` ``(n_sections, 2, C)``."""
    return xp.reshape(plan.on(xp, z).to_scipy @ z, (plan.n_sections, 2, z.shape[1]))


def zi_from_scipy(xp: Any, plan: IIRPlan, zi: Any) -> Any:
    """Scipy ``zi`` ``(n_sections, 2, C)`` -> our state ``(n, C)``."""
    return plan.on(xp, zi).from_scipy @ xp.reshape(zi, (2 * plan.n_sections, zi.shape[2]))


def iir_filter(xp: Any, plan: IIRPlan, x: Any, z: Any, *,
               native: bool = True) -> tuple[Any, Any]:
    """Filter ``x`` ``(T, C)`` from state ``z`` ``(n, C)``: ``(y, z_next)``, exact streaming.
    ``native=False`` runs the portable kernel on NumPy too (the reference of the native)."""
    T, C = x.shape
    if T == 0 or C == 0:  # nothing to compute (some BLAS reject empty batches)
        return x, z
    mats = plan.on(xp, x)
    if native and is_numpy_namespace(xp):
        return iir_numpy.filter_numpy(xp, mats, x, z)
    kernel, arrays = _portable(mats, T)
    if runs_synchronously(xp, x):  # torch-CPU: unguarded, then one flag read on the host
        y, z1 = compile_kernel(xp, kernel.args[0])(arrays, x, z)
        if host_all_finite(xp, z1) or host_all_finite(xp, x):  # NaN state: NaN stays
            return y, z1
    return compile_kernel(xp, kernel)(arrays, x, z)


def _portable(mats: IIRMatrices, T: int) -> tuple[Any, tuple]:
    """The guarded portable kernel for a chunk of ``T`` samples and the matrices it takes."""
    nb = T // mats.block
    if nb == 0:
        return _GUARDED_TAIL, (mats.tail(T),)
    tail = mats.tail(T - nb * mats.block)
    if nb <= DIRECT_BLOCKS:
        return _GUARDED_FEW, (mats.hs, mats.obs, mats.states, tail)
    return _GUARDED_SCAN, (mats.hs, mats.obs, mats.jumps(nb.bit_length()), tail)


def _scan(xp: Any, mats: tuple, x: Any, z: Any) -> tuple[Any, Any]:
    """Whole blocks (and a tail shorter than a block). ``mats``: ``([H; S], O, jumps, G_r)``,
    ``jumps`` ``A^(L 2^d)`` for the ``ceil(log2(nb + 1))`` levels of the scan; ``G_r``
    unused when r == 0."""
    hs, obs, jumps, tail = mats
    T, C = x.shape
    L = hs.shape[1]
    n = hs.shape[0] - L
    nb = T // L
    xb = xp.reshape(x[: nb * L, ...], (nb, L, C))
    w = matmul(xp, hs, xb)  # (nb, L + n, C): zero-state outputs, then S x per block
    m = nb + 1
    p = xp.concat([xp.reshape(z, (n, 1, C)), xp.permute_dims(w[:, L:, :], (1, 0, 2))], axis=1)
    step = 1
    for jump in jumps:  # p[:, k] = state at the start of block k (p[:, nb]: after the last)
        q = xp.reshape(matmul(xp, jump, xp.reshape(p, (n, m * C))), (n, m, C))
        p = xp.concat([p[:, :step, :], p[:, step:, :] + q[:, : m - step, :]], axis=1)
        step *= 2
    o = xp.reshape(matmul(xp, obs, xp.reshape(p, (n, m * C))), (L, m, C))
    y = xp.reshape(w[:, :L, :] + xp.permute_dims(o[:, :nb, :], (1, 0, 2)), (nb * L, C))
    z = p[:, nb, :]
    if T == nb * L:
        return y, z
    yr, z = _tail(xp, (tail,), x[nb * L :, ...], z)
    return xp.concat([y, yr], axis=0), z


def _few_blocks(xp: Any, mats: tuple, x: Any, z: Any) -> tuple[Any, Any]:
    """Up to ``DIRECT_BLOCKS`` whole blocks: all block states in one product with a slice
    of ``states`` (fewer operations than the scan, for eager backends). ``mats``:
    ``([H; S], O, states, G_r)``."""
    hs, obs, states, tail = mats
    T, C = x.shape
    L = hs.shape[1]
    n = hs.shape[0] - L
    nb = T // L
    w = matmul(xp, hs, xp.reshape(x[: nb * L, ...], (nb, L, C)))
    v = xp.concat([z, xp.reshape(w[:, L:, :], (nb * n, C))], axis=0)
    p = matmul(xp, states[: (nb + 1) * n, : (nb + 1) * n], v)  # (nb + 1) states
    y = w[:, :L, :] + matmul(xp, obs, xp.reshape(p[: nb * n, ...], (nb, n, C)))
    y, z = xp.reshape(y, (nb * L, C)), p[nb * n :, ...]
    if T == nb * L:
        return y, z
    yr, z = _tail(xp, (tail,), x[nb * L :, ...], z)
    return xp.concat([y, yr], axis=0), z


def _tail(xp: Any, mats: tuple, x: Any, z: Any) -> tuple[Any, Any]:
    """A chunk shorter than one block: one product with ``G_r`` (``mats == (G_r,)``)."""
    r = x.shape[0]
    out = matmul(xp, mats[0], xp.concat([z, x], axis=0))
    return out[:r, ...], out[r:, ...]


# The compiled units: each kernel under the non-finite guard (stable objects: the compiler
# caches per function).
_GUARDED_TAIL = functools.partial(guard_iir, _tail)
_GUARDED_FEW = functools.partial(guard_iir, _few_blocks)
_GUARDED_SCAN = functools.partial(guard_iir, _scan)
