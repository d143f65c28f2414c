"""Canonical correlation from second moments: the inverse square root of a symmetric positive
(semi-)definite matrix, the leading singular triplets of a small matrix, and the adaptive
smoothing step of ``learn.model.cca.IncrementalCCA``, on every backend.

Shapes: ``c11`` ``(d1, d1)``, ``c22`` ``(d2, d2)``, ``c12`` ``(d1, d2)``, second moments of
two views ``X1`` ``(samples, d1)`` and ``X2`` ``(samples, d2)``. Every function is pure: arrays
in, new arrays out, no host synchronisation (scalars that steer the update stay 0-d arrays on
the device).

Only symmetric eigendecompositions are used (``xp.linalg.eigh`` is on every backend here;
``svd`` is not): the singular triplets of ``K`` ``(d1, d2)`` come from the eigenpairs of the
symmetric ``[[0, K], [K^T, 0]]``, whose eigenvalues are ``+-s`` with eigenvectors
``[u; +-v] / sqrt(2)``; this keeps the singular values' absolute accuracy at ``eps * |K|``
(the Gram matrix ``K^T K`` would square it).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from .._backend import asarray, backend_name, compile_kernel, device_of, eye


def inv_sqrtm_spd(xp: Any, a: Any, floor: float = 1e-12) -> Any:
    """``a^(-1/2)`` of a symmetric positive semi-definite ``a`` ``(d, d)``:
    ``Q diag(1 / sqrt(max(w, floor))) Q^T`` from ``a = Q diag(w) Q^T``."""
    w, q = xp.linalg.eigh(a)
    w = xp.where(w > floor, w, xp.full_like(w, floor))
    return (q * xp.reshape(1.0 / xp.sqrt(w), (1, -1))) @ xp.permute_dims(q, (1, 0))


def top_singular(xp: Any, k: Any, m: int) -> tuple[Any, Any, Any]:
    """``(u (d1, m), s (min(d1, d2),), v (d2, m))``: the singular values of ``k`` in
    descending order and the vectors of the ``m`` largest, each pair signed so that the
    largest-magnitude entry of ``u`` is positive (deterministic across backends)."""
    return _top_singular(xp, k, *_singular_indices(xp, k, m))


def _singular_indices(xp: Any, k: Any, m: int) -> tuple[Any, Any, Any]:
    """Device index arrays of :func:`_top_singular`: the eigenvalue positions of the singular
    values (descending), of the ``m`` kept ones, and ``0..m-1``."""
    d1, d2 = k.shape
    dev = device_of(k)
    top = np.arange(d1 + d2 - 1, d1 + d2 - 1 - min(d1, d2), -1)
    return tuple(asarray(xp, a, dtype=xp.int32, device=dev) for a in (top, top[:m],
                                                                      np.arange(m)))


def _top_singular(xp: Any, k: Any, top: Any, keep: Any, ar: Any) -> tuple[Any, Any, Any]:
    d1, d2 = k.shape
    m = keep.shape[0]
    kt = xp.permute_dims(k, (1, 0))
    aug = xp.concat([xp.concat([(k @ kt) * 0.0, k], axis=1),
                     xp.concat([kt, (kt @ k) * 0.0], axis=1)], axis=0)
    w, vec = xp.linalg.eigh(aug)
    s = xp.take(w, top, axis=0)
    s = xp.where(s > 0, s, xp.zeros_like(s))
    pick = xp.take(vec, keep, axis=1)
    u, v = pick[:d1, ...] * math.sqrt(2.0), pick[d1:, ...] * math.sqrt(2.0)
    big = xp.astype(xp.argmax(xp.abs(u), axis=0), ar.dtype)
    lead = xp.take(xp.reshape(u, (-1,)), big * m + ar, axis=0)
    sign = xp.where(lead < 0, -xp.ones_like(lead), xp.ones_like(lead))
    return u * sign, s, v * sign


def canonical(xp: Any, c11: Any, c22: Any, c12: Any, n_components: int
              ) -> tuple[Any, Any, Any]:
    """``(x_weights (d1, m), y_weights (d2, m), correlations (min(d1, d2),))`` from second
    moments, ``m = min(n_components, d1, d2)``: with ``Wi = (C_ii + RIDGE I)^(-1/2)``, the
    singular value decomposition ``W1 C12 W2 = U S V^T`` gives the correlations ``S`` and the
    weights ``W1 U``, ``W2 V``. One compiled call on JAX (``compile_kernel``)."""
    d1, d2 = c12.shape
    dt, dev = c11.dtype, device_of(c11)
    m = min(n_components, d1, d2)
    fn = compile_kernel(xp, _canonical) if backend_name(xp) == "jax" \
        else partial(_canonical, xp)
    return fn(c11, c22, c12, eye(xp, d1, dtype=dt, device=dev),
              eye(xp, d2, dtype=dt, device=dev), *_singular_indices(xp, c12, m))


RIDGE = 1e-8
"""Added to the diagonal of ``C11`` and ``C22`` before their inverse square roots."""


def _canonical(xp: Any, c11: Any, c22: Any, c12: Any, eye1: Any, eye2: Any, top: Any,
               keep: Any, ar: Any) -> tuple[Any, Any, Any]:
    w1 = inv_sqrtm_spd(xp, c11 + RIDGE * eye1)
    w2 = inv_sqrtm_spd(xp, c22 + RIDGE * eye2)
    u, s, v = _top_singular(xp, w1 @ c12 @ w2, top, keep, ar)
    return w1 @ u, w2 @ v, s


def moments(xp: Any, x1: Any, x2: Any) -> tuple[Any, Any, Any]:
    """``(X1^T X1, X2^T X2, X1^T X2)`` (sums, not means)."""
    t1 = xp.permute_dims(x1, (1, 0))
    return t1 @ x1, xp.permute_dims(x2, (1, 0)) @ x2, t1 @ x2


def smoothed(xp: Any, old: tuple[Any, Any, Any], new: tuple[Any, Any, Any], current: Any,
             params: Any) -> tuple[tuple, Any]:
    """One adaptive exponential-smoothing step of the three moments (``IncrementalCCA``):
    unless ``old[0]`` is all zero (the first batch), the change
    ``mean_i |new_i - old_i|_F / size_i`` moves the smoothing factor ``current`` (a 0-d
    array) a fraction ``rate`` towards ``clip(base * (1 - change), lo, hi)``; then each
    moment becomes ``a * old + (1 - a) * new`` with that factor ``a``. ``params``: the
    ``(4,)`` array ``[base, lo, hi, rate]``. Returns the new moments and factor; one compiled
    call on JAX."""
    fn = compile_kernel(xp, _smoothed) if backend_name(xp) == "jax" else partial(_smoothed, xp)
    return fn(old, new, current, params)


def _smoothed(xp: Any, old: tuple, new: tuple, current: Any, params: Any) -> tuple[tuple, Any]:
    base, lo, hi, rate = (params[i] for i in range(4))
    change = sum(xp.sqrt(xp.sum((n - o) * (n - o))) / math.prod(o.shape)
                 for o, n in zip(old, new, strict=True)) / 3.0
    target = base * (1.0 - change)
    target = xp.where(target < lo, lo, xp.where(target > hi, hi, target))
    adapted = (1.0 - rate) * current + rate * target
    current = xp.where(xp.any(old[0] != 0), adapted, current)
    return tuple(current * o + (1.0 - current) * n for o, n in zip(old, new, strict=True)), current
