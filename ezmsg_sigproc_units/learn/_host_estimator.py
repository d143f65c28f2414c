"""The host side of ``learn.process.sklearn``: an estimator object called on NumPy arrays.

Everything here runs on the host by design (the one documented NumPy boundary of the learn
family). It speaks three estimator dialects, chosen by what the object has:

* scikit-learn style: ``fit`` / ``partial_fit(X, y[, classes=])`` / ``predict`` /
  ``predict_proba`` on ``(n_samples, n_features)`` arrays;
* River style, one sample at a time: ``learn_one`` / ``predict_one`` /
  ``predict_proba_one`` on ``{"f0": x0, ...}`` dicts (no pandas needed);
* River style, batches: ``learn_many`` / ``predict_many`` / ``predict_proba_many`` on
  pandas DataFrames; pandas is imported here, lazily, only for such an object.

No module-level import of scikit-learn, River or pandas: ``resolve_class`` imports the module
a dotted ``model_class`` names when the model is built.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import to_host
from .._backend.portable import is_array


def resolve_class(spec: Any) -> Any:
    """The estimator class of ``model_class``: a class as given, or the class a dotted path
    ``"package.module.Class"`` names (its module imported now)."""
    if not isinstance(spec, str):
        return spec
    module_path, _, class_name = spec.rpartition(".")
    try:
        return getattr(importlib.import_module(module_path), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"model_class: cannot import {spec!r} ({exc})") from exc


def host_features(data: Any, dims: list[str]) -> tuple[np.ndarray, tuple[int, ...], int]:
    """``(X, lead_shape, feature_dim)``: ``data`` (any backend, or nested lists) on the host as
    ``(n_samples, n_features)``, the features dim (``"ch"`` when present, else the last) moved
    last and every other dim flattened (C order)."""
    if not dims:
        raise ValueError("message data is a scalar; an estimator needs samples x features")
    ix = dims.index("ch") if "ch" in dims else len(dims) - 1
    x = np.moveaxis(to_host(data) if is_array(data) else np.asarray(data), ix, -1)
    return x.reshape(-1, x.shape[-1]), x.shape[:-1], ix


def host_targets(value: Any, n: int) -> np.ndarray:
    """The training targets of ``n`` samples on the host: an AxisArray's data or any array
    (samples first; a single column becomes 1-D), or one label for every sample."""
    if value is None:
        raise ValueError("training sample: attrs['trigger'].value is None; it must hold the "
                         "label(s) or target AxisArray")
    if isinstance(value, AxisArray):
        value = value.data
    y = to_host(value) if is_array(value) else np.asarray(value)
    if y.ndim == 0:
        return np.repeat(y[None], n)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape[0] != n:
        raise ValueError(f"training sample: {y.shape[0]} targets for {n} samples")
    return y


def _rows(x: np.ndarray) -> list[dict]:
    return [{f"f{i}": v for i, v in enumerate(row.tolist())} for row in x]


def _frame(x: np.ndarray) -> Any:
    import pandas as pd  # River's batch API takes DataFrames

    return pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])


def learn(model: Any, x: np.ndarray, y: np.ndarray, classes: Any, *, whole: bool) -> None:
    """Train ``model`` on ``(x, y)``: ``fit`` when ``whole`` (else ``partial_fit``, passing
    ``classes`` when given), or River's ``learn_many`` / ``learn_one``."""
    if whole and hasattr(model, "fit"):
        model.fit(x, y)
    elif not whole and hasattr(model, "partial_fit"):
        kwargs = {} if classes is None else {"classes": classes}
        model.partial_fit(x, y, **kwargs)
    elif hasattr(model, "learn_many"):
        import pandas as pd

        model.learn_many(_frame(x), pd.Series(y.ravel() if y.ndim > 1 else y, name="target"))
    elif hasattr(model, "learn_one"):
        for xi, yi in zip(_rows(x), y.tolist(), strict=True):
            model.learn_one(xi, yi)
    else:
        what = "fit" if whole else "partial_fit"
        raise NotImplementedError(f"{type(model).__name__} has no {what}, learn_many or "
                                  f"learn_one")


def infer(model: Any, x: np.ndarray, proba: bool) -> tuple[np.ndarray, Any]:
    """``(predictions, class labels or None)``: predictions ``(n_samples, n_outputs)`` (1-D
    results get one column); the labels of the probability columns (``classes_``, or the
    keys River's dicts answered with)."""
    kind = "predict_proba" if proba else "predict"
    labels = getattr(model, "classes_", None) if proba else None
    if hasattr(model, kind):
        y = np.asarray(getattr(model, kind)(x))
    elif hasattr(model, f"{kind}_many"):
        y = np.asarray(getattr(model, f"{kind}_many")(_frame(x)))
        if y.dtype == object and y.ndim == 1:  # an iterable of labels
            y = np.array(list(y))
    elif hasattr(model, f"{kind}_one"):
        out = [getattr(model, f"{kind}_one")(xi) for xi in _rows(x)]
        if proba:  # dicts {class: p}; the classes in the order of the first answer
            keys = list(out[0]) if out else []
            y = np.array([[d.get(c, 0.0) for c in keys] for d in out]).reshape(-1, len(keys))
            labels = keys if labels is None else labels
        else:
            y = np.array(out)
    else:
        raise NotImplementedError(f"{type(model).__name__} has no {kind}, {kind}_many or "
                                  f"{kind}_one")
    return (y[:, None] if y.ndim == 1 else y.reshape(y.shape[0], -1)), labels


def is_numeric(y: np.ndarray) -> bool:
    """Predictions that can travel in the input's float dtype (bool, integers, reals)."""
    return y.dtype.kind in "biuf"
