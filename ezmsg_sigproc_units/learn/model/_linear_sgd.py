"""scikit-learn's plain SGD estimators, natively: ``SGDRegressor``,
``PassiveAggressiveRegressor`` and ``SGDClassifier`` (re-exported by ``learn.model.linear``).

``partial_fit`` runs one pass over the samples in the order given (scikit-learn shuffles each
``partial_fit`` batch when ``shuffle=True``, its default, from an unseeded RNG; ours never does,
so a stream is reproducible). The learning-rate schedule counts samples across calls
(``t_``, from 1) exactly as scikit-learn's; the cumulative L1 penalty restarts with every call,
as in scikit-learn. A batch with a NaN is skipped (selected away on the device, no host sync);
its samples still advance the schedule. ``SGDRegressor``/``PassiveAggressiveRegressor`` also
accept several targets ``(n, k)``: ``k`` independent models.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._backend import asarray, move, to_host, zeros
from ..._kernels import activation
from ..._kernels import online_linear as kern
from ._linear_base import LinearModel, kernel, prepare, settle

_SCHEDULES = ("constant", "optimal", "invscaling", "adaptive", "pa1", "pa2")
_PENALTIES = (None, "l2", "l1", "elasticnet")
BLOCK = 64
"""Samples per kernel call: JAX unrolls a compiled pass over its samples, and the squared-loss
closed form costs B^2 d + B^3."""



class _PlainSGD(LinearModel):
    """Shared settings, schedule and pass of the SGD estimators."""

    _pa: str | None = None
    _losses: tuple = kern.REGRESSION_LOSSES

    def __init__(self, *, loss: str, penalty: str | None, alpha: float, l1_ratio: float,
                 fit_intercept: bool, epsilon: float, learning_rate: str, eta0: float,
                 power_t: float, average: Any, C: float = 1.0) -> None:
        if loss not in self._losses:
            raise ValueError(f"loss: {loss!r} is not one of {list(self._losses)}")
        if penalty not in _PENALTIES:
            raise ValueError(f"penalty: {penalty!r} is not one of {list(_PENALTIES)}")
        if learning_rate not in _SCHEDULES and self._pa is None:
            raise ValueError(f"learning_rate: {learning_rate!r} is not one of "
                             f"{list(_SCHEDULES)}")
        if average:
            raise ValueError("average: averaged SGD is not supported natively")
        if alpha < 0 or (learning_rate == "optimal" and alpha == 0):
            raise ValueError(f"alpha: must be >= 0 (> 0 for 'optimal'), got {alpha!r}")
        if learning_rate in ("constant", "invscaling", "adaptive") and eta0 <= 0 and not self._pa:
            raise ValueError(f"eta0: must be > 0 for learning_rate={learning_rate!r}")
        self.loss, self.penalty, self.alpha = loss, penalty, float(alpha)
        self.l1_ratio = float(l1_ratio if l1_ratio is not None else 0.0)
        self.fit_intercept, self.epsilon = bool(fit_intercept), float(epsilon)
        self.learning_rate, self.eta0, self.power_t = learning_rate, float(eta0), float(power_t)
        self.C = float(C)
        if learning_rate in ("pa1", "pa2"):  # scikit-learn 1.8+: passive-aggressive via SGD
            self._pa, self.C = learning_rate, float(eta0)
        self.t_ = 1.0

    def _etas(self, n: int) -> list[float]:
        """The learning rate of each of the next ``n`` samples (scikit-learn's schedules;
        ``adaptive`` stays at ``eta0`` within single-epoch ``partial_fit`` calls)."""
        t0 = self.t_
        if self.learning_rate == "invscaling":
            return kern.invscaling_etas(self.eta0, self.power_t, t0, n)
        if self.learning_rate == "optimal":
            typw = math.sqrt(1.0 / math.sqrt(self.alpha))
            d0 = float(kern.dloss(np, self.loss, np.asarray(-typw), np.asarray(1.0),
                                  self.epsilon))
            init = 1.0 / (typw / max(1.0, d0) * self.alpha)
            return [1.0 / (self.alpha * (init + t0 + i - 1.0)) for i in range(n)]
        return [self.eta0] * n

    def _start(self, xp: Any, dev: Any, d: int, k: int, dtype: Any) -> None:
        self._W = zeros(xp, (d, k), dtype=dtype, device=dev)
        self._b = zeros(xp, (k,), dtype=dtype, device=dev)
        self.n_features_in_ = d

    def _run(self, xp: Any, dev: Any, X: Any, Y: Any, pos: Any = None, neg: Any = None) -> None:
        """One pass over the samples, ``BLOCK`` at a time (a compiled kernel unrolls its
        samples, and the squared-loss closed form costs ``B^2 d + B^3``)."""
        n = X.shape[0]
        if n == 0:
            return
        etas = self._etas(n)
        rates = kern.sgd_rates(etas, alpha=self.alpha, penalty=self.penalty,
                               l1_ratio=self.l1_ratio)
        W, b = move(self._W, xp, dev, X.dtype), move(self._b, xp, dev, X.dtype)  # loaded ones
        self.t_ += n
        closed = (n > 1 and self.loss == "squared_error" and self.penalty in (None, "l2")
                  and pos is None and self._pa is None and all(r[1] > 0.0 for r in rates))
        if closed:  # every update is linear in the predictions: one solve per block
            fn = kernel(xp, kern.sgd_squared_block, fit_intercept=self.fit_intercept)
        else:
            fn = kernel(xp, kern.sgd_pass, loss=self.loss, epsilon=self.epsilon,
                        penalty=self.penalty, fit_intercept=self.fit_intercept, pa=self._pa,
                        C=self.C, weighted=pos is not None)
            if pos is None:
                pos = neg = b  # unused (weighted=False); arrays keep the kernel compilable
        W1, b1 = W, b
        # the L1 accumulators restart with every kernel call, as with every scikit-learn
        # call: a message with an L1 part stays one call
        step = n if self.penalty in ("l1", "elasticnet") else BLOCK
        for s in range(0, n, step):
            e = min(s + step, n)  # in-bounds stops (array-api-strict insists)
            if closed:
                factors = kern.squared_block_factors(etas[s:e], [r[1] for r in rates[s:e]])
                F, S, v = (asarray(xp, f, dtype=X.dtype, device=dev) for f in factors)
                W1, b1 = fn(W1, b1, X[s:e, :], Y[s:e, :], F, S, v)
            else:
                r = asarray(xp, rates[s:e], dtype=X.dtype, device=dev)
                W1, b1 = fn(W1, b1, X[s:e, :], Y[s:e, :], r, pos, neg)
        if n > step:  # a NaN anywhere skips the whole message, as within a block
            bad = xp.any(xp.isnan(X)) | xp.any(xp.isnan(Y))
            W1, b1 = xp.where(bad, W, W1), xp.where(bad, b, b1)
        self._W, self._b = W1, b1
        settle(self._W, self._b)

    def _reset(self) -> None:
        self._W = self._b = None
        self.t_ = 1.0


class SGDRegressor(_PlainSGD):
    """``sklearn.linear_model.SGDRegressor`` (same parameters and defaults)."""

    def __init__(self, loss: str = "squared_error", *, penalty: str | None = "l2",
                 alpha: float = 1e-4, l1_ratio: float = 0.15, fit_intercept: bool = True,
                 max_iter: int = 1000, tol: float | None = 1e-3, shuffle: bool = True,
                 verbose: int = 0, epsilon: float = 0.1, random_state: Any = None,
                 learning_rate: str = "invscaling", eta0: float = 0.01, power_t: float = 0.25,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 5, warm_start: bool = False,
                 average: Any = False) -> None:
        super().__init__(loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                         fit_intercept=fit_intercept, epsilon=epsilon,
                         learning_rate=learning_rate, eta0=eta0, power_t=power_t,
                         average=average)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDRegressor:
        if sample_weight is not None:
            raise ValueError("sample_weight: not supported natively")
        xp, dev, X, Y, y1d = prepare(X, y)
        if self._W is None or X.shape[1] != self.n_features_in_:
            self._reset()
            self._start(xp, dev, X.shape[1], Y.shape[1], X.dtype)
        self._y1d = y1d
        self._run(xp, dev, X, Y)
        return self

    def fit(self, X: Any, y: Any) -> SGDRegressor:
        """One pass over the samples from a fresh model (no epochs, no shuffling)."""
        self._reset()
        return self.partial_fit(X, y)


class PassiveAggressiveRegressor(SGDRegressor):
    """``sklearn.linear_model.PassiveAggressiveRegressor``: PA-I steps
    ``min(C, loss / |x|^2)`` for ``epsilon_insensitive``, PA-II for
    ``squared_epsilon_insensitive``; no penalty."""

    _losses = ("epsilon_insensitive", "squared_epsilon_insensitive")

    def __init__(self, *, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 1000,
                 tol: float | None = 1e-3, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 5,
                 shuffle: bool = True, verbose: int = 0, loss: str = "epsilon_insensitive",
                 epsilon: float = 0.1, random_state: Any = None, warm_start: bool = False,
                 average: Any = False) -> None:
        if C <= 0:
            raise ValueError(f"C: must be > 0, got {C!r}")
        self._pa = "pa1" if loss == "epsilon_insensitive" else "pa2"
        _PlainSGD.__init__(self, loss=loss, penalty=None, alpha=1.0, l1_ratio=0.0,
                           fit_intercept=fit_intercept, epsilon=epsilon,
                           learning_rate="constant", eta0=1.0, power_t=0.5, average=average,
                           C=C)


class SGDClassifier(_PlainSGD):
    """``sklearn.linear_model.SGDClassifier`` (same parameters and defaults): one-vs-rest
    for more than two classes, ``class_weight`` a dict of label -> weight or None.
    ``classes_`` are the sorted labels; ``predict_proba`` is scikit-learn's
    ``_predict_proba_lr`` (the logistic of the decision, normalised over classes)."""

    _losses = kern.CLASSIFICATION_LOSSES + kern.REGRESSION_LOSSES

    def __init__(self, loss: str = "hinge", *, penalty: str | None = "l2", alpha: float = 1e-4,
                 l1_ratio: float = 0.15, fit_intercept: bool = True, max_iter: int = 1000,
                 tol: float | None = 1e-3, shuffle: bool = True, verbose: int = 0,
                 epsilon: float = 0.1, n_jobs: Any = None, random_state: Any = None,
                 learning_rate: str = "optimal", eta0: float = 0.0, power_t: float = 0.5,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 5, class_weight: Any = None, warm_start: bool = False,
                 average: Any = False) -> None:
        super().__init__(loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                         fit_intercept=fit_intercept, epsilon=epsilon,
                         learning_rate=learning_rate, eta0=eta0, power_t=power_t,
                         average=average)
        if class_weight is not None and not isinstance(class_weight, dict):
            raise ValueError(f"class_weight: a dict of label -> weight or None (partial_fit "
                             f"cannot use {class_weight!r})")
        self.class_weight = class_weight
        self.classes_: Any = None

    def _targets(self, y: Any) -> np.ndarray:
        labels = np.asarray(y).reshape(-1)
        unseen = sorted({str(v) for v in labels} - {str(c) for c in self.classes_})
        if unseen:
            raise ValueError(f"labels {unseen} are not among the declared classes "
                             f"{[str(c) for c in self.classes_]}")
        if len(self.classes_) == 2:
            return np.where(labels == self.classes_[1], 1.0, -1.0)[:, None]
        return np.where(labels[:, None] == self.classes_[None, :], 1.0, -1.0)

    def partial_fit(self, X: Any, y: Any, classes: Any = None,
                    sample_weight: Any = None) -> SGDClassifier:
        """``y``: host labels (a list or NumPy array). ``classes`` is required on the first
        call; a label outside it raises ``ValueError``."""
        if sample_weight is not None:
            raise ValueError("sample_weight: not supported natively")
        if self.classes_ is None:
            if classes is None:
                raise ValueError("classes: must be given on the first call to partial_fit")
            self.classes_ = np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"classes: need at least 2, got {list(self.classes_)}")
            missing = set(self.class_weight or {}) - {c for c in self.classes_.tolist()}
            if missing:
                raise ValueError(f"class_weight: labels {sorted(map(str, missing))} are not "
                                 f"in classes")
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)),
                                                        self.classes_):
            raise ValueError(f"classes: {list(classes)} differ from the first call's "
                             f"{list(self.classes_)}")
        xp, dev, X, _, _ = prepare(X)
        Yh = self._targets(y)
        if Yh.shape[0] != X.shape[0]:
            raise ValueError(f"y: {Yh.shape[0]} labels for {X.shape[0]} samples")
        K = Yh.shape[1]
        if self._W is None or X.shape[1] != self.n_features_in_:
            self._start(xp, dev, X.shape[1], K, X.dtype)
            self.t_ = 1.0
        cw = [float((self.class_weight or {}).get(c, 1.0)) for c in self.classes_.tolist()]
        pos, neg = ([cw[1]], [cw[0]]) if K == 1 else (cw, [1.0] * K)
        Y = asarray(xp, Yh, dtype=X.dtype, device=dev)
        self._run(xp, dev, X, Y, asarray(xp, np.asarray(pos), dtype=X.dtype, device=dev),
                  asarray(xp, np.asarray(neg), dtype=X.dtype, device=dev))
        return self

    def decision_function(self, X: Any) -> Any:
        z = self.decision_2d(X)
        if z.shape[1] == 1:
            xp = prepare(z)[0]
            return xp.reshape(z, (z.shape[0],))
        return z

    def predict_proba(self, X: Any) -> Any:
        """``(n, n_classes)`` probabilities in ``classes_`` order, on ``X``'s device."""
        z = self.decision_2d(X)
        xp = prepare(z)[0]
        p = activation.expit(xp, z)
        if p.shape[1] == 1:
            return xp.concat([1.0 - p, p], axis=1)
        return p / xp.sum(p, axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Host labels (``classes_`` entries)."""
        z = to_host(self.decision_2d(X))
        idx = (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else np.argmax(z, axis=1)
        return self.classes_[idx]
