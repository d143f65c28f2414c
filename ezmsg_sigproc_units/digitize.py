"""Digitize real samples into signed integers spanning a dtype's whole range."""

from __future__ import annotations

import enum

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from ._channels_common import GridPlanCache, check_range
from ._kernels import quantize as qk
from ._messages import replace_fields
from ._processors import StatelessTransformer
from ._units import TransformerUnit
from ._validate import check_member


class DigitizeDType(str, enum.Enum):
    """The signed integer dtypes ``DigitizeTransformer`` can output."""

    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"

    @classmethod
    def options(cls) -> list[str]:
        """The members' values, e.g. for a settings form."""
        return [m.value for m in cls]


class DigitizeSettings(ez.Settings):
    min_val: float
    """Input value mapped to the dtype's minimum (smaller values are clipped). Required."""

    max_val: float
    """Input value mapped to the dtype's maximum (larger values are clipped); must be greater
    than ``min_val``. Required."""

    dtype: str | DigitizeDType = DigitizeDType.INT16
    """Output dtype: ``"int16"`` (default), ``"int32"`` or ``"int64"`` (a member or its value,
    in any case)."""

    def __post_init__(self) -> None:
        check_range(self.min_val, self.max_val)
        _resolve(self.dtype)


def _resolve(dtype: str | DigitizeDType) -> DigitizeDType:
    if isinstance(dtype, str) and not isinstance(dtype, DigitizeDType):
        dtype = dtype.lower()
    return check_member(DigitizeDType, "dtype", dtype)


class DigitizeTransformer(GridPlanCache,
                          StatelessTransformer[DigitizeSettings, AxisArray, AxisArray]):
    """``round((clip(x, min_val, max_val) - min_val) / (max_val - min_val) * span + lo)`` as
    ``dtype``, where ``[lo, lo + span]`` is the dtype's whole range; computed in the input's
    float dtype on its device (integer input: the default float). A value that reaches the
    top of the range gives exactly the dtype's maximum (nothing wraps, whatever the float).

    The output's ``attrs`` gain ``conversion`` and ``offset`` (host floats): ``y *
    conversion + offset`` approximates the input (within half a step inside the range)."""

    def _grid(self) -> qk.Grid:
        s = self.settings
        info = np.iinfo(_resolve(s.dtype).value)
        return qk.Grid(float(s.min_val), float(s.max_val), int(info.max) - int(info.min),
                       int(info.min), _resolve(s.dtype).value)

    def _process(self, message: AxisArray) -> AxisArray:
        y = self._on_grid(message.data)
        grid = self._plan[4]
        conversion = (grid.hi - grid.lo) / float(grid.span)
        attrs = dict(message.attrs)
        attrs["conversion"] = conversion
        attrs["offset"] = grid.lo - float(grid.base) * conversion
        return replace_fields(message, y, attrs=attrs)


class Digitize(TransformerUnit[DigitizeSettings, AxisArray, AxisArray, DigitizeTransformer]):
    SETTINGS = DigitizeSettings


def digitize(min_val: float, max_val: float,
             dtype: str | DigitizeDType = DigitizeDType.INT16) -> DigitizeTransformer:
    """A ``DigitizeTransformer`` mapping ``[min_val, max_val]`` onto the range of ``dtype``."""
    return DigitizeTransformer(DigitizeSettings(min_val=min_val, max_val=max_val, dtype=dtype))
