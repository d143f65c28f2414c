"""Remove a slowly varying baseline: ``x - EWMA(x)`` along the streaming axis.

The baseline is ``ewma.EWMATransformer``'s bias-corrected exponentially weighted mean (the
current sample included), so the first output of a stream is 0. Same settings (the EWMA's),
same streaming guarantees, input's float dtype.
"""

from __future__ import annotations

from ezmsg.util.messages.axisarray import AxisArray

from ._kernels import axes as _axes
from ._messages import replace_data
from ._units import TransformerUnit
from .ewma import EWMASettings, EWMATransformer


class DetrendTransformer(EWMATransformer):
    """``x`` minus its running EWMA (see ``ewma.EWMATransformer``); ``passthrough`` lets the
    data by unchanged."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp, dev, x, inner, ix = self._time_major(message)
        if x.shape[0] and x.shape[1]:
            x = x - self._smooth(xp, dev, x)
        return replace_data(message, _axes.from_time_major(xp, x, inner, ix))


class DetrendUnit(TransformerUnit[EWMASettings, AxisArray, AxisArray, DetrendTransformer]):
    SETTINGS = EWMASettings
