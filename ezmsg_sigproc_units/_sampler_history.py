"""The sampler's bounded history: the last ``capacity`` samples of a stream on the data's
device (owned chunks, ``_kernels.epochs``), the host arithmetic that maps trigger times to
sample indices, and the epochs cut from it.

Samples are numbered globally from 0 (the first sample after a reset). A LinearAxis stream
maps index ``i`` to ``t_ref + (i - i_ref) * gain``, with the reference taken from the latest
message that carried samples (as the peer's buffer does); a CoordinateAxis stream keeps its
timestamps on the host (metadata, never the data).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ._backend import namespace_and_device
from ._kernels import epochs
from ._messages import replace_fields

_TOL = 1e-9
"""Tolerance, in samples, for a trigger edge that falls on a sample (as the peer's)."""


class SampleHistory:
    """The last ``capacity`` samples along ``axis`` of a stream, and the layout of its
    messages (dims, the other axes, key, attrs: the template of every epoch)."""

    def __init__(self, message: AxisArray, axis: str, ix: int, buffer_dur: float) -> None:
        ax = message.axes.get(axis)
        self.axis, self.ix = axis, ix
        self.linear = not isinstance(ax, CoordinateAxis)
        self.gain = float(ax.gain) if isinstance(ax, LinearAxis) else None
        self.unit = getattr(ax, "unit", "s") if ax is not None else "s"
        if self.gain is not None:
            self.capacity = max(1, math.ceil(buffer_dur / self.gain - _TOL))
        else:
            self.capacity = None  # set from the median step of the first timestamps
        self.buffer_dur = buffer_dur
        self.chunks: list[Any] = []
        self.lengths: list[int] = []
        self.first = 0  # global index of chunks[0][0]
        self.end = 0  # global index after the newest sample
        self.ref: tuple[int, float] | None = None  # (index, time) of a LinearAxis stream
        self.times = np.zeros(0)  # CoordinateAxis stream: timestamps of first..end
        self._template(message)

    def _template(self, message: AxisArray) -> None:
        """The latest message's fields without its data (the epochs' layout, key, attrs)."""
        self.template = replace_fields(message, None)

    # ------------------------------------------------------------------------------ writes
    def write(self, message: AxisArray, x: Any) -> int:
        """Append the samples of ``message`` (data ``x``); returns the global index of its
        first sample."""
        n = x.shape[self.ix]
        at = self.end
        self._template(message)
        if n == 0:
            return at
        ax = message.axes[self.axis]  # the reset checked it is a Linear or CoordinateAxis
        if self.linear:
            self.ref = (at, ax.offset)
        else:
            t = np.asarray(ax.data, dtype=np.float64)
            self.times = np.concatenate([self.times, t])
            if self.capacity is None:
                step = float(np.median(np.diff(self.times))) if self.times.size > 1 else 0.0
                if step > 0:
                    self.capacity = max(1, math.ceil(self.buffer_dur / step - _TOL))
        cap = self.capacity if self.capacity is not None else n
        self.chunks.append(epochs.own(namespace_and_device(x)[0], x, self.ix, cap))
        kept = min(n, cap)
        self.lengths.append(kept)
        if kept < n:  # one message longer than the history: only its tail is kept
            self.chunks, self.lengths = self.chunks[-1:], self.lengths[-1:]
            self.first = at + n - kept
            if not self.linear:
                self.times = self.times[-kept:]
        self.end = at + n
        excess = (self.end - self.first) - cap
        if excess >= self.lengths[0]:
            dropped = epochs.trim(self.chunks, self.lengths, self.ix, excess)
            self.first += dropped
            if not self.linear:
                self.times = self.times[dropped:]
        return at

    # ------------------------------------------------------------------------------- times
    @property
    def has_data(self) -> bool:
        return self.end > self.first and (self.ref is not None or not self.linear)

    @property
    def valid_first(self) -> int:
        """Global index of the oldest sample still in the history (the last ``capacity``)."""
        if self.capacity is None:
            return self.first
        return max(self.first, self.end - self.capacity)

    def time_of(self, i: int) -> float:
        """Time of global sample ``i`` (a LinearAxis extrapolates; timestamps are looked up,
        or extrapolated by one median step past the newest)."""
        if self.linear:
            i0, t0 = self.ref
            return t0 + (i - i0) * self.gain
        k = i - self.first
        if k < self.times.size:
            return float(self.times[k])
        step = float(np.median(np.diff(self.times))) if self.times.size > 1 else 0.0
        return float(self.times[-1]) + (k - self.times.size + 1) * step

    def count_upto(self, t: float) -> int:
        """Global index after the last sample at or before time ``t`` (a sample within
        ``1e-9`` samples of ``t`` counts as at ``t``)."""
        if self.linear:
            i0, t0 = self.ref
            return math.floor((t - t0) / self.gain + i0 + _TOL) + 1
        return self.first + int(np.searchsorted(self.times, t, side="right"))

    # ------------------------------------------------------------------------------ epochs
    def epoch(self, start: int, stop: int, attrs: dict) -> AxisArray:
        """Samples ``start:stop`` (global, within the history) as a message of the stream's
        layout, its time axis starting at sample ``start``."""
        xp = namespace_and_device(self.chunks[0])[0]
        data = epochs.cut(xp, self.chunks, self.lengths, self.ix, start - self.first,
                          stop - self.first)
        if self.linear:
            tax: Any = LinearAxis(gain=self.gain, offset=self.time_of(start), unit=self.unit)
        else:
            sel = self.times[start - self.first:stop - self.first].copy()
            tax = CoordinateAxis(data=sel, dims=[self.axis], unit=self.unit)
        tmpl = self.template
        return replace_fields(tmpl, data, axes={**tmpl.axes, self.axis: tax},
                              attrs={**tmpl.attrs, **attrs})
