"""Message types, regressor enums and the regressor registry of the learn family.

The names are ezmsg-learn's (``ezmsg.learn.util``). ``get_regressor`` returns this package's
native estimators (``learn.model.linear``), which compute in the input's array namespace; it
never imports scikit-learn or river.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ezmsg.util.messages.axisarray import AxisArray

from ._learn_common import NotFittedError


def with_fingerprint(axis: AxisArray.CoordinateAxis) -> AxisArray.CoordinateAxis:
    """Compute ``axis``'s fingerprint once, where the axis is built, and return it.

    Stateful consumers key their reset on the fingerprint of the coordinate axes that describe
    a stream (channel, class, lag labels); it is cached on the axis object, so computing it at
    construction pays the checksum once for every message and every consumer that shares the
    axis.
    """
    axis.fingerprint  # noqa: B018 - the property caches the digest
    return axis


class RegressorType(str, Enum):
    ADAPTIVE = "adaptive"
    STATIC = "static"


class AdaptiveLinearRegressor(str, Enum):
    LINEAR = "linear"
    LOGISTIC = "logistic"
    SGD = "sgd"
    PAR = "par"
    """Passive-aggressive."""


class StaticLinearRegressor(str, Enum):
    LINEAR = "linear"
    RIDGE = "ridge"


def _registry(regressor_type: RegressorType) -> dict:
    from .model import linear  # native estimators; imported on demand (cheap package import)

    if regressor_type == RegressorType.ADAPTIVE:
        return {
            AdaptiveLinearRegressor.LINEAR: linear.OnlineLinearRegression,
            AdaptiveLinearRegressor.LOGISTIC: linear.OnlineLogisticRegression,
            AdaptiveLinearRegressor.SGD: linear.SGDRegressor,
            AdaptiveLinearRegressor.PAR: linear.PassiveAggressiveRegressor,
        }
    return {
        StaticLinearRegressor.LINEAR: linear.LinearRegression,
        StaticLinearRegressor.RIDGE: linear.Ridge,
    }


def __getattr__(name: str) -> dict:
    """``ADAPTIVE_REGRESSORS`` and ``STATIC_REGRESSORS``, built on first use (:pep:`562`)."""
    if name == "ADAPTIVE_REGRESSORS":
        return _registry(RegressorType.ADAPTIVE)
    if name == "STATIC_REGRESSORS":
        return _registry(RegressorType.STATIC)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_regressor(
    regressor_type: RegressorType | str,
    regressor_name: AdaptiveLinearRegressor | StaticLinearRegressor | str,
) -> type:
    """The estimator class for ``(regressor_type, regressor_name)``; ``ValueError`` naming the
    argument for an unknown type or name."""
    try:
        kind = RegressorType(regressor_type)
    except ValueError:
        raise ValueError(f"regressor_type: unknown {regressor_type!r}; one of "
                         f"{[m.value for m in RegressorType]}") from None
    names = AdaptiveLinearRegressor if kind == RegressorType.ADAPTIVE else StaticLinearRegressor
    try:
        name = names(regressor_name)
    except ValueError:
        raise ValueError(f"regressor_name: unknown {regressor_name!r} for {kind.value} "
                         f"regressors; one of {[m.value for m in names]}") from None
    return _registry(kind)[name]


@dataclass
class ClassifierMessage(AxisArray):
    """Class probabilities: an AxisArray ``(samples, classes)`` with the class labels."""

    labels: list[str] = field(default_factory=list)


__all__ = ["AdaptiveLinearRegressor", "ClassifierMessage", "NotFittedError", "RegressorType",
           "StaticLinearRegressor", "get_regressor", "with_fingerprint"]
