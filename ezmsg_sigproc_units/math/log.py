"""Logarithm of every sample, in any base."""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace, device_of, dtype_name, float_dtype_for
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit

# Smallest normal number of dtypes NumPy's finfo does not know.
_TINY_EXTRA = {"bfloat16": 2.0**-126}


class LogSettings(ez.Settings):
    base: float = 10.0
    """Base of the logarithm; positive, finite and not 1. Default 10.0."""

    clip_zero: bool = False
    """If True, values below the compute dtype's smallest normal number (zeros and
    negatives) are raised to it before the log, so the output is finite (NaN stays NaN).
    If False, 0 gives -inf and negatives give NaN. Default False."""

    def __post_init__(self) -> None:
        b = self.base
        if (
            isinstance(b, bool)
            or not isinstance(b, (int, float))
            or not math.isfinite(b)
            or b <= 0
            or b == 1
        ):
            raise ValueError(f"base: must be a positive finite number other than 1, got {b!r}")


class LogTransformer(StatelessTransformer[LogSettings, AxisArray, AxisArray]):
    """``log_base(x)`` in the input's namespace, device and float dtype (integer input is
    computed in the default float)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (namespace, input dtype) -> smallest normal of the compute dtype (host float).
        self._tiny: dict[tuple[Any, Any], float] = {}

    def _tiny_for(self, xp: Any, x: Any) -> float:
        key = (xp, x.dtype)
        tiny = self._tiny.get(key)
        if tiny is None:
            dt = float_dtype_for(xp, x.dtype, device_of(x))
            name = dtype_name(dt)
            tiny = _TINY_EXTRA.get(name)
            if tiny is None:
                tiny = float(np.finfo(name).tiny)
            self._tiny[key] = tiny
        return tiny

    def _process(self, message: AxisArray) -> AxisArray:
        x = message.data
        xp = array_namespace(x)
        s = self.settings
        tiny = self._tiny_for(xp, x) if s.clip_zero else None
        return replace_data(message, elementwise.log(xp, x, s.base, tiny))


class Log(TransformerUnit[LogSettings, AxisArray, AxisArray, LogTransformer]):
    SETTINGS = LogSettings


def log(base: float = 10.0, clip_zero: bool = False) -> LogTransformer:
    """A ``LogTransformer`` for ``log_base``, optionally clipping values below the dtype's
    smallest normal number first."""
    return LogTransformer(LogSettings(base=base, clip_zero=clip_zero))
