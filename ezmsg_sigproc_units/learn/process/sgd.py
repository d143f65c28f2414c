"""An online linear classifier trained by stochastic gradient descent, one sample per message.

ezmsg-learn's ``process.sgd`` (same names and settings), computed natively in the input's array
namespace on its device: scikit-learn's ``SGDClassifier(loss, alpha, penalty="elasticnet",
learning_rate="adaptive", eta0, class_weight=label_weights)`` (``learn.model.linear``), whose
``_predict_proba_lr`` probabilities it publishes, without scikit-learn.
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseAdaptiveTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ..._backend import namespace_and_device
from ..._kernels.online_linear import CLASSIFICATION_LOSSES, REGRESSION_LOSSES
from ..._messages import replace_fields
from ..._processors import SettingsByValueMixin, stream_axis
from ..._units import AdaptiveUnit
from .._learn_common import features, log_feature_change, trigger_value, warn_not_fitted
from ..model.linear import SGDClassifier
from ..util import ClassifierMessage, with_fingerprint
from ._linear_io import fitted_weights, load_pickle


class SGDDecoderSettings(ez.Settings):
    alpha: float = 1e-5
    """Regularisation strength of the elastic-net penalty (l1_ratio 0.15). Default 1e-5."""

    eta0: float = 3e-4
    """Learning rate (constant within each ``partial_fit``, as scikit-learn's ``adaptive``
    schedule is for single-epoch calls). Default 3e-4."""

    loss: str = "hinge"
    """scikit-learn's SGD loss: ``"hinge"`` (default), ``"log_loss"``, ``"modified_huber"``,
    ``"squared_hinge"``, ``"perceptron"`` or a regression loss."""

    label_weights: dict[str, float] | None = None
    """Class label -> sample weight. Its keys are the classes (required to train: a label
    outside them raises ``ValueError``). Default None (only a loaded model can then
    predict)."""

    settings_path: str | None = None
    """A pickled fitted scikit-learn ``SGDClassifier`` to start from (its ``classes_``,
    ``coef_``, ``intercept_``, ``loss`` and ``t_`` are copied; ``label_weights`` and ``eta0``
    override its own). Unpickling imports scikit-learn then. Default None."""

    def __post_init__(self) -> None:
        for name in ("alpha", "eta0"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name}: must be a float >= 0, got {v!r}")
        if self.eta0 == 0:
            raise ValueError("eta0: must be > 0 (the adaptive schedule starts there)")
        if self.loss not in CLASSIFICATION_LOSSES + REGRESSION_LOSSES:
            raise ValueError(f"loss: unknown {self.loss!r}; one of "
                             f"{list(CLASSIFICATION_LOSSES + REGRESSION_LOSSES)}")
        if self.label_weights is not None and (not isinstance(self.label_weights, dict)
                                               or len(self.label_weights) < 2):
            raise ValueError(f"label_weights: a dict of at least two labels -> weights, or "
                             f"None; got {self.label_weights!r}")
        if self.settings_path is not None and (not isinstance(self.settings_path, str)
                                               or not self.settings_path):
            raise ValueError(f"settings_path: a file path or None, got {self.settings_path!r}")


@processor_state
class SGDDecoderState:
    model: Any = None
    """The classifier (``learn.model.linear.SGDClassifier``); None before the first
    message."""

    b_first_train: bool = True
    """True until the first training sample (which declares the classes)."""

    template: ClassifierMessage | None = None
    """An empty output carrying the class labels, built once per model."""


class SGDDecoderTransformer(SettingsByValueMixin,
                            BaseAdaptiveTransformer[SGDDecoderSettings, AxisArray,
                                                    ClassifierMessage, SGDDecoderState]):
    """Class probabilities ``(win, labels)`` (a ``ClassifierMessage``, columns in the sorted
    order of the labels, which ``labels`` lists) for every window along the stream dim
    (``stream_dim``, else ``win``, else ``time``); the other dims are flattened into the
    features. ``partial_fit(sample)`` takes the whole sample message, flattened, as one
    observation of class ``attrs["trigger"].value``; a sample message given to the
    processor (``partial_fit_transform``, the Unit's ``OUTPUT_SAMPLE``) is decoded the same
    way, as one ``win``.

    Before any training (and without ``settings_path``) nothing is output (None, one
    warning). A feature count other than the model's resets it (one log line). A training
    sample with a NaN is skipped; NaN inputs give NaN probabilities (no host check)."""

    STREAMING_DIMS = ("win", "time")

    def _refreshed_model(self) -> SGDClassifier:
        s = self.settings
        if s.settings_path is None:
            return SGDClassifier(loss=s.loss, alpha=s.alpha, penalty="elasticnet",
                                 learning_rate="adaptive", eta0=s.eta0, early_stopping=False,
                                 class_weight=s.label_weights)
        est = load_pickle(s.settings_path)
        coef, intercept, extra = fitted_weights(est)
        model = SGDClassifier(loss=getattr(est, "loss", s.loss),
                              alpha=float(getattr(est, "alpha", s.alpha)),
                              penalty=getattr(est, "penalty", "elasticnet"),
                              l1_ratio=float(getattr(est, "l1_ratio", 0.15) or 0.0),
                              learning_rate="adaptive", eta0=s.eta0,
                              class_weight=s.label_weights or getattr(est, "class_weight", None))
        model.classes_ = np.asarray(est.classes_)
        model.set_weights(np.atleast_2d(coef), intercept, np, "cpu", np.float64)
        model._y1d = False
        model.t_ = extra.get("t_", 1.0)
        self._state.b_first_train = False
        return model

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # inference never rebuilds the model (training samples differ in layout)

    def _reset_state(self, message: AxisArray) -> None:
        self._state.model = self._refreshed_model()
        self._state.template = None

    def _template(self) -> ClassifierMessage:
        st = self._state
        if st.template is None:
            labels = st.model.classes_.tolist()
            ax = with_fingerprint(AxisArray.CoordinateAxis(data=np.asarray(labels),
                                                           dims=["labels"]))
            st.template = ClassifierMessage(np.zeros((0, len(labels))), dims=["win", "labels"],
                                            axes={"labels": ax}, labels=labels)
        return st.template

    def _process(self, message: AxisArray) -> ClassifierMessage | None:
        model = self._state.model
        if model is None or not model.is_fitted:
            warn_not_fitted(self)
            return None
        if math.prod(message.data.shape) == 0:
            return None
        xp = namespace_and_device(message.data)[0]
        if message.attrs.get("trigger") is not None:
            # a training sample (the Unit's OUTPUT_SAMPLE): one observation, as it trained
            chunk, X = "win", xp.reshape(message.data, (1, math.prod(message.data.shape)))
        else:
            chunk = stream_axis(self, message, None)
            X = features(xp, message.data, message.dims.index(chunk))
        if X.shape[1] != model.n_features_in_:
            log_feature_change("SGDDecoder", model.n_features_in_, X.shape[1])
            self._reset_state(message)
            self._state.b_first_train = True
            warn_not_fitted(self)
            return None
        proba = model.predict_proba(X)
        tmpl = self._template()
        axes = {"labels": tmpl.axes["labels"]}
        if chunk in message.axes:
            axes[chunk] = message.axes[chunk]
        return replace_fields(tmpl, proba, dims=[chunk, "labels"], axes=axes, key=message.key,
                              stream_dim=chunk)

    def partial_fit(self, message: AxisArray) -> None:
        if self._hash != 0:
            self._reset_state(message)
            self._hash = 0
        label = trigger_value(message, "SGDDecoder")
        st = self._state
        data = message.data
        xp = namespace_and_device(data)[0]
        x = xp.reshape(data, (1, math.prod(data.shape)))
        if st.model.n_features_in_ is not None and x.shape[1] != st.model.n_features_in_:
            log_feature_change("SGDDecoder", st.model.n_features_in_, x.shape[1])
            self._reset_state(message)
            st.b_first_train = True
        if st.b_first_train:
            if self.settings.label_weights is None:
                raise ValueError("label_weights: SGDDecoder needs the class labels (the keys "
                                 "of label_weights) to train")
            st.model.partial_fit(x, [label], classes=list(self.settings.label_weights))
            st.b_first_train = False
        else:
            st.model.partial_fit(x, [label])


class SGDDecoder(AdaptiveUnit[SGDDecoderSettings, AxisArray, ClassifierMessage,
                              SGDDecoderTransformer]):
    """``INPUT_SIGNAL`` -> class probabilities on ``OUTPUT_SIGNAL``; samples on
    ``INPUT_SAMPLE`` train the classifier."""

    SETTINGS = SGDDecoderSettings
