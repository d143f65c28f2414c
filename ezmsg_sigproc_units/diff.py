"""First difference along the streaming axis, continued across messages."""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ._backend import asarray, float_dtype_for, namespace_and_device
from ._kernels import difference
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._units import TransformerUnit


class DiffSettings(ez.Settings):
    axis: str | None = None
    """Dim to difference along. None (default) follows the message's declared ``stream_dim``,
    else ``"time"`` when present, else the first dim. State is carried between messages along
    this dim, so it should be the one messages accumulate along."""

    scale_by_fs: bool = False
    """If True, divide each difference by its sample period (multiply by fs for a LinearAxis;
    divide by the per-sample time step for a CoordinateAxis of timestamps). Default False."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if not isinstance(self.scale_by_fs, bool):
            raise ValueError(f"scale_by_fs: must be a bool, got {self.scale_by_fs!r}")


@processor_state
class DiffState:
    last_dat: Any = None
    """The last sample seen (the data's shape with length 1 along the axis), on the data's
    device and in its compute dtype; None before the first sample."""

    last_time: float | None = None
    """Timestamp of the last sample (CoordinateAxis time axes only; host float)."""


class DiffTransformer(StreamAxisMixin,
                      BaseStatefulTransformer[DiffSettings, AxisArray, AxisArray, DiffState]):
    """``y[t] = x[t] - x[t-1]`` along the axis; output has the input's shape. The first sample
    of the stream is differenced against itself (0). Integer input is computed in float.

    State resets by the shared rule (``StreamAxisMixin``): when the message layout changes
    (dims, length or labels of any other dim, the axis' gain), or the data's namespace,
    device or dtype change.
    """

    def _reset_state(self, message: AxisArray) -> None:
        axis = self._axis(message)
        axis_index(message, axis)
        if self.settings.scale_by_fs and not isinstance(
            message.axes.get(axis), (LinearAxis, CoordinateAxis)
        ):
            raise ValueError(
                f"scale_by_fs: dim {axis!r} has no LinearAxis or CoordinateAxis to read the "
                f"sample period from"
            )
        self._state.last_dat = None
        self._state.last_time = None

    def _denominator(self, xp: Any, dev: Any, x: Any, message: AxisArray, axis: str, ix: int):
        """Sample period(s) to divide by: the LinearAxis gain, or the per-sample steps of a
        CoordinateAxis (the first sample of the stream gets 1.0; its difference is 0)."""
        ax = message.axes[axis]
        if isinstance(ax, LinearAxis):
            return ax.gain
        # Host metadata only: the timestamps live in NumPy on the axis, so the steps are
        # computed there and moved to the data's device once per message (never the data).
        t = np.asarray(ax.data, dtype=np.float64)
        prev_t = self._state.last_time
        dt = np.diff(t, prepend=t[0] if prev_t is None else prev_t)
        if prev_t is None:
            dt[0] = 1.0
        self._state.last_time = float(t[-1])
        shape = [1] * x.ndim
        shape[ix] = dt.shape[0]
        return asarray(xp, dt.reshape(shape), dtype=float_dtype_for(xp, x.dtype, dev),
                       device=dev)

    def _process(self, message: AxisArray) -> AxisArray:
        axis = self._axis(message)
        ix = axis_index(message, axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        denom = None
        if self.settings.scale_by_fs and x.shape[ix] > 0:
            denom = self._denominator(xp, dev, x, message, axis, ix)
        y, self._state.last_dat = difference.diff_with_prev(
            xp, x, self._state.last_dat, ix, denom
        )
        return replace_data(message, y)


class DiffUnit(TransformerUnit[DiffSettings, AxisArray, AxisArray, DiffTransformer]):
    SETTINGS = DiffSettings


def diff(axis: str | None = None, scale_by_fs: bool = False) -> DiffTransformer:
    """A ``DiffTransformer`` differencing along ``axis`` (None: the streaming dim)."""
    return DiffTransformer(DiffSettings(axis=axis, scale_by_fs=scale_by_fs))
