"""Shrinkage linear discriminant analysis from streaming sufficient statistics.

The model is scikit-learn's ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")``:
per class, the features are standardised, the Ledoit-Wolf shrinkage of the standardised
covariance is computed (Ledoit & Wolf 2004, as ``sklearn.covariance.ledoit_wolf``), the shrunk
covariance is scaled back; the pooled covariance is the prior-weighted sum of the class
covariances; ``coef = solve(cov, means.T).T`` and ``intercept = -0.5 diag(means coef.T) +
log(priors)``. Two classes collapse to one discriminant (``coef[1] - coef[0]``).

Everything the fit needs is a sum over samples, so the fit is exact from any split of the
training data. Per class, in coordinates shifted by a fixed ``shift`` (the mean of the first
training batch: it keeps the raw moments from cancelling), with ``y = x - shift`` (n, p):

* ``s1 = sum(y)`` (p,), ``s2 = y.T @ y`` (p, p),
* ``m3 = (y*y).T @ y`` (p, p) and ``m4 = (y*y).T @ (y*y)`` (p, p): the third and fourth
  moments the Ledoit-Wolf shrinkage intensity needs.

Shapes: the class statistics are stacked along a leading class dim ``K``; ``counts`` is (K,).
No function writes into its inputs; nothing reads values back to the host.
"""

from __future__ import annotations

from typing import Any

from . import activation


def batch_moments(xp: Any, y: Any) -> tuple[Any, Any, Any, Any]:
    """``(s1, s2, m3, m4)`` of a shifted batch ``y`` (n, p) (see the module docstring)."""
    y2 = y * y
    yt = xp.permute_dims(y, (1, 0))
    y2t = xp.permute_dims(y2, (1, 0))
    return xp.sum(y, axis=0), xp.matmul(yt, y), xp.matmul(y2t, y), xp.matmul(y2t, y2)


def _diag(xp: Any, a: Any, eye: Any) -> Any:
    """The diagonals of a stack of square matrices ``a`` (..., p, p) -> (..., p)."""
    return xp.sum(a * eye, axis=-1)


def _quad(xp: Any, m: Any, u: Any, v: Any) -> Any:
    """``u^T m v`` per class: ``m`` (K, p, p), ``u``, ``v`` (K, p) -> (K,)."""
    return xp.sum(u * xp.matmul(m, v[..., None])[..., 0], axis=-1)


def class_covariances(xp: Any, counts: Any, s1: Any, s2: Any, m3: Any, m4: Any, shift: Any,
                      eye: Any) -> tuple[Any, Any, Any]:
    """``(cov, means, shrinkage)``: each class's Ledoit-Wolf shrunk covariance (K, p, p), its
    mean in the original coordinates (K, p) and its shrinkage intensity (K,).

    ``counts`` (K,) in the statistics' dtype; ``eye`` the (p, p) identity. A feature whose
    variance is within rounding of zero keeps scale 1 (the constant-feature test of
    scikit-learn's ``StandardScaler``, with the statistics' machine epsilon). A class with at
    most one sample contributes a zero covariance (its centred data are zero).
    """
    p = eye.shape[0]
    eps = xp.finfo(s2.dtype).eps
    n = counts[:, None]
    m = s1 / n
    d = _diag(xp, s2, eye)                               # sum of squares, per feature
    var = xp.maximum(d / n - m * m, xp.zeros_like(m))
    mean0 = m + shift
    constant = var <= n * eps * var + (n * mean0 * eps) ** 2
    scale = xp.where(constant, xp.ones_like(var), xp.sqrt(var))
    a = 1.0 / (scale * scale)
    sigma = s2 / n[..., None] - m[:, :, None] * m[:, None, :]      # empirical covariance
    w = 1.0 / scale
    c = sigma * (w[:, :, None] * w[:, None, :])                     # standardised
    tr = xp.sum((d / n - m * m) * a, axis=-1)                     # trace of c
    mu = tr / p
    sum_c2 = xp.sum(c * c, axis=(1, 2))
    am = a * m
    am2 = xp.sum(a * m * m, axis=-1)
    nk = counts
    # sum over samples of squared norms of the squared standardised rows, from the moments
    beta_raw = (_quad(xp, m4, a, a) - 4.0 * _quad(xp, m3, a, am)
                + 2.0 * xp.sum(a * d, axis=-1) * am2 + 4.0 * _quad(xp, s2, am, am)
                - 3.0 * nk * am2 * am2)
    beta = (beta_raw / nk - sum_c2) / (p * nk)
    delta = (sum_c2 - 2.0 * mu * tr + p * mu * mu) / p
    beta = xp.minimum(beta, delta)
    ok = (delta > 0) & (nk > 1.5)
    safe = xp.where(ok, delta, xp.ones_like(delta))
    shrink = xp.where(ok, xp.minimum(xp.maximum(beta / safe, xp.zeros_like(beta)),
                                     xp.ones_like(beta)), xp.zeros_like(beta))
    if p == 1:
        shrink = xp.zeros_like(shrink)
    target = ((shrink * mu)[:, None] * (scale * scale))[:, None, :] * eye
    # a class with at most one observation contributes nothing (its centred data are zero)
    keep = xp.astype(nk > 1.5, sigma.dtype)
    cov = ((1.0 - shrink) * keep)[:, None, None] * sigma + keep[:, None, None] * target
    return cov, mean0, shrink


def lsqr_weights(xp: Any, cov: Any, means: Any, counts: Any) -> tuple[Any, Any]:
    """``(coef, intercept)`` of the lsqr solver: ``coef`` (K, p), or (1, p) for two classes;
    ``intercept`` (K,) or (1,).

    ``cov`` (K, p, p) and ``means`` (K, p) from ``class_covariances``; ``counts`` (K,). The
    pooled covariance is solved directly (``lsqr_weights_pinv``: for a possibly singular one).
    """
    pooled, rhs = _pooled(xp, cov, means, counts)
    return _weights(xp, xp.linalg.solve(pooled, rhs), means, counts)


def lsqr_weights_pinv(xp: Any, cov: Any, means: Any, counts: Any) -> tuple[Any, Any]:
    """``lsqr_weights`` for a rank-deficient pooled covariance (no class shrunk): its
    pseudo-inverse by eigendecomposition, eigenvalues below ``sqrt(eps)`` times the largest
    dropped (the moments' rounding sets that floor): the minimum-norm least-squares solution
    that scikit-learn's ``lstsq`` gives; never NaN."""
    pooled, rhs = _pooled(xp, cov, means, counts)
    lam, vec = xp.linalg.eigh(pooled)
    keep = lam > xp.finfo(lam.dtype).eps ** 0.5 * xp.max(xp.abs(lam))
    inv = xp.where(keep, 1.0 / xp.where(keep, lam, xp.ones_like(lam)), xp.zeros_like(lam))
    sol = xp.matmul(vec, inv[:, None] * xp.matmul(xp.permute_dims(vec, (1, 0)), rhs))
    return _weights(xp, sol, means, counts)


def _pooled(xp: Any, cov: Any, means: Any, counts: Any) -> tuple[Any, Any]:
    priors = counts / xp.sum(counts)
    return xp.sum(priors[:, None, None] * cov, axis=0), xp.permute_dims(means, (1, 0))


def _weights(xp: Any, sol: Any, means: Any, counts: Any) -> tuple[Any, Any]:
    priors = counts / xp.sum(counts)
    coef = xp.permute_dims(sol, (1, 0))
    intercept = -0.5 * xp.sum(means * coef, axis=1) + xp.log(priors)
    if coef.shape[0] == 2:
        coef = coef[1:2, :] - coef[0:1, :]
        intercept = intercept[1:2] - intercept[0:1]
    return coef, intercept


def predict_proba(xp: Any, x: Any, coef: Any, intercept: Any) -> Any:
    """Class probabilities (n, K) of features ``x`` (n, p) as scikit-learn's LDA: the
    logistic of the decision function for two classes (``coef`` (1, p)), the softmax of it
    for more."""
    dec = xp.matmul(x, xp.permute_dims(coef, (1, 0))) + intercept
    if coef.shape[0] == 1:
        pos = activation.expit(xp, dec)  # finite for any decision value
        return xp.concat([1.0 - pos, pos], axis=1)
    z = xp.exp(dec - xp.max(dec, axis=1, keepdims=True))
    return z / xp.sum(z, axis=1, keepdims=True)


def decision_function(xp: Any, x: Any, coef: Any, intercept: Any) -> Any:
    """The decision function (n, K), or (n,) for two classes, as scikit-learn's."""
    dec = xp.matmul(x, xp.permute_dims(coef, (1, 0))) + intercept
    return dec[:, 0] if coef.shape[0] == 1 else dec
