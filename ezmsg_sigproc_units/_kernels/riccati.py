"""Discrete algebraic Riccati equation with Array API operations only (every backend): the
steady-state Kalman gain of ``learn`` decoders is computed on the data's device, without
SciPy.

``solve_discrete_are(xp, a, b, q, r)`` returns the stabilising ``X`` of
``A' X A - X - A' X B (R + B' X B)^-1 B' X A + Q = 0`` (``scipy.linalg.solve_discrete_are``'s
convention) by the structured doubling algorithm (Chu, Fan and Lin, 2005): with
``A0 = A``, ``G0 = B R^-1 B'``, ``H0 = Q``,

    W = I + G_k H_k
    A_k+1 = A_k W^-1 A_k,  G_k+1 = G_k + A_k W^-1 G_k A_k',  H_k+1 = H_k + A_k' H_k W^-1 A_k

and ``H_k -> X`` quadratically (``H_k`` sums ``2^k`` steps of the Riccati recursion). The
iteration count is fixed (no data-dependent branch, no host synchronisation): once converged,
``A_k`` has shrunk to zero and further steps leave ``H`` unchanged. Shapes: ``a`` ``(n, n)``,
``b`` ``(n, m)``, ``q`` ``(n, n)`` symmetric positive semi-definite, ``r`` ``(m, m)`` symmetric
positive definite; all in one float dtype on one device.
"""

from __future__ import annotations

from typing import Any

from .._backend import device_of, eye

DOUBLINGS = 48
"""Doubling steps: ``2^48`` Riccati steps, enough for closed-loop spectral radii up to
``1 - 1e-12``."""


def solve_discrete_are(xp: Any, a: Any, b: Any, q: Any, r: Any,
                       doublings: int = DOUBLINGS) -> Any:
    """The stabilising solution ``X`` ``(n, n)`` (symmetrised), see the module docstring."""
    g = b @ xp.linalg.solve(r, xp.permute_dims(b, (1, 0)))
    return solve_discrete_are_g(xp, a, g, q, doublings)


def solve_discrete_are_g(xp: Any, a: Any, g: Any, q: Any, doublings: int = DOUBLINGS) -> Any:
    """The same ``X`` given ``G = B R^-1 B'`` ``(n, n)`` instead of ``B`` and ``R``: callers
    that already hold ``R^-1 B'`` (a Kalman filter's ``Q^-1 H`` for its gain) skip the second
    solve with the large ``R``."""
    n = a.shape[0]
    ident = eye(xp, n, dtype=a.dtype, device=device_of(a))
    h, ak = q, a
    for _ in range(doublings):
        w_ag = xp.linalg.solve(ident + g @ h, xp.concat([ak, g], axis=1))  # one solve, 2 RHS
        w_a, w_g = w_ag[:, :n], w_ag[:, n:]
        at = xp.permute_dims(ak, (1, 0))
        g = g + ak @ w_g @ at
        h = h + at @ h @ w_a
        ak = ak @ w_a
    return (h + xp.permute_dims(h, (1, 0))) * 0.5


def kalman_gain(xp: Any, a: Any, h: Any, w: Any, q: Any, doublings: int = DOUBLINGS) -> Any:
    """Steady-state Kalman gain ``K`` ``(n, m)`` of ``x' = A x + noise(W)``, ``z = H x +
    noise(Q)``: the predicted covariance ``P`` solves the dual equation (``A'``, ``H'``) and
    ``K = P H' (H P H' + Q)^-1``."""
    at = xp.permute_dims(a, (1, 0))
    ht = xp.permute_dims(h, (1, 0))
    p = solve_discrete_are(xp, at, ht, w, q, doublings)
    s = h @ p @ ht + q
    return xp.permute_dims(xp.linalg.solve(s, h @ p), (1, 0))
