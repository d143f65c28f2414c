"""Quantize samples to an unsigned integer grid of a given number of bits."""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._channels_common import GridPlanCache, check_range
from ._kernels import quantize as qk
from ._messages import replace_data
from ._processors import StatelessTransformer
from ._units import TransformerUnit
from ._validate import check_count


def _unsigned_dtype_name(bits: int) -> str:
    """The output dtype for ``bits``: bool for 1, else the smallest of uint8/16/32/64."""
    if bits <= 1:
        return "bool"
    for width in (8, 16, 32):
        if bits <= width:
            return f"uint{width}"
    return "uint64"


class QuantizeSettings(ez.Settings):
    max_val: float
    """Upper end of the input range: larger values are clipped to it and it maps to
    ``2**bits - 1``. Required."""

    min_val: float = 0.0
    """Lower end of the input range: smaller values are clipped to it and it maps to 0.
    Default 0.0."""

    bits: int = 8
    """Bits of the output grid (1 to 64). The output dtype is bool for 1 bit, else the
    smallest of uint8, uint16, uint32 and uint64 that holds them. Default 8."""

    def __post_init__(self) -> None:
        check_range(self.min_val, self.max_val)
        check_count("bits", self.bits, minimum=1)
        if self.bits > 64:
            raise ValueError(f"bits: at most 64 (the widest unsigned integer), got {self.bits!r}")


class QuantizeTransformer(GridPlanCache,
                          StatelessTransformer[QuantizeSettings, AxisArray, AxisArray]):
    """``round((clip(x, min_val, max_val) - min_val) / (max_val - min_val) * (2**bits - 1))``
    as an unsigned integer (bool for 1 bit), computed in the input's float dtype on its
    device (integer input: the default float). Where the top of the grid is not exact in that
    float (more than 24 bits from float32 input), the top is still exactly ``2**bits - 1``:
    nothing wraps past the range."""

    def _grid(self) -> qk.Grid:
        s = self.settings
        return qk.Grid(float(s.min_val), float(s.max_val), 2**s.bits - 1, 0,
                       _unsigned_dtype_name(s.bits))

    def _process(self, message: AxisArray) -> AxisArray:
        return replace_data(message, self._on_grid(message.data))


class QuantizerUnit(TransformerUnit[QuantizeSettings, AxisArray, AxisArray,
                                    QuantizeTransformer]):
    SETTINGS = QuantizeSettings
