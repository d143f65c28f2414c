"""Adaptive linear regression, trained online from sample messages.

ezmsg-learn's ``process.adaptive_linear_regressor`` (same names and settings), computed natively
in the input's array namespace on its device (``learn.model.linear``; no river, scikit-learn
or pandas). ``model_type``:

* ``"linear"``: recursive least squares: the same fit from any split of the training samples
  (ezmsg-learn runs river's SGD ``LinearRegression``, whose fit depends on the learning rate
  and on how the samples are batched; see the migration notes);
* ``"logistic"``: river's ``LogisticRegression`` step (targets in {0, 1}; predicts 0.0/1.0);
* ``"sgd"``: scikit-learn's ``SGDRegressor`` schedule, sample by sample in order;
* ``"par"``: scikit-learn's ``PassiveAggressiveRegressor`` (PA-I).

Every target column (the trigger value's ``ch``) gets its own coefficients.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseAdaptiveTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ..._processors import SettingsByValueMixin
from ..._units import AdaptiveUnit
from .._learn_common import log_feature_change
from ..util import AdaptiveLinearRegressor, RegressorType, get_regressor
from ._linear_io import (
    STREAMING_DIMS,
    RegressorMixin,
    check_regressor_settings,
    template_from_targets,
    training_arrays,
)


class AdaptiveLinearRegressorSettings(ez.Settings):
    model_type: AdaptiveLinearRegressor = AdaptiveLinearRegressor.LINEAR
    """The learner: ``"linear"`` (recursive least squares, default), ``"logistic"``,
    ``"sgd"`` or ``"par"`` (an ``AdaptiveLinearRegressor`` or its string value)."""

    settings_path: str | None = None
    """A pickled fitted model to start from (a scikit-learn ``SGDRegressor`` /
    ``PassiveAggressiveRegressor``, a river linear model or a dict of them per target): its
    coefficients are copied into our estimator, which keeps learning from samples. Unpickling
    imports the package that made the file. None (default): start untrained."""

    model_kwargs: dict = field(default_factory=dict)
    """Keyword arguments of the estimator: scikit-learn's for ``"sgd"``/``"par"`` (e.g.
    ``eta0``, ``alpha``, ``C``), river's for ``"logistic"`` (``learn_rate``, ``l2``, ``l1``,
    ``intercept_lr`` ...), ``l2`` (ridge penalty) and ``delta`` for ``"linear"`` (river's SGD
    options are accepted and ignored there). Default: none."""

    def __post_init__(self) -> None:
        check_regressor_settings(self, AdaptiveLinearRegressor)


@processor_state
class AdaptiveLinearRegressorState:
    template: AxisArray | None = None
    """The prediction message's layout (the targets' dims and channel axis, key
    ``<key>_pred``), from the last training sample; None before one."""

    model: Any = None
    """The estimator (``learn.model.linear``): arrays on the training data's device."""


class AdaptiveLinearRegressorTransformer(
        SettingsByValueMixin, RegressorMixin, BaseAdaptiveTransformer[
            AdaptiveLinearRegressorSettings, AxisArray, AxisArray, AdaptiveLinearRegressorState]):
    """Predictions ``(time, ch)`` (the targets' layout) for every sample along the stream dim
    (``stream_dim``, else ``time``); the other dims are flattened into the features.
    ``partial_fit(sample)`` learns from a sample whose ``attrs["trigger"].value`` is an
    AxisArray of targets ``(time, ch)``. Before any training (and without ``settings_path``)
    nothing is output (None, one warning). A feature or target count that changes resets the
    model (one log line). Rows with a NaN are left out of the ``linear`` fit; the other
    learners skip a training sample that has a NaN."""

    STREAMING_DIMS = STREAMING_DIMS
    WHO = "AdaptiveLinearRegressor"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._klass = get_regressor(RegressorType.ADAPTIVE, self.settings.model_type)
        self.state.model = self._initial_model()

    def partial_fit(self, message: AxisArray) -> None:
        X, Y, targets = training_arrays(self, message, "AdaptiveLinearRegressor")
        model = self.state.model
        d_old = model.n_features_in_
        if d_old is not None and (d_old != X.shape[1] or model._W.shape[1] != Y.shape[1]):
            log_feature_change(self.WHO, d_old, X.shape[1])
            model = self.state.model = self._new_model()
        model.partial_fit(X, Y)
        self.state.template = template_from_targets(targets)


class AdaptiveLinearRegressorUnit(AdaptiveUnit[AdaptiveLinearRegressorSettings, AxisArray,
                                               AxisArray, AdaptiveLinearRegressorTransformer]):
    """``INPUT_SIGNAL`` -> predictions on ``OUTPUT_SIGNAL``; sample messages on
    ``INPUT_SAMPLE`` train the model."""

    SETTINGS = AdaptiveLinearRegressorSettings
