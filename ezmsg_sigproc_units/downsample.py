"""Keep every ``factor``-th sample along the streaming axis (no anti-alias filter).

The phase is carried across messages, so any split of a stream gives the samples of the whole
stream at indices ``0, q, 2q, ...`` (``x[::q]``). The output axis is a LinearAxis whose gain is
``q`` times the input's and whose offset is the time of the message's first kept sample (for a
message that keeps no sample: the time the next kept sample will have). A CoordinateAxis along
the axis is subsampled the same way. Pure indexing: runs on every backend, any dtype.

For band-limited decimation (filter first), use ``decimate``.
"""

from __future__ import annotations

import math

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ._messages import axis_index, replace_data, replace_fields
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_count, check_real


class DownsampleSettings(ez.Settings):
    target_rate: float | None = None
    """Desired output rate (Hz, the axis' inverse unit). The factor is the largest integer
    ``q`` with ``fs / q >= target_rate``, i.e. ``floor(fs / target_rate)``; the output rate
    ``fs / q`` is therefore at least ``target_rate``. A ``target_rate`` above the input rate
    keeps every sample (factor 1, with a logged warning, as ezmsg-sigproc). Needs a
    LinearAxis. Default None."""

    factor: int | None = None
    """Keep every ``factor``-th sample (integer >= 1). When ``target_rate`` is given too,
    ``factor`` is used and ``target_rate`` ignored (as in ezmsg-sigproc; a warning is
    logged); with neither, every sample is kept (factor 1). Default None."""

    axis: str | None = None
    """Dim to downsample along. None (default) follows the message's declared ``stream_dim``,
    else ``"time"`` when present, else the first dim."""

    def __post_init__(self) -> None:
        if self.target_rate is not None:
            check_real("target_rate", self.target_rate)
            if self.target_rate <= 0:
                raise ValueError(f"target_rate: must be > 0 (Hz) or None, got "
                                 f"{self.target_rate!r}")
        if self.factor is not None:
            check_count("factor", self.factor)
            if self.target_rate is not None:  # the peer's rule: factor wins
                ez.logger.warning(f"downsample: factor={self.factor} is used and "
                                  f"target_rate={self.target_rate} is ignored (both given)")
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")


@processor_state
class DownsampleState:
    q: int = 0
    """Downsampling factor in effect (0 before the first message)."""

    s_idx: int = 0
    """Index, counted from the start of the next message, of the next sample to keep."""

    axis: str = ""
    """Name of the dim being downsampled."""


class DownsampleTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[DownsampleSettings, AxisArray, AxisArray, DownsampleState],
):
    """``x[::q]`` of the whole stream, message by message. Integer, bool and complex data
    pass unchanged in dtype. State (the phase) resets by the shared rule
    (``StreamAxisMixin``): when the layout of the other dims, the axis' gain, or the data's
    namespace, device or dtype change."""

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis = self._axis(message)
        axis_index(message, axis)
        st.axis = axis
        st.s_idx = 0
        if s.factor is not None or s.target_rate is None:
            st.q = s.factor or 1
            return
        ax = message.axes.get(axis)
        if not isinstance(ax, LinearAxis):
            raise ValueError(f"axis: target_rate needs a LinearAxis on dim {axis!r} to know the "
                             f"input rate; give factor instead")
        fs = 1.0 / ax.gain
        if s.target_rate > fs * (1.0 + 1e-9):  # as the peer: warn, keep every sample
            ez.logger.warning(f"downsample: target_rate {s.target_rate} Hz is above the input "
                              f"rate {fs} Hz of dim {axis!r}; every sample is kept (factor 1)")
        st.q = max(1, int(math.floor(fs / s.target_rate + 1e-9)))

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        q, s_idx = st.q, st.s_idx
        ix = axis_index(message, st.axis)
        n = message.data.shape[ix]
        st.s_idx = (s_idx - n) % q
        if q == 1:
            return message
        sl = slice(s_idx, None, q) if s_idx < n else slice(0, 0)
        data = message.data[(slice(None),) * ix + (sl, Ellipsis)]
        ax = message.axes.get(st.axis)
        if isinstance(ax, LinearAxis):
            new_ax = LinearAxis(gain=ax.gain * q, offset=ax.offset + s_idx * ax.gain,
                                unit=ax.unit)
        elif isinstance(ax, CoordinateAxis):
            new_ax = CoordinateAxis(data=np.asarray(ax.data)[sl], dims=ax.dims, unit=ax.unit)
        else:  # no axis information to update
            return replace_data(message, data)
        return replace_fields(message, data=data, axes={**message.axes, st.axis: new_ax})


class Downsample(TransformerUnit[DownsampleSettings, AxisArray, AxisArray,
                                 DownsampleTransformer]):
    SETTINGS = DownsampleSettings


def downsample(target_rate: float | None = None, factor: int | None = None,
               axis: str | None = None) -> DownsampleTransformer:
    """A ``DownsampleTransformer`` keeping every ``factor``-th sample, or the factor that
    reaches at least ``target_rate``."""
    return DownsampleTransformer(DownsampleSettings(target_rate=target_rate, factor=factor,
                                                    axis=axis))
