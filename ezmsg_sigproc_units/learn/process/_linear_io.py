"""What the linear regressor processors share: training arrays from a sample message, the
prediction message built from the targets' layout, loading a fitted model from a pickle, and
the adaptive Unit that materialises what it publishes."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from ..._backend import move, namespace_and_device
from ..._messages import new_message, replace_fields
from ..._processors import stream_axis
from .._learn_common import features, log_feature_change, trigger_value, warn_not_fitted

STREAMING_DIMS = ("time",)


def check_regressor_settings(settings: Any, kinds: type) -> None:
    """The checks shared by the regressor settings: ``model_type`` one of ``kinds`` (an
    enum), ``settings_path`` a path or None, ``model_kwargs`` a dict."""
    try:
        kinds(settings.model_type)
    except ValueError:
        raise ValueError(f"model_type: unknown {settings.model_type!r}; one of "
                         f"{[m.value for m in kinds]}") from None
    path = settings.settings_path
    if path is not None and (not isinstance(path, str) or not path):
        raise ValueError(f"settings_path: a file path or None, got {path!r}")
    if not isinstance(settings.model_kwargs, dict):
        raise ValueError(f"model_kwargs: a dict, got {type(settings.model_kwargs).__name__}")


def sample_axis(proc: Any, message: AxisArray) -> str:
    """The dim observations run along: the message's ``stream_dim``, else ``"time"``, else
    the first dim."""
    return stream_axis(proc, message, None)


def signal_features(proc: Any, message: AxisArray) -> tuple[Any, str, Any]:
    """``(xp, axis, X (n, d))`` of a message."""
    xp = namespace_and_device(message.data)[0]
    axis = sample_axis(proc, message)
    return xp, axis, features(xp, message.data, message.dims.index(axis))


def training_arrays(proc: Any, message: AxisArray, who: str) -> tuple[Any, Any, AxisArray]:
    """``(X (n, d), Y (n, k), targets)`` of a training sample whose trigger value is an
    AxisArray of targets; ``X`` and ``Y`` are cut to the shorter of the two (as ezmsg-learn's
    static regressor does: a resampled target may be a sample longer or shorter)."""
    value = trigger_value(message, who)
    if not isinstance(value, AxisArray):
        raise ValueError(f"{who}: a training sample's trigger value must be an AxisArray of "
                         f"targets (time, ch); got {type(value).__name__}")
    xp, dev = namespace_and_device(message.data)
    _, _, X = signal_features(proc, message)
    Y = value.data
    tdim = value.dims.index("time") if "time" in value.dims else 0
    Y = features(xp, move(Y, xp, dev), tdim) if Y.ndim > 1 else xp.reshape(
        move(Y, xp, dev), (Y.shape[0], 1))
    n = min(X.shape[0], Y.shape[0])
    if n != X.shape[0]:
        X = X[:n, :]
    if n != Y.shape[0]:
        Y = Y[:n, :]
    return X, Y, value


def _own_axis(ax: Any) -> Any:
    """``ax`` with its coordinates copied: a message's NumPy arrays may be views into a
    shared-memory slot that the transport reuses."""
    data = getattr(ax, "data", None)
    if data is None:
        return ax
    own = AxisArray.CoordinateAxis(data=np.array(data, copy=True), dims=list(ax.dims),
                                   unit=ax.unit)
    own.fingerprint  # noqa: B018 - cached once, for every prediction that shares the axis
    return own


def template_from_targets(value: AxisArray) -> AxisArray:
    """An output template in the targets' layout (their dims and non-time axes, copied; key
    ``<key>_pred``); it keeps no reference to the sample's arrays."""
    if value.data.ndim == 2 and value.dims[0] == "time":
        dims = list(value.dims)
        axes = {k: _own_axis(v) for k, v in value.axes.items() if k != "time"}
    elif value.data.ndim == 1:
        dims, axes = ["time"], {}
    else:
        dims, axes = ["time", "ch"], {}
    return new_message(np.zeros((0,) * len(dims)), dims, axes, key=value.key + "_pred")


def template_from_signal(message: AxisArray, k: int, labels: list | None = None) -> AxisArray:
    """An output template ``(time, ch)`` with ``labels`` (default ``ch0 .. ch{k-1}``), for a
    loaded model that has seen no targets."""
    names = labels if labels is not None and len(labels) == k else [f"ch{i}" for i in range(k)]
    ch = AxisArray.CoordinateAxis(data=np.asarray(names), dims=["ch"])
    ch.fingerprint  # noqa: B018 - cached once here, for every message that shares the axis
    return new_message(np.zeros((0, k)), ["time", "ch"], {"ch": ch},
                       key=message.key + "_pred")


def prediction(template: AxisArray, preds: Any, message: AxisArray, axis: str) -> AxisArray:
    """``preds`` ``(n, k)`` as a message in ``template``'s layout, on the input's ``axis``
    coordinates."""
    if len(template.dims) == 1:
        xp = namespace_and_device(preds)[0]
        preds = xp.reshape(preds, (preds.shape[0],))
    axes = dict(template.axes)
    if axis in message.axes:
        axes[template.dims[0]] = message.axes[axis]
    return replace_fields(template, preds, axes=axes, stream_dim=template.dims[0])


def load_pickle(path: str) -> Any:
    """Unpickle a fitted model. A scikit-learn or river estimator imports its own package
    here, and only here (our modules never import scikit-learn or river)."""
    with open(path, "rb") as f:
        return pickle.load(f)


def fitted_weights(obj: Any) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(coef (k, d) or (d,), intercept, extra)`` on the host from a fitted linear model:
    scikit-learn's (``coef_``, ``intercept_``; ``extra`` holds ``t_``), a river linear model
    (``weights`` dict keyed ``f0 .. f{d-1}``, ``intercept``) or a dict of river models, one
    per target label (``extra["labels"]``)."""
    if hasattr(obj, "coef_"):
        extra = {"t_": float(obj.t_)} if hasattr(obj, "t_") else {}
        return np.asarray(obj.coef_, dtype=np.float64), np.asarray(obj.intercept_), extra

    def river(m: Any) -> tuple[np.ndarray, float]:
        w = dict(m.weights)
        d = 1 + max((int(str(k)[1:]) for k in w), default=-1)
        return np.array([w.get(f"f{i}", 0.0) for i in range(d)]), float(m.intercept)

    if isinstance(obj, dict):
        parts = [river(m) for m in obj.values()]
        d = max(len(c) for c, _ in parts)
        coef = np.stack([np.pad(c, (0, d - len(c))) for c, _ in parts])
        return coef, np.array([b for _, b in parts]), {"labels": list(obj)}
    if hasattr(obj, "weights") and hasattr(obj, "intercept"):
        c, b = river(obj)
        return c, np.array(b), {}
    raise ValueError(f"settings_path: {type(obj).__name__} is not a fitted linear model "
                     f"(no coef_/intercept_ nor river weights)")


class RegressorMixin:
    """The regressor processors' shared behaviour (put it before ``BaseAdaptiveTransformer``):
    a constant reset hash (the model outlives layout changes; the feature count is checked
    instead), the model built from ``settings.model_kwargs`` or loaded from
    ``settings.settings_path``, and ``_process``. Subclasses set ``_klass`` and ``WHO``."""

    WHO = "regressor"
    _klass: Any = None
    _loaded_labels: list | None = None

    def _new_model(self) -> Any:
        return self._klass(**copy.deepcopy(self.settings.model_kwargs))

    def _initial_model(self) -> Any:
        model = self._new_model()
        if self.settings.settings_path is not None:
            coef, intercept, extra = fitted_weights(load_pickle(self.settings.settings_path))
            model.set_weights(coef, intercept, np, "cpu", np.float64)
            if "t_" in extra and hasattr(model, "t_"):
                model.t_ = extra["t_"]
            self._loaded_labels = extra.get("labels")
        return model

    def _hash_message(self, message: AxisArray) -> int:
        return 0

    def _reset_state(self, message: AxisArray) -> None:
        pass

    def _process(self, message: AxisArray) -> AxisArray | None:
        state = self.state
        model = state.model
        if not model.is_fitted:
            warn_not_fitted(self)
            return None
        xp, axis, X = signal_features(self, message)
        if X.shape[1] != model.n_features_in_:
            log_feature_change(self.WHO, model.n_features_in_, X.shape[1])
            state.model, state.template = self._new_model(), None
            warn_not_fitted(self)
            return None
        preds = model.predict_2d(X)
        if state.template is None:
            state.template = template_from_signal(message, preds.shape[1], self._loaded_labels)
        return prediction(state.template, preds, message, axis)
