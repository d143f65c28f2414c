"""Host any estimator object (scikit-learn, River, or your own) in an ezmsg graph.

This is the learn family's one explicit NumPy boundary. Every other decoder computes in the
input's array namespace on its device; this one cannot, because the estimator is foreign code
that takes NumPy. So, per message, the data is brought to the host once
(``_backend.to_host``), the estimator runs there, and its numeric result is moved back once
(``_backend.from_host``) into the input's namespace, onto its device, in its float dtype.
Non-numeric predictions (string class labels) cannot live in most array libraries and stay
NumPy arrays. Use a native decoder (``learn.process.slda``, ``learn.process.sgd`` ...) where
one exists: it never leaves the device.

Nothing here imports scikit-learn at module level: the module named by a dotted
``model_class`` is imported when the model is built, and a checkpoint is unpickled when it is
loaded (importing what the pickled object needs).
"""

from __future__ import annotations

import os
import pickle
import typing
from enum import Enum

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseAdaptiveTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ..._backend import float_dtype_for, from_host, namespace_and_device
from ..._messages import replace_fields
from ..._processors import SettingsByValueMixin
from ..._units import AdaptiveUnit
from .._host_estimator import host_features, host_targets, infer, is_numeric, learn, resolve_class
from .._learn_common import log_feature_change, trigger_value, warn_not_fitted
from ..util import with_fingerprint

__all__ = ["PredictMethod", "SklearnModelProcessor", "SklearnModelSettings",
           "SklearnModelState", "SklearnModelUnit"]


class PredictMethod(str, Enum):
    PREDICT = "predict"
    PREDICT_PROBA = "predict_proba"


class SklearnModelSettings(ez.Settings):
    model_class: str
    """The estimator class: a dotted path (``"sklearn.linear_model.SGDClassifier"``, imported
    when the model is built) or the class itself. Required (unused, and not checked, with a
    ``checkpoint_path``)."""

    model_kwargs: dict[str, typing.Any] | None = None
    """Keyword arguments of the estimator's constructor. Default None (none)."""

    checkpoint_path: str | None = None
    """A pickled, fitted estimator to start from instead of a new one (``save_checkpoint``
    writes one). Default None."""

    partial_fit_classes: np.ndarray | None = None
    """Every class label, passed as ``classes=`` to ``partial_fit`` (scikit-learn classifiers
    need it on the first call). Training labels outside it raise ``ValueError``. Default None."""

    predict_method: PredictMethod = PredictMethod.PREDICT
    """``"predict"`` (default): one prediction per sample (per output). ``"predict_proba"``:
    class probabilities, one column per class, the output axis labelled with the classes."""

    def __post_init__(self) -> None:
        if self.checkpoint_path is None and not (
                callable(self.model_class)
                or (isinstance(self.model_class, str) and "." in self.model_class)):
            raise ValueError(f"model_class: a dotted path 'package.module.Class' or a class, "
                             f"got {self.model_class!r}")
        if self.model_kwargs is not None and not isinstance(self.model_kwargs, dict):
            raise ValueError(f"model_kwargs: a dict or None, got {self.model_kwargs!r}")
        if self.checkpoint_path is not None and not isinstance(self.checkpoint_path,
                                                               (str, os.PathLike)):
            raise ValueError(f"checkpoint_path: a path or None, got {self.checkpoint_path!r}")
        classes = self.partial_fit_classes
        if classes is not None and (np.ndim(classes) != 1 or len(classes) == 0
                                    or len(np.unique(np.asarray(classes))) != len(classes)):
            raise ValueError(f"partial_fit_classes: a non-empty 1-D list of distinct labels, "
                             f"got {classes!r}")
        try:
            PredictMethod(self.predict_method)
        except ValueError:
            raise ValueError(f"predict_method: one of {[m.value for m in PredictMethod]}, got "
                             f"{self.predict_method!r}") from None


@processor_state
class SklearnModelState:
    model: typing.Any = None
    """The estimator (any picklable object); None before the first message."""

    chan_ax: CoordinateAxis | None = None
    """The output's label axis (classes for ``predict_proba``, else output positions)."""

    n_features: int | None = None
    """Features the model was built for (checked on every message)."""

    fitted: bool = False
    """Whether the model was trained (or loaded) and can predict."""


class SklearnModelProcessor(SettingsByValueMixin,
                            BaseAdaptiveTransformer[SklearnModelSettings, AxisArray, AxisArray,
                                                    SklearnModelState]):
    """Predicts on ``INPUT_SIGNAL`` messages and trains (``partial_fit``) on samples whose
    ``attrs["trigger"].value`` holds the label(s) or a target AxisArray.

    Features are the ``"ch"`` dim (the last dim without one); every other dim is a sample
    dim. The output keeps the input's dims, with the features dim replaced by the outputs.
    Before any training (or checkpoint) nothing is published (one warning). A change of the
    feature count starts a new model (logged); a checkpoint model of another feature count
    raises ``ValueError``. The model survives changes of namespace, device or dtype.
    """

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # the model is (re)built on demand, never by the message hash

    def _reset_state(self, message: AxisArray) -> None:
        if self._state.model is None:
            self._new_model()

    def _new_model(self) -> None:
        st = self._state
        st.chan_ax, st.n_features = None, None
        path = self.settings.checkpoint_path
        if path:
            self.load_checkpoint(path)
            st.n_features = getattr(st.model, "n_features_in_", None)
        else:
            cls = resolve_class(self.settings.model_class)
            st.model = cls(**(self.settings.model_kwargs or {}))
            st.fitted = False

    def _check_features(self, n: int) -> None:
        st = self._state
        if st.model is None:
            self._new_model()
        if st.n_features is None or st.n_features == n:
            st.n_features = n
            return
        if self.settings.checkpoint_path:
            raise ValueError(f"Model expects {st.n_features} features, but got {n}")
        log_feature_change(type(self).__name__, st.n_features, n)
        self._new_model()
        st.n_features = n

    def save_checkpoint(self, path: str) -> None:
        with open(path, "wb") as f:
            pickle.dump(self._state.model, f)

    def load_checkpoint(self, path: str) -> None:
        try:
            with open(path, "rb") as f:
                model = pickle.load(f)  # noqa: S301 - the user's own checkpoint file
        except Exception as e:  # noqa: BLE001 - re-raised with the path
            raise RuntimeError(f"Failed to load model from {path}: {e}") from e
        self._state.model, self._state.fitted = model, True

    def _classes(self, y: np.ndarray) -> typing.Any:
        classes = self.settings.partial_fit_classes
        if classes is None:
            return None
        classes = np.asarray(classes)
        unseen = np.setdiff1d(np.unique(y), classes)
        if unseen.size:
            raise ValueError(f"partial_fit_classes: training labels {unseen.tolist()} are not "
                             f"among the declared classes {classes.tolist()}")
        return classes

    def partial_fit(self, message: AxisArray) -> None:
        value = trigger_value(message, type(self).__name__)
        x, _, _ = host_features(message.data, message.dims)
        if x.shape[0] == 0:
            return
        y = host_targets(value, x.shape[0])
        self._check_features(x.shape[1])
        learn(self._state.model, x, y, self._classes(y), whole=False)
        self._state.fitted = True

    def fit(self, X: typing.Any, y: typing.Any) -> None:
        """Train on whole arrays (any backend): ``X`` ``(n_samples, n_features)``, ``y``
        ``(n_samples[, n_targets])``."""
        x, _, _ = host_features(X, ["time", "ch"])
        y = host_targets(y, x.shape[0])
        self._check_features(x.shape[1])
        learn(self._state.model, x, y, None, whole=True)
        self._state.fitted = True

    def _process(self, message: AxisArray) -> AxisArray | None:
        st = self._state
        x, lead, ix = host_features(message.data, message.dims)
        self._check_features(x.shape[1])
        if not st.fitted:
            warn_not_fitted(self)
            return None
        proba = PredictMethod(self.settings.predict_method) is PredictMethod.PREDICT_PROBA
        if x.shape[0] == 0:
            if st.chan_ax is None:
                return None
            y, labels = np.zeros((0, st.chan_ax.data.shape[0])), None
        else:
            y, labels = infer(st.model, x, proba)
        n_out = y.shape[1]
        dim = message.dims[ix]
        if st.chan_ax is None or st.chan_ax.data.shape[0] != n_out or st.chan_ax.dims != [dim]:
            labels = labels if labels is not None and len(labels) == n_out else range(n_out)
            st.chan_ax = with_fingerprint(CoordinateAxis(data=np.asarray(list(labels)),
                                                         dims=[dim]))
        y = np.moveaxis(y.reshape(*lead, n_out), -1, ix)
        if is_numeric(y):
            xp, dev = namespace_and_device(message.data)
            y = from_host(y, xp, dev, dtype=float_dtype_for(xp, message.data.dtype, dev))
        return replace_fields(message, y, axes={**message.axes, dim: st.chan_ax})


class SklearnModelUnit(AdaptiveUnit[SklearnModelSettings, AxisArray, AxisArray,
                                    SklearnModelProcessor]):
    """``INPUT_SIGNAL`` -> predictions on ``OUTPUT_SIGNAL``; training samples on
    ``INPUT_SAMPLE`` (see ``SklearnModelProcessor``)."""

    SETTINGS = SklearnModelSettings
