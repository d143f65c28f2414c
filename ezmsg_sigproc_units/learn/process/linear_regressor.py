"""Static linear regression (ordinary least squares or ridge), refitted from each sample.

ezmsg-learn's ``process.linear_regressor`` (same names and settings), computed natively in the
input's array namespace on its device: the closed form of ``learn.model.linear``
(``LinearRegression``/``Ridge``, equal to scikit-learn's within float tolerance). As in
ezmsg-learn, ``partial_fit`` is not incremental: each training sample replaces the model by a
fit to that sample alone (use ``adaptive_linear_regressor`` to accumulate).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseAdaptiveTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ..._processors import SettingsByValueMixin
from ..._units import AdaptiveUnit
from ..util import RegressorType, StaticLinearRegressor, get_regressor
from ._linear_io import (
    STREAMING_DIMS,
    RegressorMixin,
    check_regressor_settings,
    template_from_targets,
    training_arrays,
)


class LinearRegressorSettings(ez.Settings):
    model_type: StaticLinearRegressor = StaticLinearRegressor.LINEAR
    """``"linear"`` (ordinary least squares, default) or ``"ridge"`` (a
    ``StaticLinearRegressor`` or its string value)."""

    settings_path: str | None = None
    """A pickled fitted scikit-learn linear model (anything with ``coef_`` and
    ``intercept_``) to predict with; its coefficients are copied into arrays on the input's
    device. Unpickling imports scikit-learn then (this module never does). A training sample
    replaces it. None (default): no model until the first training sample."""

    model_kwargs: dict = field(default_factory=dict)
    """Keyword arguments of scikit-learn's ``LinearRegression`` / ``Ridge`` (``alpha``,
    ``fit_intercept``; ``positive=True`` is not supported). Default: none."""

    def __post_init__(self) -> None:
        check_regressor_settings(self, StaticLinearRegressor)


@processor_state
class LinearRegressorState:
    template: AxisArray | None = None
    """The prediction message's layout (the targets' dims and channel axis, key
    ``<key>_pred``); None before a training sample."""

    model: Any = None
    """``learn.model.linear.LinearRegression`` or ``Ridge``."""


class LinearRegressorTransformer(SettingsByValueMixin, RegressorMixin,
                                 BaseAdaptiveTransformer[
        LinearRegressorSettings, AxisArray, AxisArray, LinearRegressorState]):
    """Predictions ``(time, ch)`` (the targets' layout) for every sample along the stream dim
    (``stream_dim``, else ``time``); other dims are flattened into the features.
    ``partial_fit(sample)`` fits the model to the sample's rows (without those with a NaN,
    found on the device: a sample whose every row has a NaN fits the zero model) and its
    ``attrs["trigger"].value`` targets. Before a model exists nothing is output
    (None, one warning); a message with another feature count drops the model (one log
    line)."""

    STREAMING_DIMS = STREAMING_DIMS
    WHO = "LinearRegressor"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._klass = get_regressor(RegressorType.STATIC, self.settings.model_type)
        self.state.model = self._initial_model()

    def partial_fit(self, message: AxisArray) -> None:
        X, Y, targets = training_arrays(self, message, self.WHO)
        self.state.model.fit(X, Y)
        self.state.template = template_from_targets(targets)


class AdaptiveLinearRegressorUnit(AdaptiveUnit[LinearRegressorSettings, AxisArray, AxisArray,
                                               LinearRegressorTransformer]):
    """The static regressor's Unit, under ezmsg-learn's name for it: ``INPUT_SIGNAL`` ->
    predictions; samples on ``INPUT_SAMPLE`` refit the model."""

    SETTINGS = LinearRegressorSettings


LinearRegressorUnit = AdaptiveLinearRegressorUnit
"""The same Unit under the name of its settings."""
