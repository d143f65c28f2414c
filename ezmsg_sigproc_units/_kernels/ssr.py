"""Self-supervised channel regression (LRR): each channel predicted from the others of its
group, from the accumulated channel covariance, on every backend.

Shapes: ``cxx`` ``(n, n)``, the sufficient statistic ``X^T X`` of data ``X`` ``(samples, n)``.
Output ``W`` ``(n, n)`` with ``W[r, c]`` the weight of channel ``r`` in the prediction of
channel ``c`` (``X @ W`` predicts ``X``), zero diagonal, zero outside the groups and for
groups of fewer than ``min_size`` channels (those channels pass through).

Method (block inverse): with ``P = (C_g + lambda I)^-1`` for a group's covariance ``C_g``,
the ridge regression of channel ``c`` on the others of its group is
``W[:, c] = -P[:, c] / P[c, c]``, for every ``c`` at once. The groups are gathered into one
``(G, k, k)`` batch (``k`` the largest group; a smaller group is padded with a decoupled
diagonal at its own mean variance) so the solve is one batched call whatever the grouping.

Ill-conditioning: a group whose reciprocal condition estimate ``1 / (|C|_1 |P|_1)`` is not
above ``k * eps`` (rank-deficient, fewer samples than channels, a silent channel, or
non-finite) is solved with the ridge ``delta = max(k * eps, sqrt(eps)) * |C|_1`` added
instead (large enough that rounding in the near-null space cannot leak between channels;
``I`` for an all-zero group: no prediction): finite weights, never NaN. The portable path
takes ``P`` from one symmetric eigendecomposition (``w -> 1 / w`` or ``1 / (w + delta)``,
chosen on the device, no host synchronisation); the NumPy path uses a Cholesky inverse (LAPACK
``potrf``/``potri``) and JAX two LU inverses (its CPU ``eigh`` is slow), with the same test
and the same ridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .._backend import (
    asarray,
    backend_name,
    compile_kernel,
    device_of,
    eye,
    float_dtype_for,
    is_numpy_namespace,
    scalar,
    zeros,
)


@dataclass
class GroupPlan:
    """Host description of the grouping, built once per stream layout (:func:`plan_groups`).

    ``full``: one group of every channel in order (no gathers); ``smallest``: the size of the
    smallest regressed group. Otherwise ``gather``
    (``G*k*k`` linear indices into ``cxx``), ``valid`` (``(G, k)`` member mask),
    ``sizes`` (``(G, 1)`` channels per group), ``scatter`` (``n*n`` linear indices into the
    ``(G, k, k)`` result) and ``inside`` (``(n, n)`` mask of same-group pairs)."""

    n: int
    k: int
    n_groups: int
    full: bool
    smallest: int = 0
    gather: Any = None
    valid: Any = None
    sizes: Any = None
    scatter: Any = None
    inside: Any = None

    def to(self, xp: Any, dev: Any, dtype: Any) -> GroupPlan:
        """The same plan with its arrays on ``xp``/``dev`` (masks in ``dtype``)."""
        if self.full or self.n_groups == 0:
            return self
        idx = xp.int32  # n * n < 2**31 for any channel count a covariance fits in memory
        return GroupPlan(
            self.n, self.k, self.n_groups, False, self.smallest,
            asarray(xp, self.gather, dtype=idx, device=dev),
            asarray(xp, self.valid, dtype=dtype, device=dev),
            asarray(xp, self.sizes, dtype=dtype, device=dev),
            asarray(xp, self.scatter, dtype=idx, device=dev),
            asarray(xp, self.inside, dtype=dtype, device=dev))


def plan_groups(groups: list[np.ndarray] | None, n: int, min_size: int) -> GroupPlan:
    """The plan of ``groups`` (None: one group of all ``n`` channels); groups smaller than
    ``min_size`` are left out (their channels get no prediction)."""
    if groups is None:
        groups = [np.arange(n, dtype=np.intp)]
    groups = [np.asarray(g, dtype=np.intp).reshape(-1) for g in groups]
    groups = [g for g in groups if g.shape[0] >= min_size]
    if not groups:
        return GroupPlan(n, 0, 0, False)
    if len(groups) == 1 and np.array_equal(groups[0], np.arange(n)):
        return GroupPlan(n, n, 1, True, n)
    G, k = len(groups), max(g.shape[0] for g in groups)
    idx = np.zeros((G, k), dtype=np.int64)
    valid = np.zeros((G, k))
    scatter = np.zeros((n, n), dtype=np.int64)
    inside = np.zeros((n, n))
    for j, g in enumerate(groups):
        m = g.shape[0]
        idx[j, :m], valid[j, :m] = g, 1.0
        pos = np.arange(m)
        scatter[np.ix_(g, g)] = j * k * k + pos[:, None] * k + pos[None, :]
        inside[np.ix_(g, g)] = 1.0
    gather = (idx[:, :, None] * n + idx[:, None, :]).reshape(-1)
    sizes = valid.sum(axis=1, keepdims=True)
    return GroupPlan(n, k, G, False, min(g.shape[0] for g in groups), gather, valid, sizes,
                     scatter.reshape(-1), inside)


def channels_last(xp: Any, x: Any, ix: int) -> Any:
    """``x`` as ``(samples, channels)`` (channel dim ``ix`` last, the others flattened in C
    order) in its float dtype; ``(0, 0)`` when there are no channels."""
    if x.shape[ix] == 0:
        return xp.reshape(x, (0, 0))
    if ix != x.ndim - 1:
        x = xp.permute_dims(x, tuple(i for i in range(x.ndim) if i != ix) + (ix,))
    x = xp.reshape(x, (-1, x.shape[-1]))
    dt = float_dtype_for(xp, x.dtype, None)
    return x if dt == x.dtype else xp.astype(x, dt)


def lrr_weights(xp: Any, cxx: Any, ridge: float, plan: GroupPlan, n_samples: int | None = None
                ) -> tuple[Any, Any]:
    """``(W (n, n), regularised)``: the weights of every group's ridge regressions (see the
    module docstring) and a bool (a device array off NumPy), True when any group needed the
    automatic ridge. ``n_samples`` (optional): the samples in ``cxx``; with fewer than the
    smallest regressed group and no ridge, the NumPy path goes straight to the regularised
    solve (the condition test would fail anyway). Compiled on JAX (``compile_kernel``)."""
    n, dt, dev = plan.n, cxx.dtype, device_of(cxx)
    if plan.n_groups == 0:
        return zeros(xp, (n, n), dtype=dt, device=dev), asarray(xp, False, device=dev)
    lam = scalar(xp, float(ridge), dtype=dt, device=dev)
    eye_k = eye(xp, plan.k, dtype=dt, device=dev)
    diag_k = asarray(xp, np.arange(plan.k) * (plan.k + 1), dtype=xp.int32, device=dev)
    # JAX: one compile per shape (0.9 s) instead of some forty eager ones, 0.5 ms a solve
    # after. MLX stays eager: mx.compile of a graph holding eigh took ~10 s on its CPU build.
    jit = backend_name(xp) == "jax"
    hint = {}
    if is_numpy_namespace(xp):
        hint["deficient"] = ridge == 0 and n_samples is not None and n_samples < plan.smallest
    if plan.full:
        fn = compile_kernel(xp, _solve_full) if jit else partial(_solve_full, xp, **hint)
        return fn(cxx, lam, eye_k, diag_k)
    fn = compile_kernel(xp, _solve_grouped) if jit else partial(_solve_grouped, xp, **hint)
    return fn(cxx, lam, eye_k, diag_k, plan.gather, plan.valid, plan.sizes, plan.scatter,
              plan.inside)


def _solve_full(xp: Any, cxx: Any, lam: Any, eye_k: Any, diag_k: Any, deficient: bool = False
                ) -> tuple[Any, Any]:
    n = cxx.shape[0]
    wg, reg = _solve(xp, xp.reshape(cxx, (1, n, n)), lam, eye_k, diag_k, deficient)
    return wg[0, ...], reg


def _solve_grouped(xp: Any, cxx: Any, lam: Any, eye_k: Any, diag_k: Any, gather: Any,
                   valid: Any, sizes: Any, scatter: Any, inside: Any, deficient: bool = False
                   ) -> tuple[Any, Any]:
    n = cxx.shape[0]
    G, k = valid.shape
    sub = xp.reshape(xp.take(xp.reshape(cxx, (n * n,)), gather, axis=0), (G, k, k))
    pair = xp.reshape(valid, (G, k, 1)) * xp.reshape(valid, (G, 1, k))
    mean_var = xp.sum(_diagonal(xp, sub, diag_k) * valid, axis=-1) / sizes[:, 0]
    sub = sub * pair + xp.reshape(mean_var, (G, 1, 1)) * eye_k * (1.0 - pair)
    wg, reg = _solve(xp, sub, lam, eye_k, diag_k, deficient)
    w = xp.take(xp.reshape(wg, (G * k * k,)), scatter, axis=0)
    return xp.reshape(w, (n, n)) * inside, reg


def _diagonal(xp: Any, a: Any, diag_k: Any) -> Any:
    """``(G, k)`` diagonals of ``a`` ``(G, k, k)`` (``diag_k``: the flat diagonal indices)."""
    G, k, _ = a.shape
    return xp.take(xp.reshape(a, (G, k * k)), diag_k, axis=1)


def _solve(xp: Any, sub: Any, lam: Any, eye_k: Any, diag_k: Any, deficient: bool
           ) -> tuple[Any, Any]:
    """Weights ``(G, k, k)`` of the block-inverse identity for symmetric PSD ``sub``
    (``deficient``: the NumPy path's hint, see :func:`lrr_weights`)."""
    G, k, _ = sub.shape
    sub = sub + lam * eye_k
    eps = float(xp.finfo(sub.dtype).eps)
    norm1 = xp.max(xp.sum(xp.abs(sub), axis=-2), axis=-1)  # (G,)
    delta = xp.where(norm1 > 0, max(k * eps, eps ** 0.5) * norm1, xp.ones_like(norm1))
    if is_numpy_namespace(xp):
        from .ssr_numpy import inverse_spd

        prec, reg = inverse_spd(sub, norm1, delta, k * eps, deficient)
        reg = bool(np.any(reg))
    elif backend_name(xp) == "jax":  # XLA's CPU eigh took ~1.2 s at k = 256, inv ~13 ms
        prec, reg = _inverse_lu(xp, sub, norm1, delta, k * eps, eye_k)
    else:
        prec, reg = _inverse_spd(xp, sub, norm1, delta, k * eps)
    diag = _diagonal(xp, prec, diag_k)  # (G, k), positive for a positive definite P
    return -(prec / xp.reshape(diag, (G, 1, k))) * (1.0 - eye_k), reg


def _inverse_spd(xp: Any, sub: Any, norm1: Any, delta: Any, tol: float) -> tuple[Any, Any]:
    """Batched inverse of symmetric positive semi-definite ``sub`` ``(G, k, k)``, with the
    ridge ``delta`` (``(G,)``) where the condition test fails; one eigendecomposition."""
    G = sub.shape[0]
    w, v = xp.linalg.eigh(sub)
    vt = xp.permute_dims(v, (0, 2, 1))
    plain = (v * xp.reshape(1.0 / w, (G, 1, -1))) @ vt
    rcond = 1.0 / (norm1 * xp.max(xp.sum(xp.abs(plain), axis=-2), axis=-1))
    ok = rcond > tol  # False for NaN and inf too
    w_reg = w + xp.reshape(delta, (G, 1))
    safe = xp.where(xp.reshape(ok, (G, 1)), w, w_reg)
    prec = (v * xp.reshape(1.0 / safe, (G, 1, -1))) @ vt
    return prec, xp.any(xp.logical_not(ok))


def _inverse_lu(xp: Any, sub: Any, norm1: Any, delta: Any, tol: float, eye_k: Any
                ) -> tuple[Any, Any]:
    """:func:`_inverse_spd` by two LU inverses (plain and with the ridge), for a namespace
    whose ``inv`` returns non-finite values instead of raising on a singular matrix (JAX);
    the same condition test selects between them."""
    G = sub.shape[0]
    plain = xp.linalg.inv(sub)
    rcond = 1.0 / (norm1 * xp.max(xp.sum(xp.abs(plain), axis=-2), axis=-1))
    ok = rcond > tol  # False for NaN and inf too
    ridged = xp.linalg.inv(sub + xp.reshape(delta, (G, 1, 1)) * eye_k)
    prec = xp.where(xp.reshape(ok, (G, 1, 1)), plain, ridged)
    return (prec + xp.permute_dims(prec, (0, 2, 1))) * 0.5, xp.any(xp.logical_not(ok))
