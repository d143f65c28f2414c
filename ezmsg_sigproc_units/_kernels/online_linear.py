"""Update kernels of the linear learners (``learn.model.linear``): pure functions of arrays.

Shapes: samples ``X`` are ``(n, d)`` (``n`` may be 0), targets ``Y`` ``(n, k)``. Weights are
``W`` ``(d, k)`` and intercepts ``b`` ``(k,)`` (one column per target, or per class of a
one-vs-rest classifier). Every function returns new arrays and never writes into its inputs.

* ``ridge_fit``: closed-form least squares / ridge with the intercept by centring (rows with a
  NaN are left out); the normal equations in the primal (``n >= d``) or the dual (``n < d``,
  the minimum-norm solution) with ``xp.linalg.solve``.
* ``rls_update``: recursive least squares on augmented samples ``[x, 1]``:
  ``P = (delta I + sum x x^T)^-1`` and ``w = P sum x y`` updated by the Woodbury identity
  for a block of samples (a symmetric downdate through the eigendecomposition of the small
  ``n x n`` system), so any split of a stream gives the same fit (a ridge of ``delta`` on all
  coefficients, the exact least-squares limit as ``delta -> 0``).
* ``dloss`` / ``eps_insensitive``: scikit-learn's SGD losses (``sklearn.linear_model._sgd_fast``).
* ``sgd_pass``: one pass of scikit-learn's plain SGD over the samples in order (the
  per-sample recurrence of ``_plain_sgd``: weight decay, optional PA-I/PA-II steps, the
  cumulative L1 penalty of Tsuruoka et al. 2009 for ``l1``/``elasticnet``);
  ``sgd_squared_block``: the same pass in closed form for the squared loss with L2 or no
  penalty (one triangular solve).
* ``glm_minibatch_step``: river's ``GLM.learn_many`` step (one mean-gradient SGD step per
  batch).
"""

from __future__ import annotations

import math
from typing import Any

from .._backend import device_of, eye, zeros
from . import activation

MAX_DLOSS = 1e12
"""scikit-learn clips the loss derivative to +-1e12 (``_sgd_fast.MAX_DLOSS``)."""

CLASSIFICATION_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron")
REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive")


def _t(xp: Any, x: Any) -> Any:
    return xp.permute_dims(x, (1, 0))


def _row_mask(xp: Any, X: Any, Y: Any) -> Any:
    """``(n, 1)`` boolean: the row has no NaN in ``X`` nor ``Y``."""
    bad = xp.any(xp.isnan(X), axis=1) | xp.any(xp.isnan(Y), axis=1)
    return xp.reshape(~bad, (X.shape[0], 1))


def ridge_fit(xp: Any, X: Any, Y: Any, *, alpha: float, fit_intercept: bool) -> tuple[Any, Any]:
    """``(W, b)`` minimising ``|Y - X W - b|^2 + alpha |W|^2`` over the rows of ``X``/``Y``
    without NaN. ``alpha = 0`` gives ordinary least squares; a jitter of ``eps * max(n, d)``
    times the mean squared feature (scikit-learn's ``lstsq`` cut-off scale) keeps singular
    (rank-deficient) systems solvable and close to the minimum-norm solution, never NaN."""
    n, d = X.shape
    dtype, dev = X.dtype, device_of(X)
    ok = _row_mask(xp, X, Y)
    okf = xp.astype(ok, dtype)
    Xz = xp.where(ok, X, xp.zeros_like(X))
    Yz = xp.where(ok, Y, xp.zeros_like(Y))
    cnt = xp.maximum(xp.sum(okf), xp.ones_like(xp.sum(okf)))
    if fit_intercept:
        mx = xp.sum(Xz, axis=0) / cnt
        my = xp.sum(Yz, axis=0) / cnt
        Xc, Yc = (Xz - mx) * okf, (Yz - my) * okf
    else:
        Xc, Yc = Xz, Yz
    m = min(n, d)
    eps = float(xp.finfo(dtype).eps)
    tiny = float(xp.finfo(dtype).smallest_normal)
    lam = alpha + eps * max(n, d) * xp.sum(Xc * Xc) / max(m, 1) + tiny
    if n >= d:
        G = _t(xp, Xc) @ Xc + lam * eye(xp, d, dtype=dtype, device=dev)
        W = xp.linalg.solve(G, _t(xp, Xc) @ Yc)
    else:
        G = Xc @ _t(xp, Xc) + lam * eye(xp, n, dtype=dtype, device=dev)
        W = _t(xp, Xc) @ xp.linalg.solve(G, Yc)
    b = (my - mx @ W) if fit_intercept else zeros(xp, (Y.shape[1],), dtype=dtype, device=dev)
    return W, b


def rls_init(xp: Any, d: int, k: int, delta: float, *, dtype: Any, device: Any):
    """``(P, w)`` before any sample: ``P = I / delta`` over ``d + 1`` augmented features,
    ``w = 0`` ``(d + 1, k)`` (the last row is the intercept)."""
    P = eye(xp, d + 1, dtype=dtype, device=device) / delta
    return P, zeros(xp, (d + 1, k), dtype=dtype, device=device)


def rls_update(xp: Any, P: Any, w: Any, X: Any, Y: Any) -> tuple[Any, Any]:
    """``(P, w)`` after the samples ``X`` ``(n, d)``, ``Y`` ``(n, k)`` (computed in ``P``'s
    dtype). Rows with a NaN are left out (an all-zero augmented row is a no-op)."""
    n = X.shape[0]
    if n == 0:
        return P, w
    dtype, dev = P.dtype, device_of(P)
    ok = _row_mask(xp, X, Y)
    okf = xp.astype(ok, dtype)
    Xa = xp.concat([xp.astype(xp.where(ok, X, xp.zeros_like(X)), dtype), okf], axis=1)
    Ya = xp.astype(xp.where(ok, Y, xp.zeros_like(Y)), dtype)
    U = P @ _t(xp, Xa)                                        # (d+1, n)
    S = eye(xp, n, dtype=dtype, device=dev) + Xa @ U          # (n, n), eigenvalues >= 1
    # With S = Q diag(lam) Q^T and V = diag(lam)^-1/2 Q^T U^T, the Woodbury downdate
    # P - U S^-1 U^T is P - V^T V: symmetric by construction (NumPy forms V^T V with one
    # SYRK, half the flops of U @ S^-1 U^T). lam >= 1 holds exactly; clamping there keeps
    # rounding from ever making the update indefinite (no Cholesky to fail, never NaN).
    lam, Q = xp.linalg.eigh(S)
    scale = xp.reshape(1.0 / xp.sqrt(xp.maximum(lam, xp.ones_like(lam))), (n, 1))
    Qt = _t(xp, Q)
    V = scale * (Qt @ _t(xp, U))                              # (n, d+1)
    Z = scale * (Qt @ (Ya - Xa @ w))                          # (n, k)
    Vt = _t(xp, V)
    return P - Vt @ V, w + Vt @ Z


def _relu(xp: Any, z: Any) -> Any:
    return xp.maximum(z, xp.zeros_like(z))


def dloss(xp: Any, loss: str, p: Any, y: Any, epsilon: float) -> Any:
    """d loss / d p of scikit-learn's SGD loss ``loss`` (labels of classification losses are
    +-1)."""
    if loss == "squared_error":
        return p - y
    if loss == "huber":
        r = p - y
        c = xp.full_like(r, epsilon)
        return xp.minimum(xp.maximum(r, -c), c)
    if loss == "epsilon_insensitive":
        return (xp.astype(p - y > epsilon, p.dtype) - xp.astype(y - p > epsilon, p.dtype))
    if loss == "squared_epsilon_insensitive":
        z = y - p
        return -2.0 * (_relu(xp, z - epsilon) - _relu(xp, -z - epsilon))
    z = p * y
    if loss in ("hinge", "perceptron"):
        return -y * xp.astype(z <= (1.0 if loss == "hinge" else 0.0), p.dtype)
    if loss == "squared_hinge":
        return -2.0 * y * _relu(xp, 1.0 - z)
    if loss == "log_loss":
        return -y / (xp.exp(z) + 1.0)
    if loss == "modified_huber":
        mid = xp.astype((z >= -1.0) & (z < 1.0), p.dtype)
        low = xp.astype(z < -1.0, p.dtype)
        return mid * (-2.0 * (1.0 - z) * y) + low * (-4.0 * y)
    raise ValueError(f"loss: unknown {loss!r}")


def eps_insensitive(xp: Any, p: Any, y: Any, epsilon: float) -> Any:
    """``max(0, |y - p| - epsilon)``: the loss whose value sizes the passive-aggressive steps
    (PA-I and PA-II alike, as scikit-learn's)."""
    return _relu(xp, xp.abs(y - p) - epsilon)


def sgd_rates(etas: list[float], *, alpha: float, penalty: str | None,
              l1_ratio: float) -> list[list[float]]:
    """Host per-sample factors of ``sgd_pass``: ``[-eta, decay, u]`` with the weight decay
    ``max(0, 1 - l2_share * eta * alpha)`` (1 without an L2 part) and ``u`` the cumulative
    L1 penalty of the call so far (scikit-learn's ``u``, restarted on every call)."""
    l2 = (1.0 - l1_ratio) if penalty == "elasticnet" else (1.0 if penalty == "l2" else 0.0)
    l1 = l1_ratio if penalty == "elasticnet" else (1.0 if penalty == "l1" else 0.0)
    out, u = [], 0.0
    for eta in etas:
        u += l1 * eta * alpha
        out.append([-eta, max(0.0, 1.0 - l2 * eta * alpha), u])
    return out


def sgd_pass(xp: Any, W: Any, b: Any, X: Any, Y: Any, rates: Any, pos_weight: Any,
             neg_weight: Any, *, loss: str, epsilon: float, penalty: str | None,
             fit_intercept: bool, pa: str | None = None, C: float = 1.0,
             weighted: bool = False) -> tuple[Any, Any]:
    """``(W, b)`` after scikit-learn's plain SGD over the rows of ``X``/``Y`` in order.

    ``rates`` ``(n, 3)``: ``sgd_rates`` of the samples' learning rates (the schedule is host
    arithmetic on the sample count). ``penalty``: None, ``"l2"``, ``"l1"`` or
    ``"elasticnet"`` (the decay before the step, then the cumulative L1 penalty of Tsuruoka
    et al. whose per-weight accumulator ``q`` starts at zero on every call, as in
    ``_plain_sgd``). ``pa``: ``"pa1"``/``"pa2"`` for the passive-aggressive steps with
    aggressiveness ``C`` (regression). ``pos_weight``/``neg_weight`` ``(k,)``: class weights
    of a classifier (labels +-1 in ``Y``), applied when ``weighted``. A batch with a NaN
    leaves ``(W, b)`` as they were (selected on the device). Every int comes from a shape and
    every option is a keyword, so ``_backend.compile_kernel`` can compile it per shape."""
    W_in, b_in = W, b
    n = X.shape[0]
    decays = penalty in ("l2", "elasticnet")
    has_l1 = penalty in ("l1", "elasticnet")
    q = None  # the cumulative L1 penalty applied to each weight in this call
    if pa:
        sq = xp.sum(X * X, axis=1)
        if pa == "pa1":  # scikit-learn skips a sample with |x| = 0
            inv = xp.where(sq == 0.0, xp.zeros_like(sq),
                           1.0 / xp.where(sq == 0.0, xp.ones_like(sq), sq))
        else:
            inv = 1.0 / (sq + 0.5 / C)
        cap = xp.full_like(W[:1, :], C)
    elif loss in ("squared_error", "squared_hinge", "squared_epsilon_insensitive"):
        lo, hi = xp.full_like(W[:1, :], -MAX_DLOSS), xp.full_like(W[:1, :], MAX_DLOSS)
    for i in range(n):
        x = X[i:i + 1, :]
        y = Y[i:i + 1, :]
        p = x @ W + b
        if pa:
            step = eps_insensitive(xp, p, y, epsilon) * inv[i]
            step = xp.minimum(step, cap) if pa == "pa1" else step
            upd = xp.where(y - p < 0.0, -step, step)
        else:
            g = dloss(xp, loss, p, y, epsilon)
            if loss in ("squared_error", "squared_hinge", "squared_epsilon_insensitive"):
                g = xp.minimum(xp.maximum(g, lo), hi)
            upd = rates[i, 0] * g
        if weighted:
            upd = upd * xp.where(y > 0.0, pos_weight, neg_weight)
        if decays:
            W = W * rates[i, 1]
        W = W + _t(xp, x) * upd
        if fit_intercept:
            b = b + upd[0, :]
        if has_l1:
            u = rates[i, 2]
            W0 = W
            if q is None:  # nothing applied yet: soft-threshold at u
                W = xp.sign(W) * _relu(xp, xp.abs(W) - u)
            else:
                pos = _relu(xp, W - (u + q))
                neg = -_relu(xp, -(W + (u - q)))
                W = xp.where(W > 0.0, pos, xp.where(W < 0.0, neg, W))
            if i < n - 1:  # q is read only by the next samples of this call
                q = (W - W0) if q is None else q + (W - W0)
    if n:
        bad = xp.any(xp.isnan(X)) | xp.any(xp.isnan(Y))
        W, b = xp.where(bad, W_in, W), xp.where(bad, b_in, b)
    return W, b


def squared_block_factors(etas: list[float], decays: list[float]) -> tuple | None:
    """Host factors of ``sgd_squared_block`` for the samples' learning rates and weight
    decays: ``(F, S, v)`` with ``F[i, j] = a_{j+1} ... a_{i-1}`` below the diagonal (the decay
    between samples j and i), ``S`` the strictly lower ones, ``v = [eta, C_i, C_n / C_{j+1}]``
    columns and the total decay ``C_n`` appended as a last row. None when a decay is 0 (then
    the per-sample pass is used)."""
    import numpy as np

    a = np.asarray(decays, dtype=np.float64)
    if np.any(a <= 0.0):
        return None
    n = len(etas)
    C = np.concatenate([[1.0], np.cumprod(a)])  # C[i] = a_0 ... a_{i-1}
    F = np.tril(C[:n, None] / C[None, 1:], -1)
    S = np.tril(np.ones((n, n)), -1)
    v = np.stack([np.asarray(etas), C[:n], C[n] / C[1:]], axis=1)
    return F, S, np.concatenate([v, [[0.0, C[n], 0.0]]])


def sgd_squared_block(xp: Any, W: Any, b: Any, X: Any, Y: Any, F: Any, S: Any, v: Any, *,
                      fit_intercept: bool) -> tuple[Any, Any]:
    """``sgd_pass`` for the squared loss with an L2 penalty (or none), in closed form: the
    predictions the pass would make solve one lower-triangular system, because each update
    is linear in them (``u = -eta (p - y)``). ``(F, S, v)``: ``squared_block_factors``.
    Equal to the per-sample pass within rounding; scikit-learn's clipping of the loss
    derivative at 1e12 (reached only by a diverging model) is not applied."""
    n = X.shape[0]
    eta, c, r, cn = v[:n, 0:1], v[:n, 1:2], v[:n, 2:3], v[n, 1]
    M = F * (X @ _t(xp, X))
    if fit_intercept:
        M = M + S
    rhs = c * (X @ W) + M @ (eta * Y)
    if fit_intercept:
        rhs = rhs + b
    T = eye(xp, n, dtype=X.dtype, device=device_of(X)) + M * _t(xp, eta)
    U = -eta * (xp.linalg.solve(T, rhs) - Y)
    W1 = cn * W + _t(xp, X) @ (r * U)
    b1 = b + xp.sum(U, axis=0) if fit_intercept else b
    bad = xp.any(xp.isnan(X)) | xp.any(xp.isnan(Y))
    return xp.where(bad, W, W1), xp.where(bad, b, b1)


def glm_minibatch_step(xp: Any, W: Any, b: Any, X: Any, Y: Any, *, loss: str, lr: float,
                       intercept_lr: float, l2: float, clip: float,
                       l1: float = 0.0, l1_state: tuple | None = None):
    """river ``GLM.learn_many``: one step along the batch-mean gradient.

    ``loss``: ``"squared"`` (linear regression, gradient ``p - y``) or ``"log"`` (logistic
    regression, river's ``Log`` loss on targets mapped ``y -> 2y - 1``). ``l1_state``:
    ``(max_cum, cum)`` of river's cumulative L1 penalty (``l1 > 0``). Returns
    ``(W, b, l1_state)``."""
    n = X.shape[0]
    if n == 0:
        return W, b, l1_state
    p = X @ W + b
    if loss == "squared":
        g = p - Y
    else:
        s = 2.0 * Y - 1.0
        g = -s * activation.expit(xp, -p * s)  # -s / (exp(p s) + 1), finite for any p
    g = xp.minimum(xp.maximum(g, xp.full_like(g, -clip)), xp.full_like(g, clip))
    b = b - intercept_lr * xp.mean(g, axis=0)
    grad = (_t(xp, X) @ g) / n
    if l2:
        grad = grad + l2 * W
    W = W - lr * grad
    if l1:
        max_cum, cum = l1_state
        max_cum = max_cum + l1 * lr
        W0 = W
        pos = xp.maximum(W - (max_cum + cum), xp.zeros_like(W))
        neg = xp.minimum(W + (max_cum - cum), xp.zeros_like(W))
        W = xp.where(W > 0.0, pos, xp.where(W < 0.0, neg, W))
        l1_state = (max_cum, cum + (W - W0))
    return W, b, l1_state


def logistic_step(xp: Any, W: Any, b: Any, X: Any, Y: Any, *, lr: float, intercept_lr: float,
                  l2: float, clip: float) -> tuple[Any, Any]:
    """``glm_minibatch_step`` of river's logistic regression without L1, skipping (on the
    device) a batch with a NaN: arrays in, arrays out, so it compiles per shape on JAX."""
    W1, b1, _ = glm_minibatch_step(xp, W, b, X, Y, loss="log", lr=lr,
                                   intercept_lr=intercept_lr, l2=l2, clip=clip)
    bad = xp.any(xp.isnan(X)) | xp.any(xp.isnan(Y))
    return xp.where(bad, W, W1), xp.where(bad, b, b1)


def invscaling_etas(eta0: float, power_t: float, t0: float, n: int) -> list[float]:
    """Host learning rates ``eta0 / t^power_t`` for samples ``t0 .. t0 + n - 1``."""
    return [eta0 / math.pow(t0 + i, power_t) for i in range(n)]
