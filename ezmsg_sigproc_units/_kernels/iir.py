"""Streaming IIR filtering as a block state-space system (every backend, matrix products only).

Shapes: ``x`` is ``(T, C)``, time first, ``T == 0`` allowed; the state ``z`` is ``(n, C)``;
``iir_filter`` returns ``y`` ``(T, C)`` and the new state. Channels are the columns of every
product, so a NaN stays in its channel (within it, products with the block's zero
coefficients spread it over its whole block, up to ``L - 1`` samples early).

Plan (host, float64, once per coefficients/dtype/device): the SOS cascade becomes one system
``z' = A z + B x, y = C z + D x`` of order ``n`` (2 per second-order section, 1 per first-order
one) in coordinates chosen for float32: each section balanced on its own, and, where it is well
determined and rounds better (``rounding_error``), the whole cascade balanced with square-root
Gramians. In scipy's own (transposed direct form II) coordinates a float32 cascade loses
1e-4..1 of relative accuracy on narrow or wide-stop designs because rounding moves the poles;
these coordinates keep it near 1e-7..1e-6 (``tests/_kernels/test_iir.py`` pins this).

Blocks of ``L`` samples: ``y_k = H x_k + O s_k``, ``s_k+1 = A^L s_k + S x_k`` (``H`` the
Toeplitz impulse response, ``O`` rows ``C A^t``, ``S`` columns ``A^(L-1-j) B``). A chunk's
whole blocks are one batched product; their states come from one product with ``states`` (up
to 16 blocks) or a log-depth scan over ``A^(L 2^d)``; a shorter tail, and any chunk shorter
than ``L``, is one product ``G_r [z; x]``. NumPy has a native path (a sequential block loop
in preallocated buffers, BLAS kept on one thread). Any chunking gives
``scipy.signal.sosfilt`` of the whole signal to float rounding.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._backend import (
    asarray,
    backend_name,
    device_of,
    dtype_name,
    native,
    zeros,
)

_SCAN_LEVELS = 40  # jumps A^(L 2^d) for chunks up to 2^40 blocks
_DIRECT_BLOCKS = 16  # chunks of up to this many blocks get their states in one product


@dataclass(frozen=True)
class IIRPlan:
    """Device matrices of one SOS cascade for one (dtype, device); picklable. ``n`` state
    size, ``block`` ``L``; ``tails[r]`` ``G_r`` ``(r + n, n + r)`` (rows ``[:r]`` give ``y``,
    ``[r:]`` the state); ``hs`` ``[H; S]`` ``(L + n, L)``; ``obs`` ``O`` ``(L, n)``; ``jumps``
    ``A^(L 2^d)``; ``states`` ``((Q + 1) n, (Q + 1) n)``, block states from ``[z; S x_0; ..]``
    (block row ``i``: ``A^(iL), A^((i-1)L), .., I``); ``steady`` ``(n, 1)``, the state under a
    unit constant input; ``to_scipy`` ``(2 n_sections, n)`` / ``from_scipy`` maps to and from
    scipy's flattened ``zi``; ``realisation`` "balanced" or "sections"; ``numpy_only``
    ``(S, [I, A^L], [O, H])`` for the NumPy native path (None elsewhere)."""

    n: int
    block: int
    n_sections: int
    tails: tuple
    hs: Any
    obs: Any
    jumps: tuple
    states: Any
    steady: Any
    to_scipy: Any
    from_scipy: Any
    realisation: str
    numpy_only: tuple | None = None


# --------------------------------------------------------------------------- host design
def _section(sec: np.ndarray) -> tuple[np.ndarray, ...]:
    """Minimal realisation ``(A, B, C, D, T)`` of one section, ``T`` mapping its state to the
    section's scipy (transposed direct form II) state ``(2, k)``."""
    b0, b1, b2, _, a1, a2 = sec / sec[3]
    if b2 == 0.0 and a2 == 0.0:
        if b1 == 0.0 and a1 == 0.0:  # a pure gain
            return np.zeros((0, 0)), np.zeros(0), np.zeros(0), b0, np.zeros((2, 0))
        return (np.array([[-a1]]), np.array([b1 - a1 * b0]), np.array([1.0]), b0,
                np.array([[1.0], [0.0]]))
    A = np.array([[-a1, 1.0], [-a2, 0.0]])
    B = np.array([b1 - a1 * b0, b2 - a2 * b0])
    C = np.array([1.0, 0.0])
    bal = _balance(A, B, C, 1e-12)
    if bal is None:
        return A, B, C, b0, np.eye(2)
    T, Ti = bal
    return Ti @ A @ T, Ti @ B, C @ T, b0, T


def _sqrt_gramian(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``Z`` with ``Z Z^T = sum_k A^k B B^T A^kT`` (square-root Smith doubling)."""
    Z, Ak = B.reshape(len(B), -1), A.copy()
    for _ in range(64):
        Z = np.linalg.qr(np.concatenate([Z, Ak @ Z], axis=1).T, mode="r").T
        Ak = Ak @ Ak
        if not np.abs(Ak).max() > 1e-18:
            break
    return Z


def _balance(A, B, C, min_ratio: float) -> tuple[np.ndarray, np.ndarray] | None:
    """``(T, T^-1)`` of the balanced realisation, or None when it is not well determined."""
    if not np.all(np.abs(np.linalg.eigvals(A)) < 1.0):
        return None
    Lc, Lo = _sqrt_gramian(A, B), _sqrt_gramian(A.T, C)
    U, s, Vt = np.linalg.svd(Lo.T @ Lc)
    if not s.min() > min_ratio * s.max():
        return None
    T = Lc @ Vt.T / np.sqrt(s)
    Ti = (U / np.sqrt(s)).T @ Lo.T
    if not np.abs(Ti @ T - np.eye(len(s))).max() < 1e-8:
        return None
    return T, Ti


def _cascade(sections: list) -> tuple[np.ndarray, ...]:
    """One system from sections in series; ``T`` maps its state to the scipy zi layout."""
    n = sum(s[0].shape[0] for s in sections)
    A, B = np.zeros((n, n)), np.zeros(n)
    T = np.zeros((2 * len(sections), n))
    cu, du, i = np.zeros(n), 1.0, 0  # the section input u = cu z + du x
    for k, (Ak, Bk, Ck, Dk, Tk) in enumerate(sections):
        j = i + Ak.shape[0]
        A[i:j] += np.outer(Bk, cu)
        A[i:j, i:j] += Ak
        B[i:j] = Bk * du
        T[2 * k : 2 * k + 2, i:j] = Tk
        cv = Dk * cu
        cv[i:j] += Ck
        cu, du, i = cv, Dk * du, j
    return A, B, cu, du, T


def _powers_times(A: np.ndarray, V: np.ndarray, count: int) -> np.ndarray:
    """``[V, A V, A^2 V, ...]`` side by side, ``count`` blocks (by doubling)."""
    out, P = V, A
    while out.shape[1] < count * V.shape[1]:
        out = np.concatenate([out, P @ out], axis=1)
        P = P @ P
    return out[:, : count * V.shape[1]]


def _impulse(A, B, C, D, count: int) -> np.ndarray:
    """The first ``count`` samples of the impulse response."""
    return np.concatenate([[D], C @ _powers_times(A, B.reshape(-1, 1), count - 1)])


def realise(sos: np.ndarray, quantum: Any = None) -> tuple:
    """``((A, B, C, D), T, Ti, kind)`` for an SOS cascade (float64 host): ``T`` maps the
    state to scipy's flattened ``zi``, ``Ti`` back. ``quantum`` (a function of a system
    giving its rounding error, or None): also consider the whole-cascade balanced
    coordinates and keep the realisation with the smaller error. Pass None in float64, where
    the per-section cascade is accurate to ~1e-12 and a further transform only adds error."""
    A, B, C, D, T = _cascade([_section(s) for s in sos])
    n = A.shape[0]
    if n == 0:  # all sections are gains: one dead state keeps every product non-empty
        return ((np.zeros((1, 1)), np.zeros(1), np.zeros(1), D), np.zeros((T.shape[0], 1)),
                np.zeros((1, T.shape[0])), "sections")
    Ti = np.linalg.pinv(T)
    sections = ((A, B, C, D), T, Ti, "sections")
    if quantum is None:
        return sections
    err = quantum(sections[0])
    bal = _balance(A, B, C, 1e-13) if err > 1e-7 else None  # already at rounding level
    if bal is None:
        return sections
    Tb, Tbi = bal
    balanced = ((Tbi @ A @ Tb, Tbi @ B, C @ Tb, D), T @ Tb, Tbi @ Ti, "balanced")
    h0, h1 = _impulse(A, B, C, D, 4096), _impulse(*balanced[0], 4096)
    if not np.abs(h1 - h0).max() <= 1e-9 * np.abs(h0).max():  # far below float32 rounding
        return sections
    return balanced if quantum(balanced[0]) < err else sections


def rounding_error(sys: tuple, L: int, dtype: np.dtype, max_blocks: int = 256) -> float:
    """Relative L2 error of the block system when its matrices are rounded to ``dtype``:
    ``||R_q - R|| / ||R||`` over the block impulse responses ``R_0 = H``, ``R_k = O A^(L(k-1))
    S``. Rounding the matrices moves the poles; this is the dominant float32 error and the
    one that differs between realisations."""
    m = block_matrices(sys, L, tails=False)
    H, S, Ob, AL = m["hs"][:L], m["hs"][L:], m["obs"], m["jumps"][0]
    Hq, Sq, Oq, ALq = (a.astype(dtype).astype(np.float64) for a in (H, S, Ob, AL))
    R = Ob @ _powers_times(AL, S, max_blocks)
    Rq = Oq @ _powers_times(ALq, Sq, max_blocks)
    num = ((Hq - H) ** 2).sum() + ((Rq - R) ** 2).sum()
    return float(np.sqrt(num / max((H**2).sum() + (R**2).sum(), 1e-300)))


def block_matrices(sys: tuple, L: int, tails: bool = True) -> dict[str, Any]:
    """Host float64 block matrices of ``sys = (A, B, C, D)`` for block length ``L``."""
    A, B, C, D = sys
    n = A.shape[0]
    h = _impulse(A, B, C, D, L)
    H = np.zeros((L, L))
    for i in range(L):
        H[i, : i + 1] = h[i::-1]
    Ob = np.empty((L, n))
    S = np.empty((n, L))
    powers = [np.eye(n)]
    for t in range(L):
        Ob[t] = C @ powers[t]
        S[:, L - 1 - t] = powers[t] @ B
        powers.append(A @ powers[t])
    out = []
    for r in range(L + 1 if tails else 0):
        G = np.zeros((r + n, n + r))
        G[:r, :n], G[:r, n:] = Ob[:r], H[:r, :r]
        G[r:, :n], G[r:, n:] = powers[r], S[:, L - r :]
        out.append(G)
    jumps, P = [], powers[L]
    for _ in range(_SCAN_LEVELS if tails else 1):
        jumps.append(P)
        P = P @ P
    Q, Ak = _DIRECT_BLOCKS, [np.eye(n)]
    for _ in range(Q):
        Ak.append(powers[L] @ Ak[-1])
    states = np.zeros(((Q + 1) * n, (Q + 1) * n))
    for i in range(Q + 1):  # column block j: z (j = 0) or S x_(j-1)
        states[i * n : (i + 1) * n, : (i + 1) * n] = np.concatenate(Ak[i::-1], axis=1)
    return {"states": states, "tails": out, "hs": np.concatenate([H, S]), "obs": Ob,
            "jumps": jumps}


def iir_plan(xp: Any, sos: np.ndarray, *, dtype: Any, device: Any, block: int = 32) -> IIRPlan:
    """Plan for filtering with ``sos`` (``(n_sections, 6)``, float64 host) in ``dtype`` on
    ``device``. ``ValueError`` for malformed or unstable coefficients."""
    sos = np.asarray(sos, dtype=np.float64)
    if sos.ndim != 2 or sos.shape[1] != 6 or sos.shape[0] < 1:
        raise ValueError(f"sos: expected shape (n_sections, 6), got {sos.shape}")
    if not np.all(np.isfinite(sos)) or np.any(sos[:, 3] == 0.0):
        raise ValueError("sos: coefficients must be finite with a0 != 0")
    if not isinstance(block, int) or block < 1:
        raise ValueError(f"block: must be a positive int, got {block!r}")
    name = dtype_name(dtype)
    quantum = None if name == "float64" else functools.partial(
        rounding_error, L=block, dtype=np.dtype("float16" if name == "float16" else "float32"))
    sys, T, Ti, kind = realise(sos, quantum)
    n = sys[0].shape[0]
    # steady state for a unit constant input (least squares if a pole sits at z = 1)
    steady = np.linalg.lstsq(np.eye(n) - sys[0], sys[1], rcond=None)[0]
    m = block_matrices(sys, block)

    def dev(a: np.ndarray) -> Any:
        return asarray(xp, np.ascontiguousarray(a), dtype=dtype, device=device)

    numpy_only = None
    if backend_name(xp) == "numpy":
        L = block
        numpy_only = (dev(m["hs"][L:]), dev(np.concatenate([np.eye(n), m["jumps"][0]], axis=1)),
                      dev(np.concatenate([m["obs"], m["hs"][:L]], axis=1)))
    return IIRPlan(
        numpy_only=numpy_only,
        n=n, block=block, n_sections=sos.shape[0],
        tails=tuple(dev(g) for g in m["tails"]), hs=dev(m["hs"]), obs=dev(m["obs"]),
        jumps=tuple(dev(j) for j in m["jumps"]), states=dev(m["states"]),
        steady=dev(steady.reshape(n, 1)),
        to_scipy=dev(T), from_scipy=dev(Ti), realisation=kind,
    )


# --------------------------------------------------------------------------- device kernels
def iir_zero_state(xp: Any, plan: IIRPlan, n_channels: int) -> Any:
    """Zero state ``(n, C)`` on the plan's device and dtype."""
    like = plan.steady
    return zeros(xp, (plan.n, n_channels), dtype=like.dtype, device=device_of(like))


def iir_initial_state(xp: Any, plan: IIRPlan, x0: Any) -> Any:
    """State ``(n, C)`` of the filter at rest under the constant input ``x0`` (``(C,)``): the
    ``scipy.signal.sosfilt_zi(sos) * x0`` convention."""
    return plan.steady * xp.reshape(x0, (1, x0.shape[0]))


def zi_to_scipy(xp: Any, plan: IIRPlan, z: Any) -> Any:
    """Our state ``(n, C)`` -> scipy ``sosfilt`` ``zi`` ``(n_sections, 2, C)``."""
    return xp.reshape(plan.to_scipy @ z, (plan.n_sections, 2, z.shape[1]))


def zi_from_scipy(xp: Any, plan: IIRPlan, zi: Any) -> Any:
    """Scipy ``zi`` ``(n_sections, 2, C)`` -> our state ``(n, C)``."""
    return plan.from_scipy @ xp.reshape(zi, (2 * plan.n_sections, zi.shape[2]))


def iir_filter(xp: Any, plan: IIRPlan, x: Any, z: Any) -> tuple[Any, Any]:
    """Filter ``x`` ``(T, C)`` from state ``z`` ``(n, C)``: ``(y, z_next)``, exact streaming."""
    if x.shape[1] == 0:  # no channels: nothing to compute (some FFT/BLAS reject empty batches)
        return x, z
    fn = native("iir_filter", _name(xp))
    if fn is not None:
        return fn(xp, plan, x, z)
    return filter_portable(xp, plan, x, z)


_NAMES: dict[Any, str] = {}


def _name(xp: Any) -> str:
    """``backend_name(xp)``, cached per namespace (it sits on every call's path)."""
    name = _NAMES.get(xp)
    if name is None:
        name = _NAMES[xp] = backend_name(xp)
    return name


def filter_portable(xp: Any, plan: IIRPlan, x: Any, z: Any) -> tuple[Any, Any]:
    """The Array API implementation of ``iir_filter`` (the reference for native paths).
    Compiled once per chunk shape where ``_backend`` offers a compiler (see ``compiled``)."""
    T = x.shape[0]
    nb = T // plan.block
    if nb == 0:
        return compiled(xp, _tail)(plan.tails[T], x, z) if T else (x, z)
    tail = plan.tails[T - nb * plan.block]
    if nb <= _DIRECT_BLOCKS:
        return compiled(xp, _few_blocks)(plan.hs, plan.obs, plan.states, tail, x, z)
    return compiled(xp, _blocks)(plan.hs, plan.obs, plan.jumps[: nb.bit_length()], tail, x, z)


def compiled(xp: Any, fn: Any) -> Any:
    """``fn`` with ``xp`` bound: ``g(*arrays) == fn(xp, *arrays)``. Where ``_backend``
    registers a ``native("jit", backend)`` compiler (e.g. ``jax.jit``), ``g`` is compiled once
    per input shape; otherwise ``fn`` runs eagerly. ``fn`` takes arrays and tuples of arrays
    and reads every int it needs from their shapes."""
    jit = native("jit", _name(xp))
    if jit is not None:
        return jit(xp, fn)
    return lambda *args: fn(xp, *args)


def _blocks(xp: Any, hs: Any, obs: Any, jumps: tuple, tail: Any, x: Any,
            z: Any) -> tuple[Any, Any]:
    """Whole blocks (and a tail shorter than a block). ``jumps``: ``A^(L 2^d)`` for the
    ``ceil(log2(nb + 1))`` levels of the scan; ``tail``: ``G_r`` (unused when r == 0)."""
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
    yr, z = _tail(xp, tail, x[nb * L :, ...], z)
    return xp.concat([y, yr], axis=0), z


def _few_blocks(xp: Any, hs: Any, obs: Any, states: Any, tail: Any, x: Any,
                z: Any) -> tuple[Any, Any]:
    """Up to ``_DIRECT_BLOCKS`` whole blocks: all block states in one product with a slice
    of ``states`` (fewer operations than the scan, for eager backends)."""
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
    yr, z = _tail(xp, tail, x[nb * L :, ...], z)
    return xp.concat([y, yr], axis=0), z


def _tail(xp: Any, g: Any, x: Any, z: Any) -> tuple[Any, Any]:
    """A chunk shorter than one block: one product with ``G_r``."""
    r = x.shape[0]
    out = matmul(xp, g, xp.concat([z, x], axis=0))
    return out[:r, ...], out[r:, ...]


# --------------------------------------------------------------------------- NumPy


def matmul(xp: Any, a: Any, b: Any) -> Any:
    """``a @ b`` for a 2-D ``a`` and a ``(..., k, C)`` ``b``; on NumPy split into products
    that each stay on one BLAS thread."""
    fn = native("matmul", _name(xp))
    return a @ b if fn is None else fn(a, b)


# The NumPy native path registers itself (native("iir_filter"/"matmul", "numpy")).
from . import iir_numpy as _iir_numpy  # noqa: E402, F401
