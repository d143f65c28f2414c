"""Absolute value of every sample."""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit


class AbsSettings(ez.Settings):
    """No settings."""


class AbsTransformer(StatelessTransformer[AbsSettings, AxisArray, AxisArray]):
    """``|x|`` in the input's namespace, device and dtype."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        return replace_data(message, elementwise.absolute(xp, message.data))


class Abs(TransformerUnit[AbsSettings, AxisArray, AxisArray, AbsTransformer]):
    SETTINGS = AbsSettings


def abs() -> AbsTransformer:  # noqa: A001 - the name users know
    """An ``AbsTransformer``."""
    return AbsTransformer(AbsSettings())
