"""Subtract a constant from every sample (or every sample from a constant), or subtract one
stream from another sample by sample (paired by arrival order, as in ``add``)."""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit
from .._validate import check_real
from ._pair import _PairProcessor, _PairState, _PairUnit


class ConstDifferenceSettings(ez.Settings):
    value: float = 0.0
    """The constant (in the data's unit). Default 0.0."""

    subtrahend: bool = True
    """If True the constant is subtracted from the data (``x - value``); if False the data
    is subtracted from the constant (``value - x``). Default True."""

    def __post_init__(self) -> None:
        check_real("value", self.value, finite=False)
        if type(self.subtrahend) is not bool:
            raise ValueError(f"subtrahend: must be a bool, got {self.subtrahend!r}")


class ConstDifferenceTransformer(
    StatelessTransformer[ConstDifferenceSettings, AxisArray, AxisArray]
):
    """``x - value`` (or ``value - x``) in the input's namespace, device and float dtype."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        s = self.settings
        out = elementwise.subtract_const(xp, message.data, s.value, s.subtrahend)
        return replace_data(message, out)


class ConstDifference(
    TransformerUnit[ConstDifferenceSettings, AxisArray, AxisArray, ConstDifferenceTransformer]
):
    SETTINGS = ConstDifferenceSettings


def const_difference(value: float = 0.0, subtrahend: bool = True) -> ConstDifferenceTransformer:
    """A ``ConstDifferenceTransformer``: ``x - value`` if ``subtrahend`` else ``value - x``."""
    return ConstDifferenceTransformer(ConstDifferenceSettings(value=value, subtrahend=subtrahend))


class DifferenceState(_PairState):
    """Queues of ``DifferenceProcessor``."""


class DifferenceProcessor(_PairProcessor):
    """``a - b`` of paired messages (integer input computed in the default float)."""

    _KERNEL = staticmethod(elementwise.subtract)
    _STATE = DifferenceState


class Difference(_PairUnit):
    """``OUTPUT_SIGNAL = INPUT_SIGNAL_A - INPUT_SIGNAL_B``, paired by arrival order."""

    _PROCESSOR = DifferenceProcessor
