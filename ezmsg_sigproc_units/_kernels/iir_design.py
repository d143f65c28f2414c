"""Host design of the block state-space IIR kernel (float64 NumPy, once per plan).

An SOS cascade becomes one system ``z' = A z + B x, y = C z + D x`` of order ``n`` (2 per
second-order section, 1 per first-order one) in coordinates chosen for float32: each section
balanced on its own, and, where it is well determined and rounds better
(``rounding_error``), the whole cascade balanced with square-root Gramians. In scipy's own
(transposed direct form II) coordinates a float32 cascade loses 1e-4..1 of relative accuracy
on narrow or wide-stop designs because rounding moves the poles; these coordinates keep it
near 1e-7..1e-6 (``tests/_kernels/test_iir.py`` pins this).

``BlockDesign`` holds the realisation and the block matrices for a block length ``L``:
``H`` (``L x L``, the Toeplitz impulse response), ``O`` (rows ``C A^t``), ``S`` (columns
``A^(L-1-j) B``), the tail products ``G_r`` and the jumps ``A^(L 2^d)``, the latter two built
on first request. It is never pickled: a plan rebuilds it from its coefficients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DIRECT_BLOCKS = 16  # chunks of up to this many blocks get their states in one product


# --------------------------------------------------------------------------- realisation
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


def _block_parts(sys: tuple, L: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """``(H, O, S, [A^0 .. A^L])`` of ``sys = (A, B, C, D)`` for block length ``L``."""
    A, B, C, D = sys
    n = A.shape[0]
    h = _impulse(A, B, C, D, L)
    H = np.zeros((L, L))
    for i in range(L):
        H[i, : i + 1] = h[i::-1]
    Ob, S, powers = np.empty((L, n)), np.empty((n, L)), [np.eye(n)]
    for t in range(L):
        Ob[t] = C @ powers[t]
        S[:, L - 1 - t] = powers[t] @ B
        powers.append(A @ powers[t])
    return H, Ob, S, powers


def rounding_error(sys: tuple, L: int, dtype: np.dtype, max_blocks: int = 256) -> float:
    """Relative L2 error of the block system when its matrices are rounded to ``dtype``:
    ``||R_q - R|| / ||R||`` over the block impulse responses ``R_0 = H``, ``R_k = O A^(L(k-1))
    S``. Rounding the matrices moves the poles; this is the dominant float32 error and the
    one that differs between realisations."""
    H, Ob, S, powers = _block_parts(sys, L)
    AL = powers[L]
    Hq, Sq, Oq, ALq = (a.astype(dtype).astype(np.float64) for a in (H, S, Ob, AL))
    R = Ob @ _powers_times(AL, S, max_blocks)
    Rq = Oq @ _powers_times(ALq, Sq, max_blocks)
    num = ((Hq - H) ** 2).sum() + ((Rq - R) ** 2).sum()
    return float(np.sqrt(num / max((H**2).sum() + (R**2).sum(), 1e-300)))


class BlockDesign:
    """Realisation and host block matrices of ``sos`` for block length ``block``, chosen
    for rounding to ``dtype`` (a name: float64 keeps the per-section cascade)."""

    def __init__(self, sos: np.ndarray, block: int, dtype: str) -> None:
        quantum = None
        if dtype != "float64":
            def quantum(sys: tuple) -> float:
                return rounding_error(sys, block, np.dtype(
                    "float16" if dtype == "float16" else "float32"))
        self.sys, self.to_scipy, self.from_scipy, self.kind = realise(sos, quantum)
        A, B = self.sys[0], self.sys[1]
        self.n, self.block = A.shape[0], block
        # steady state for a unit constant input (least squares if a pole sits at z = 1)
        self.steady = np.linalg.lstsq(np.eye(self.n) - A, B, rcond=None)[0].reshape(-1, 1)
        self.H, self.obs, self.S, self._powers = _block_parts(self.sys, block)
        self.hs = np.concatenate([self.H, self.S])  # [H; S] (L + n, L)
        self._jumps = [self._powers[block]]

    def tail(self, r: int) -> np.ndarray:
        """``G_r`` ``(r + n, n + r)``: ``[y; z'] = G_r [z; x]`` for ``r < L`` samples."""
        n, L = self.n, self.block
        G = np.zeros((r + n, n + r))
        G[:r, :n], G[:r, n:] = self.obs[:r], self.H[:r, :r]
        G[r:, :n], G[r:, n:] = self._powers[r], self.S[:, L - r :]
        return G

    def jumps(self, levels: int) -> list[np.ndarray]:
        """``[A^L, A^(2L), A^(4L), ...]``, ``levels`` of them (the scan over blocks)."""
        while len(self._jumps) < levels:
            P = self._jumps[-1]
            self._jumps.append(P @ P)
        return self._jumps[:levels]

    def states(self) -> np.ndarray:
        """``((Q + 1) n, (Q + 1) n)``, ``Q = DIRECT_BLOCKS``: block states from
        ``[z; S x_0; ..]`` (block row ``i``: ``A^(iL), A^((i-1)L), .., I``)."""
        n, AL = self.n, self._powers[self.block]
        Ak = [np.eye(n)]
        for _ in range(DIRECT_BLOCKS):
            Ak.append(AL @ Ak[-1])
        Q = DIRECT_BLOCKS
        out = np.zeros(((Q + 1) * n, (Q + 1) * n))
        for i in range(Q + 1):  # column block j: z (j = 0) or S x_(j-1)
            out[i * n : (i + 1) * n, : (i + 1) * n] = np.concatenate(Ak[i::-1], axis=1)
        return out

    def numpy_step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(S, [I, A^L], [O, H])``: the products of the NumPy native block loop."""
        n = self.n
        return (self.S, np.concatenate([np.eye(n), self._powers[self.block]], axis=1),
                np.concatenate([self.obs, self.H], axis=1))
