"""Add a constant to every sample, or add two streams sample by sample.

``AddProcessor``/``Add`` pair the messages of two streams by arrival order (the n-th message
of A with the n-th of B); the pairing lives in ``_pair``.
"""

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


class ConstAddSettings(ez.Settings):
    value: float = 0.0
    """Constant added to every sample (in the data's unit). Default 0.0."""

    def __post_init__(self) -> None:
        check_real("value", self.value, finite=False)


class ConstAddTransformer(StatelessTransformer[ConstAddSettings, AxisArray, AxisArray]):
    """``x + value`` in the input's namespace, device and float dtype."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        return replace_data(message, elementwise.add_const(xp, message.data, self.settings.value))


class ConstAdd(TransformerUnit[ConstAddSettings, AxisArray, AxisArray, ConstAddTransformer]):
    SETTINGS = ConstAddSettings


class AddState(_PairState):
    """Queues of ``AddProcessor``."""


class AddProcessor(_PairProcessor):
    """``a + b`` of paired messages (integer input computed in the default float)."""

    _KERNEL = staticmethod(elementwise.add)
    _STATE = AddState


class Add(_PairUnit):
    """``OUTPUT_SIGNAL = INPUT_SIGNAL_A + INPUT_SIGNAL_B``, paired by arrival order."""

    _PROCESSOR = AddProcessor
