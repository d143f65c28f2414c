"""Elementwise activation functions: identity, logistic sigmoid (expit), logit, log-expit.

Computed with the data's own namespace on its device (``scipy.special`` on NumPy), in the
input's float dtype (integer input: the default float). The function may be given as an
``ActivationFunction`` member, its value or its name, in any case (``"SIGMOID"``,
``"log_expit"``, ``"LOGEXPIT"``); an unknown name raises ``ValueError`` at construction.
"""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import array_namespace
from ._kernels import activation as _act
from ._messages import replace_data
from ._processors import StatelessTransformer
from ._spectrum_plan import OptionsEnum
from ._units import TransformerUnit
from ._validate import check_member


class ActivationFunction(OptionsEnum):
    """Activation (transformation) function."""

    NONE = "none"
    """Identity: the data unchanged."""

    SIGMOID = "sigmoid"
    """Logistic sigmoid ``1 / (1 + exp(-x))`` (same as EXPIT)."""

    EXPIT = "expit"
    """Logistic sigmoid ``1 / (1 + exp(-x))``."""

    LOGIT = "logit"
    """Inverse of the sigmoid: ``log(p / (1 - p))``; NaN outside [0, 1]."""

    LOGEXPIT = "log_expit"
    """``log(expit(x))``, accurate for large ``|x|``."""


_KERNELS = {
    ActivationFunction.NONE: _act.identity,
    ActivationFunction.SIGMOID: _act.expit,
    ActivationFunction.EXPIT: _act.expit,
    ActivationFunction.LOGIT: _act.logit,
    ActivationFunction.LOGEXPIT: _act.log_expit,
}


def _member(value: Any) -> ActivationFunction:
    if isinstance(value, ActivationFunction):
        return value
    if not isinstance(value, str):
        raise ValueError(f"function: must be an ActivationFunction or its name, got {value!r}")
    return check_member(ActivationFunction, "function", value.lower())


class ActivationSettings(ez.Settings):
    function: str | ActivationFunction = ActivationFunction.NONE
    """An ``ActivationFunction`` member, or its value or name as a string in any case
    ("sigmoid", "expit", "logit", "log_expit", "none"). SIGMOID and EXPIT are the same
    function. Default ``ActivationFunction.NONE``."""

    def __post_init__(self) -> None:
        _member(self.function)


class ActivationTransformer(StatelessTransformer[ActivationSettings, AxisArray, AxisArray]):
    """Apply the activation function elementwise; output has the input's shape."""

    def _process(self, message: AxisArray) -> AxisArray:
        f = self.settings.function
        kernel = _KERNELS.get(f) if isinstance(f, ActivationFunction) else None
        if kernel is None:
            kernel = _KERNELS[_member(f)]
        return replace_data(message, kernel(array_namespace(message.data), message.data))


class Activation(TransformerUnit[ActivationSettings, AxisArray, AxisArray,
                                 ActivationTransformer]):
    SETTINGS = ActivationSettings


def activation(function: str | ActivationFunction) -> ActivationTransformer:
    """An ``ActivationTransformer`` applying ``function`` (see ``ActivationSettings``)."""
    return ActivationTransformer(ActivationSettings(function=function))
