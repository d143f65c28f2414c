"""Raise every sample to a constant power."""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit
from .._validate import check_real


class PowSettings(ez.Settings):
    exponent: float = 2.0
    """Exponent every sample is raised to. A non-integer exponent of a negative sample gives
    NaN. Default 2.0."""

    def __post_init__(self) -> None:
        check_real("exponent", self.exponent, finite=False)


class PowTransformer(StatelessTransformer[PowSettings, AxisArray, AxisArray]):
    """``x ** exponent`` in the input's namespace, device and float dtype."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        return replace_data(message, elementwise.power(xp, message.data, self.settings.exponent))


class Pow(TransformerUnit[PowSettings, AxisArray, AxisArray, PowTransformer]):
    SETTINGS = PowSettings


def pow(exponent: float = 2.0) -> PowTransformer:
    """A ``PowTransformer`` raising samples to ``exponent``."""
    return PowTransformer(PowSettings(exponent=exponent))
