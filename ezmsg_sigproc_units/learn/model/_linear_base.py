"""The base of the native linear estimators (``learn.model.linear``): input preparation,
weights, ``predict`` and scikit-learn's ``coef_``/``intercept_``."""

from __future__ import annotations

import functools
from typing import Any

from array_api_compat import is_jax_namespace

from ..._backend import (
    asarray,
    compile_kernel,
    float_dtype_for,
    materialize,
    move,
    namespace_and_device,
)
from .._learn_common import NotFittedError

_KERNELS: dict[tuple, Any] = {}


def kernel(xp: Any, fn: Any, **options: Any) -> Any:
    """``fn`` with its keyword ``options`` bound, compiled per shape on JAX
    (``_backend.compile_kernel``; one function object per option set, so each set compiles
    once per shape) and eager elsewhere. Not compiled on MLX: its ``compile`` aborted on
    these kernels (``IndexError: _Map_base::at`` around ``linalg.solve``, MLX 0.x CPU)."""
    key = (fn, *sorted(options.items()))
    bound = _KERNELS.get(key)
    if bound is None:
        bound = _KERNELS[key] = functools.partial(fn, **options)
    if is_jax_namespace(xp):
        return compile_kernel(xp, bound)
    return functools.partial(bound, xp)


def settle(*arrays: Any) -> None:
    """Schedule lazily evaluated (MLX) model state to be computed now: a stream of fits with
    no prediction in between would otherwise chain every update into one growing graph."""
    for a in arrays:
        materialize(a, "async")


def not_fitted(name: str) -> Exception:
    """``learn.util.NotFittedError`` for estimator ``name``."""
    return NotFittedError(f"This {name} instance is not fitted yet; call 'fit' or 'partial_fit' "
                          f"first")


def prepare(X: Any, y: Any = None) -> tuple[Any, Any, Any, Any, bool]:
    """``(xp, device, X, Y, y_was_1d)``: ``X`` ``(n, d)`` in its float compute dtype, ``y`` as
    ``(n, k)`` in the same namespace, device and dtype (host targets are moved once)."""
    xp, dev = namespace_and_device(X)
    dtype = float_dtype_for(xp, X.dtype, dev)
    if X.dtype != dtype:
        X = xp.astype(X, dtype)
    if X.ndim != 2:
        raise ValueError(f"X: expected (n_samples, n_features), got shape {tuple(X.shape)}")
    if y is None:
        return xp, dev, X, None, False
    if type(y) is not type(X):
        y = asarray(xp, y, dtype=dtype, device=dev)
    elif y.dtype != dtype:
        y = xp.astype(y, dtype)
    y1d = y.ndim == 1
    Y = xp.reshape(y, (y.shape[0], 1)) if y1d else y
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"y: {Y.shape[0]} targets for {X.shape[0]} samples")
    return xp, dev, X, Y, y1d


class LinearModel:
    """What every estimator here shares: weights, ``predict``, scikit-learn's attributes."""

    _W: Any = None
    _b: Any = None
    _y1d: bool = False
    n_features_in_: int | None = None

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @property
    def is_fitted(self) -> bool:
        return self._W is not None

    def clear(self) -> None:
        """Forget the fit (the settings stay)."""
        self._W = self._b = self.n_features_in_ = None
        self.__dict__.pop("_cast", None)

    def _check_X(self, X: Any) -> tuple[Any, Any, Any]:
        if self._W is None:
            raise not_fitted(type(self).__name__)
        xp, dev, X, _, _ = prepare(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input")
        return xp, dev, X

    def decision_2d(self, X: Any) -> Any:
        """``X @ W + b`` as ``(n, k)``, in ``X``'s float dtype and namespace (the weights are
        moved or cast once per change of the input's namespace, device or dtype)."""
        xp, dev, X = self._check_X(X)
        key = (type(X), str(dev), X.dtype)
        c = self.__dict__.get("_cast")
        if c is None or c[0] != key or c[1] is not self._W:
            c = self._cast = (key, self._W, move(self._W, xp, dev, X.dtype),
                              move(self._b, xp, dev, X.dtype))
        return X @ c[2] + c[3]

    def predict_2d(self, X: Any) -> Any:
        """Predictions ``(n, k)`` (what the processors publish)."""
        return self.decision_2d(X)

    def predict(self, X: Any) -> Any:
        out = self.predict_2d(X)
        if self._y1d:
            xp = namespace_and_device(out)[0]
            return xp.reshape(out, (out.shape[0],))
        return out

    @property
    def coef_(self) -> Any:
        if self._W is None:
            raise not_fitted(type(self).__name__)
        xp = namespace_and_device(self._W)[0]
        c = xp.permute_dims(self._W, (1, 0))
        return xp.reshape(c, (c.shape[1],)) if self._y1d else c

    @property
    def intercept_(self) -> Any:
        if self._b is None:
            raise not_fitted(type(self).__name__)
        return self._b[0] if self._y1d else self._b

    def set_weights(self, coef: Any, intercept: Any, xp: Any, device: Any, dtype: Any) -> None:
        """Load fitted weights (e.g. scikit-learn's ``coef_``/``intercept_``, host arrays) onto
        ``xp``/``device``: ``coef`` ``(d,)`` or ``(k, d)``, ``intercept`` scalar or ``(k,)``."""
        import numpy as np

        c = np.asarray(coef, dtype=np.float64)
        self._y1d = c.ndim == 1
        c = c.reshape(1, -1) if self._y1d else c
        b = np.broadcast_to(np.asarray(intercept, dtype=np.float64).reshape(-1), (c.shape[0],))
        self._W = asarray(xp, np.ascontiguousarray(c.T), dtype=dtype, device=device)
        self._b = asarray(xp, np.ascontiguousarray(b), dtype=dtype, device=device)
        self.n_features_in_ = c.shape[1]
