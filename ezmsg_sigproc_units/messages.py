"""``TSMessage``, the deprecated time-series message constructor (importing this module warns):
it builds an ``AxisArray`` with a ``"time"`` dim; use ``AxisArray`` directly."""

from __future__ import annotations

import time
import warnings
from typing import Any

from ezmsg.util.messages.axisarray import AxisArray

from ._messages import new_message

warnings.warn(
    "TimeSeriesMessage/TSMessage is deprecated. Please use ezmsg.util.messages.axisarray."
    "AxisArray",
    DeprecationWarning,
    stacklevel=2,
)


def TSMessage(  # noqa: N802 - the peer's name
    data: Any,
    fs: float = 1.0,
    time_dim: int = 0,
    timestamp: float | None = None,
) -> AxisArray:
    """An AxisArray of ``data`` (any array library, kept as it is) whose dim ``time_dim`` is
    ``"time"`` at ``fs`` Hz and the others ``dim_0``, ``dim_1``, ...; ``timestamp`` (default:
    now, ``time.monotonic()``) is the time just after the last sample, so the first sample
    is at ``timestamp - n / fs``."""
    ndim = len(data.shape)
    dims = [f"dim_{i}" for i in range(ndim)]
    dims[time_dim] = "time"
    end = time.monotonic() if timestamp is None else timestamp
    offset = end - data.shape[time_dim] / fs
    return new_message(data, dims, {"time": AxisArray.TimeAxis(fs, offset=offset)})
