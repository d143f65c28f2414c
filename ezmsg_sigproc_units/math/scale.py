"""Multiply every sample by a constant."""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit
from .._validate import check_real


class ScaleSettings(ez.Settings):
    scale: float = 1.0
    """Factor every sample is multiplied by (unitless). Default 1.0."""

    def __post_init__(self) -> None:
        check_real("scale", self.scale, finite=False)


class ScaleTransformer(StatelessTransformer[ScaleSettings, AxisArray, AxisArray]):
    """``x * scale`` in the input's namespace, device and float dtype."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        return replace_data(message, elementwise.scale(xp, message.data, self.settings.scale))


class Scale(TransformerUnit[ScaleSettings, AxisArray, AxisArray, ScaleTransformer]):
    SETTINGS = ScaleSettings


def scale(scale: float = 1.0) -> ScaleTransformer:
    """A ``ScaleTransformer`` multiplying samples by ``scale``."""
    return ScaleTransformer(ScaleSettings(scale=scale))
