"""Reciprocal of every sample."""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit


class InvertSettings(ez.Settings):
    """No settings."""


class InvertTransformer(StatelessTransformer[InvertSettings, AxisArray, AxisArray]):
    """``1 / x`` in the input's namespace, device and float dtype; 0 gives inf (-0 gives
    -inf), as IEEE division does."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        return replace_data(message, elementwise.invert(xp, message.data))


class Invert(TransformerUnit[InvertSettings, AxisArray, AxisArray, InvertTransformer]):
    SETTINGS = InvertSettings


def invert() -> InvertTransformer:
    """An ``InvertTransformer``."""
    return InvertTransformer(InvertSettings())
