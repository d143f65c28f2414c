"""Shrinkage linear discriminant analysis, trained online from sample messages.

ezmsg-learn's ``process.slda`` (same names and settings), computed natively in the input's
array namespace on its device. The model equals scikit-learn's
``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")`` fitted on every training
sample seen so far (Ledoit-Wolf shrinkage per class; ``_kernels.lda``): the state is each
class's count, sums and second to fourth moments, so the fit is exact from any split of the
training samples. A model fitted elsewhere can be loaded instead (``settings_path``: a pickled
scikit-learn estimator, read without importing scikit-learn, or ezmsg-learn's ``.mat`` format).
"""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import (
    BaseAdaptiveTransformer,
    processor_state,
    warn_axis_deprecated,
)
from ezmsg.util.messages.axisarray import AxisArray

from ..._backend import (
    asarray,
    compile_kernel,
    default_float,
    eye,
    float_dtype_for,
    from_host,
    move,
    namespace_and_device,
)
from ..._kernels import lda
from ..._messages import axis_index, replace_fields
from ..._processors import stream_axis
from ..._units import AdaptiveUnit
from .._learn_common import (
    features,
    finite_batch,
    log_feature_change,
    trigger_value,
    warn_not_fitted,
    warn_regularised,
)
from ..util import ClassifierMessage, with_fingerprint
from ._slda_io import load_model


class SLDASettings(ez.Settings):
    settings_path: str | None = None
    """A fitted model to load: a pickled scikit-learn ``LinearDiscriminantAnalysis`` (any
    pickle whose object has ``classes_``, ``coef_`` and ``intercept_``) or ezmsg-learn's
    ``.mat`` format. None (default; ezmsg-learn requires it): the model is trained online
    from the sample messages of ``partial_fit`` (the Unit's ``INPUT_SAMPLE``). A loaded model
    is fixed: training it raises ``ValueError``."""

    axis: str | None = None
    """Deprecated (as in ezmsg-learn): the dim samples accumulate along. None (default): the
    message's ``stream_dim``, else ``"time"``, else the first dim. Each index along it is one
    observation; the other dims are flattened (C order) into the features."""

    def __post_init__(self) -> None:
        if self.settings_path is not None and (not isinstance(self.settings_path, str)
                                               or not self.settings_path):
            raise ValueError(f"settings_path: must be a file path or None, "
                             f"got {self.settings_path!r}")
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        warn_axis_deprecated(self, package="ezmsg-learn", removal="2.0")


@processor_state
class SLDAState:
    labels: list = None
    """Class labels in order of first appearance (host values)."""

    counts: list = None
    """Training observations per class (host ints), in ``labels`` order."""

    moments: list = None
    """Per class, ``(s1, s2, m3, m4)`` of the shifted observations (``_kernels.lda``), on the
    training data's device, float64 where supported."""

    shift: Any = None
    """(p,) the mean of the first training batch: the coordinates' origin of the moments."""

    n_features: int | None = None
    """Feature count of the model (None before the first training sample or load)."""

    classes: list | None = None
    """The fitted model's class labels, sorted (scikit-learn's ``classes_``)."""

    coef: Any = None
    """(K, p), or (1, p) for two classes; None while there is no model."""

    intercept: Any = None
    """(K,) or (1,)."""

    template: ClassifierMessage | None = None
    """An empty output carrying the classes axis and labels, rebuilt when they change."""

    cast: tuple | None = None
    """``(key, coef, intercept)``: the model in the namespace, device and dtype of the last
    input (``key``), so prediction converts it once, not per message."""


def _label(value: Any) -> Any:
    """A training label as a hashable host value; ``ValueError`` for targets or arrays."""
    if isinstance(value, AxisArray) or value is None:
        raise ValueError(f"SLDA: a training sample's trigger value must be a class label; "
                         f"got {type(value).__name__}")
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    try:
        hash(value)
    except TypeError:
        raise ValueError(f"SLDA: class label {value!r} is not hashable") from None
    return value


class SLDATransformer(BaseAdaptiveTransformer[SLDASettings, AxisArray, ClassifierMessage,
                                              SLDAState]):
    """Class probabilities ``(samples, classes)`` (a ``ClassifierMessage``) for every
    observation along the stream dim; the probabilities are scikit-learn LDA's
    ``predict_proba``. ``partial_fit(sample)`` adds every observation of a sample message to
    the class ``attrs["trigger"].value``; the model is refitted from the statistics at once.

    Before two classes have been seen (and no model was loaded) nothing is output (None,
    one warning). A feature count that changes resets the training (one log line). The
    state depends on no message layout: only the feature count resets it.
    """

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # the model outlives layout changes; features() checks what matters

    def _reset_state(self, message: AxisArray) -> None:
        path = self.settings.settings_path
        if path is None or self._state.coef is not None:
            return
        n_ch = None
        if path[-4:] == ".mat":
            n_ch = message.data.shape[axis_index(message, "ch", "settings_path (.mat)")]
        classes, coef, intercept, scale = load_model(path, n_ch)
        xp, dev = namespace_and_device(message.data)
        dt = default_float(xp, dev)
        st = self._state
        st.coef = from_host(coef * scale, xp, dev, dt)
        st.intercept = from_host(intercept, xp, dev, dt)
        st.n_features, st.cast = coef.shape[1], None
        self._set_classes(classes)

    def _set_classes(self, classes: list) -> None:
        st = self._state
        if st.classes == classes and st.template is not None:
            return
        st.classes = list(classes)
        ax = with_fingerprint(AxisArray.CoordinateAxis(data=np.asarray(classes), dims=["classes"]))
        st.template = ClassifierMessage(np.zeros((0, len(classes))), dims=["time", "classes"],
                                        axes={"classes": ax}, labels=list(classes))

    def _features(self, xp: Any, message: AxisArray) -> tuple[str, Any]:
        axis = stream_axis(self, message, self.settings.axis)
        ix = axis_index(message, axis)
        data = message.data
        if (self.settings.settings_path or "")[-4:] == ".mat" and data.ndim > 2:
            # ezmsg-learn's .mat models flatten each observation in Fortran order
            rest = tuple(i for i in range(data.ndim) if i != ix)
            data = xp.permute_dims(data, (ix,) + rest[::-1])
            ix = 0
        return axis, features(xp, data, ix)

    def _clear(self) -> None:
        st = self._state
        st.labels, st.counts, st.moments, st.shift = [], [], [], None
        st.n_features = st.coef = st.intercept = st.classes = st.template = st.cast = None

    def partial_fit(self, message: AxisArray) -> None:
        if self.settings.settings_path is not None:
            raise ValueError("settings_path: a model loaded from a file is fixed; leave "
                             "settings_path unset to train the decoder online")
        label = _label(trigger_value(message, "SLDA"))
        st = self._state
        if st.labels is None:
            self._clear()
        data = message.data
        xp, dev = namespace_and_device(data)
        if st.shift is not None:  # keep the statistics where training began
            xp, dev = namespace_and_device(st.shift)
        _, x = self._features(namespace_and_device(data)[0], message)
        n, p = x.shape
        if n == 0:
            return
        if st.n_features is not None and p != st.n_features:
            log_feature_change("SLDA", st.n_features, p)
            self._clear()
            xp, dev = namespace_and_device(data)
        if label not in st.labels:
            try:
                sorted([*st.labels, label])
            except TypeError:
                raise ValueError(f"SLDA: class label {label!r} does not sort with the labels "
                                 f"seen so far {st.labels} (scikit-learn sorts classes_)"
                                 ) from None
        x = move(x, xp, dev, default_float(xp, dev))
        if not finite_batch(self, xp, x):
            return
        if st.shift is None:
            st.shift, st.n_features = xp.mean(x, axis=0), p
        batch = lda.batch_moments(xp, x - st.shift)
        if label in st.labels:
            k = st.labels.index(label)
            st.moments[k] = tuple(a + b for a, b in zip(st.moments[k], batch, strict=True))
            st.counts[k] += n
        else:
            st.labels.append(label)
            st.counts.append(n)
            st.moments.append(batch)
        if len(st.labels) > 1:
            self._fit(xp, dev)

    def _fit(self, xp: Any, dev: Any) -> None:
        st = self._state
        order = sorted(range(len(st.labels)), key=lambda i: st.labels[i])
        dt = st.shift.dtype
        p = st.n_features
        stats = [xp.stack([st.moments[i][j] for i in order]) for j in range(4)]
        counts = asarray(xp, [float(st.counts[i]) for i in order], dtype=dt, device=dev)
        ident = eye(xp, p, dtype=dt, device=dev)
        cov, means, shrink = lda.class_covariances(xp, counts, *stats, st.shift, ident)
        # One host read per fit (tolerated outside the hot path): no class shrunk (within
        # the rounding of the moments), so the pooled covariance may be singular; use its
        # pseudo-inverse (never NaN; equal to the solve where the covariance is regular).
        degenerate = float(xp.max(shrink)) <= float(xp.finfo(dt).eps) ** 0.5
        if degenerate and sum(st.counts) - len(st.counts) < p:
            warn_regularised(self, "the discriminant uses the pseudo-inverse of the pooled "
                                   "covariance (minimum-norm least squares, as scikit-learn)")
        solver = lda.lsqr_weights_pinv if degenerate else lda.lsqr_weights
        st.coef, st.intercept = solver(xp, cov, means, counts)
        st.cast = None
        self._set_classes([st.labels[i] for i in order])

    def _model_for(self, x: Any, xp: Any, dev: Any) -> tuple[Any, Any]:
        st = self._state
        key = (type(x), str(dev), x.dtype)
        if st.cast is None or st.cast[0] != key:
            st.cast = (key, move(st.coef, xp, dev, x.dtype), move(st.intercept, xp, dev, x.dtype))
        return st.cast[1], st.cast[2]

    def _process(self, message: AxisArray) -> ClassifierMessage | None:
        st = self._state
        if st.coef is None:
            warn_not_fitted(self)
            return None
        xp, dev = namespace_and_device(message.data)
        axis, x = self._features(xp, message)
        if x.shape[1] != st.n_features:
            if self.settings.settings_path is not None:
                raise ValueError(f"settings_path: the loaded model has {st.n_features} "
                                 f"features; the message has {x.shape[1]}")
            log_feature_change("SLDA", st.n_features, x.shape[1])
            self._clear()
            warn_not_fitted(self)
            return None
        if not xp.isdtype(x.dtype, "real floating"):
            x = xp.astype(x, float_dtype_for(xp, x.dtype, dev))
        coef, intercept = self._model_for(x, xp, dev)
        proba = compile_kernel(xp, lda.predict_proba)(x, coef, intercept)
        tmpl = st.template
        axes = {"classes": tmpl.axes["classes"]}
        if axis in message.axes:
            axes[axis] = message.axes[axis]
        return replace_fields(tmpl, proba, dims=[axis, "classes"], axes=axes, key=message.key,
                              stream_dim=message.stream_dim)


class SLDA(AdaptiveUnit[SLDASettings, AxisArray, ClassifierMessage, SLDATransformer]):
    """``INPUT_SIGNAL`` -> class probabilities on ``OUTPUT_SIGNAL``; sample messages on
    ``INPUT_SAMPLE`` train the model (and their own probabilities, after the update, go to
    ``OUTPUT_SAMPLE``). Published outputs are materialised."""

    SETTINGS = SLDASettings
