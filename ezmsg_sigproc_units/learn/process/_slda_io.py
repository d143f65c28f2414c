"""Reading a fitted linear classifier from a file without scikit-learn: a pickled
estimator (its scikit-learn classes replaced by a plain stand-in while unpickling) or
ezmsg-learn's ``.mat`` format (SciPy, imported on use)."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np


class _EstimatorStub:
    """Stands in for any scikit-learn class while a pickled model is read: keeps the state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple):  # (dict, slots) form
            state = {k: v for part in state if isinstance(part, dict) for k, v in part.items()}
        self.__dict__.update(state)


class _NoSklearnUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "sklearn" or module.startswith("sklearn."):
            return type(name, (_EstimatorStub,), {})
        return super().find_class(module, name)


def load_model(path: str, n_channels: int | None = None) -> tuple[list, np.ndarray, np.ndarray,
                                                                    float]:
    """``(classes, coef (K or 1, p), intercept, feature_scale)`` on the host from ``path``.

    A pickle is read with scikit-learn's classes replaced by a plain stand-in (scikit-learn
    is never imported). A ``.mat`` file (ezmsg-learn's project format) needs ``n_channels``:
    its weights are placed on its listed channels, zeros elsewhere, for classes ``[0, 1]``;
    its features are each sample flattened in Fortran order and scaled by 1e-6 (returned as
    ``feature_scale``)."""
    if path[-4:] == ".mat":
        import scipy.io as sio

        mat = sio.loadmat(path, squeeze_me=True)
        w, b = mat["weights"][1, 1:], float(mat["weights"][1, 0])
        ch = np.asarray(mat["channels"]) - 4
        ch = ch - ch[0]
        keep = [int(c) for c in ch if c < n_channels]
        full = np.zeros(n_channels)
        full[keep] = w[: len(keep)]
        return [0, 1], full[None, :], np.array([b]), 1e-6
    with open(path, "rb") as f:
        est = _NoSklearnUnpickler(f).load()
    try:
        classes = np.asarray(est.classes_).tolist()
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))
    except AttributeError as exc:
        raise ValueError(f"settings_path: {path!r} holds no fitted linear classifier "
                         f"(classes_, coef_, intercept_): {exc}") from None
    return classes, coef, intercept, 1.0
