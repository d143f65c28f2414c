"""Native linear estimators with scikit-learn's ``fit``/``partial_fit``/``predict`` on arrays of
any Array API namespace, computed where the data lives (no scikit-learn, river or pandas).

* ``LinearRegression``, ``Ridge``: closed-form least squares / ridge (normal equations, the
  intercept by centring), equal to scikit-learn's within float tolerance.
* ``OnlineLinearRegression``: recursive least squares: after any split of the same samples
  the fit is the same, the least-squares fit with a tiny ridge ``delta`` (float64 state where
  the device has it). Replaces river's SGD ``LinearRegression`` (see the migration notes).
* ``OnlineLogisticRegression``: river's ``LogisticRegression`` mini-batch SGD step.
* ``SGDRegressor``, ``PassiveAggressiveRegressor``, ``SGDClassifier``: scikit-learn's plain
  SGD, sample by sample in the given order (``learn.model._linear_sgd``).

Weights live as ``W`` ``(d, k)`` and ``b`` ``(k,)``; ``coef_``/``intercept_`` present them in
scikit-learn's shapes. ``predict`` before any fit raises ``learn.util.NotFittedError``; a
feature count other than the fitted one raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez

from ..._backend import (
    move,
    namespace_and_device,
    supports_float64,
    zeros,
)
from ..._kernels import activation
from ..._kernels import online_linear as kern
from .._learn_common import warn_regularised
from ._linear_base import LinearModel, kernel, prepare, settle

RLS_BLOCK = 64
"""Samples per recursive-least-squares update (each solves an n x n system)."""

IGNORED_RIVER_KWARGS = ("optimizer", "loss", "l1", "intercept_init", "intercept_lr",
                        "clip_gradient", "initializer", "learn_rate")


class LinearRegression(LinearModel):
    """Ordinary least squares, closed form (``sklearn.linear_model.LinearRegression``).

    Rank-deficient data (fewer samples than features, collinear or constant features) gets a
    jitter of machine-epsilon size, so the fit is close to scikit-learn's minimum-norm
    solution and never NaN; fewer samples than features also logs one warning (collinear
    features are not looked for: that would need a host read of the spectrum).
    ``positive=True`` is not supported."""

    alpha: float = 0.0

    def __init__(self, fit_intercept: bool = True, copy_X: bool = True, tol: float = 1e-6,
                 n_jobs: Any = None, positive: bool = False) -> None:
        if positive:
            raise ValueError("positive: non-negative least squares is not supported natively")
        self.fit_intercept = bool(fit_intercept)

    def fit(self, X: Any, y: Any) -> LinearRegression:
        xp, _, X, Y, y1d = prepare(X, y)
        n, d = X.shape
        self._W, self._b = kernel(xp, kern.ridge_fit, alpha=float(self.alpha),
                                  fit_intercept=self.fit_intercept)(X, Y)
        self._y1d, self.n_features_in_ = y1d, d
        if self.alpha == 0.0 and n <= d:
            warn_regularised(self, f"{n} samples for {d} features; a jitter of machine-epsilon "
                                   f"size keeps the least-squares system solvable")
        return self


class Ridge(LinearRegression):
    """Ridge regression, closed form (``sklearn.linear_model.Ridge``): the intercept is not
    penalised. ``alpha`` is one float (per-target alphas are not supported)."""

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True, copy_X: bool = True,
                 max_iter: Any = None, tol: float = 1e-4, solver: str = "auto",
                 positive: bool = False, random_state: Any = None) -> None:
        super().__init__(fit_intercept=fit_intercept, positive=positive)
        if not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(f"alpha: must be a float >= 0, got {alpha!r}")
        self.alpha = float(alpha)


def _note_ignored(owner: Any, kwargs: dict) -> None:
    given = sorted(k for k in kwargs if k in IGNORED_RIVER_KWARGS)
    if given:
        ez.logger.info(f"{type(owner).__name__}: river's {given} do not apply to this "
                       f"estimator and are ignored")
    unknown = sorted(k for k in kwargs if k not in IGNORED_RIVER_KWARGS)
    if unknown:
        raise ValueError(f"model_kwargs: unknown {unknown} for {type(owner).__name__}")


class OnlineLinearRegression(LinearModel):
    """Recursive least squares with an intercept: ``partial_fit`` on any split of the same
    samples gives the same fit, the ridge solution ``min |y - Xw - b|^2 + lam |(w, b)|^2`` with
    ``lam = max(l2, delta)``. The state (``P``, ``(d+1)^2``) is float64 where the device has
    float64; ``delta`` defaults to 1e-6 there and 1e-2 for float32 state. river's SGD options
    (``optimizer``, ``learn_rate``, ``intercept_lr`` ...) are accepted and ignored: there is
    no learning rate to tune."""

    def __init__(self, l2: float = 0.0, delta: float | None = None, **river_kwargs: Any):
        if l2 < 0:
            raise ValueError(f"l2: must be >= 0, got {l2!r}")
        _note_ignored(self, river_kwargs)
        self.l2, self.delta = float(l2), delta
        self._P = self._w = None
        self.n_samples_seen_ = 0

    def _start(self, xp: Any, dev: Any, X: Any, k: int) -> None:
        dtype = xp.float64 if supports_float64(xp, dev) else X.dtype
        delta = self.delta if self.delta is not None else (
            1e-6 if dtype == xp.float64 else 1e-2)
        self._P, self._w = kern.rls_init(xp, X.shape[1], k, max(self.l2, delta),
                                         dtype=dtype, device=dev)
        if self._W is not None and tuple(self._W.shape) == (X.shape[1], k):
            # loaded weights (settings_path) are the prior mean the samples update
            self._w = xp.concat([move(self._W, xp, dev, dtype),
                                 xp.reshape(move(self._b, xp, dev, dtype), (1, k))], axis=0)
        self.n_features_in_, self.n_samples_seen_ = X.shape[1], 0

    def partial_fit(self, X: Any, y: Any) -> OnlineLinearRegression:
        xp, dev, X, Y, y1d = prepare(X, y)
        if self._P is None or X.shape[1] != self.n_features_in_:
            self._start(xp, dev, X, Y.shape[1])
        self._y1d = y1d
        update, n = kernel(xp, kern.rls_update), X.shape[0]
        for s in range(0, n, RLS_BLOCK):  # the n x n system costs n^3: keep blocks small
            e = min(s + RLS_BLOCK, n)
            self._P, self._w = update(self._P, self._w, X[s:e, :], Y[s:e, :])
        self.n_samples_seen_ += n
        d = self.n_features_in_
        self._W = xp.astype(self._w[:d, :], X.dtype)
        self._b = xp.astype(self._w[d, :], X.dtype)
        settle(self._P, self._w, self._W, self._b)
        if 0 < self.n_samples_seen_ <= d and self.l2 == 0.0:
            warn_regularised(self, f"{self.n_samples_seen_} samples so far for {d} features; "
                                   f"the recursive least squares keeps its ridge prior")
        return self

    def fit(self, X: Any, y: Any) -> OnlineLinearRegression:
        self._P = None
        return self.partial_fit(X, y)


class OnlineLogisticRegression(LinearModel):
    """river's ``LogisticRegression`` with river's defaults: one SGD step (``learn_rate``,
    default 0.01) along the batch-mean gradient of the log loss per ``partial_fit`` (targets
    in {0, 1}), intercept step ``intercept_lr``, ``l2``/``l1`` penalties, gradient clipping.
    ``predict`` gives the class (0.0 or 1.0, in the input's float dtype); ``predict_proba``
    the probability of class 1. ``optimizer``: an object with a float ``learning_rate``
    (river's ``optim.SGD``) or None."""

    def __init__(self, optimizer: Any = None, loss: Any = None, l2: float = 0.0,
                 l1: float = 0.0, intercept_init: float = 0.0, intercept_lr: Any = 0.01,
                 clip_gradient: float = 1e12, initializer: Any = None,
                 learn_rate: float | None = None) -> None:
        lr = learn_rate if learn_rate is not None else getattr(optimizer, "learning_rate", 0.01)
        ilr = getattr(intercept_lr, "learning_rate", intercept_lr)
        if not isinstance(lr, (int, float)) or not isinstance(ilr, (int, float)):
            raise ValueError("learn_rate/intercept_lr: only constant learning rates are "
                             "supported natively")
        if loss is not None and type(loss).__name__ != "Log":
            raise ValueError(f"loss: only river's Log loss is supported, got {loss!r}")
        self.lr, self.intercept_lr, self.l2, self.l1 = float(lr), float(ilr), l2, l1
        self.intercept_init, self.clip_gradient = float(intercept_init), float(clip_gradient)
        self._l1_state: Any = None

    def partial_fit(self, X: Any, y: Any) -> OnlineLogisticRegression:
        xp, dev, X, Y, y1d = prepare(X, y)
        if X.shape[0] == 0:
            return self
        if self._W is None or X.shape[1] != self.n_features_in_:
            k = Y.shape[1]
            self._W = zeros(xp, (X.shape[1], k), dtype=X.dtype, device=dev)
            self._b = zeros(xp, (k,), dtype=X.dtype, device=dev) + self.intercept_init
            self._l1_state = (0.0, xp.zeros_like(self._W)) if self.l1 else None
            self.n_features_in_ = X.shape[1]
        self._y1d = y1d
        self._W, self._b = move(self._W, xp, dev, X.dtype), move(self._b, xp, dev, X.dtype)
        if not self.l1:
            self._W, self._b = kernel(xp, kern.logistic_step, lr=self.lr,
                                      intercept_lr=self.intercept_lr, l2=self.l2,
                                      clip=self.clip_gradient)(self._W, self._b, X, Y)
            settle(self._W, self._b)
            return self
        bad = xp.any(xp.isnan(X)) | xp.any(xp.isnan(Y))
        W, b, l1s = kern.glm_minibatch_step(
            xp, self._W, self._b, X, Y, loss="log", lr=self.lr, intercept_lr=self.intercept_lr,
            l2=self.l2, clip=self.clip_gradient, l1=self.l1, l1_state=self._l1_state)
        self._W = xp.where(bad, self._W, W)  # a batch with a NaN is skipped, on the device
        self._b = xp.where(bad, self._b, b)
        self._l1_state = l1s
        settle(self._W, self._b, l1s[1])
        return self

    def predict_proba_2d(self, X: Any) -> Any:
        z = self.decision_2d(X)
        xp = namespace_and_device(z)[0]
        return activation.expit(xp, z)

    def predict_2d(self, X: Any) -> Any:
        z = self.decision_2d(X)
        xp = namespace_and_device(z)[0]
        return xp.astype(z > 0.0, z.dtype)


from ._linear_sgd import (  # noqa: E402 - after the estimators above, as documented
    PassiveAggressiveRegressor,
    SGDClassifier,
    SGDRegressor,
)

__all__ = ["LinearModel", "LinearRegression", "OnlineLinearRegression",
           "OnlineLogisticRegression", "PassiveAggressiveRegressor", "Ridge", "SGDClassifier",
           "SGDRegressor"]
