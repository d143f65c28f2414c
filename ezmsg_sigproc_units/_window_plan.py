"""The window stage's hot path: per-layout constants (``WindowPlan``) and the fused steps
built with them. ``window.WindowTransformer`` builds a plan when a message's layout, the
settings or the state change, and answers the next messages through ``plan.step``.

* ``_numpy_step`` (NumPy): checks a message against the plan, writes the chunk into the
  buffer, emits at most one window as a read-only view and builds the output message
  attribute by attribute.
* ``_quiet_step`` (the other backends): the same for chunks that complete no window.
* Anything else goes to ``WindowTransformer._emit``, the general path; ``test_window``
  compares both paths message by message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import namespace_and_device, zeros
from ._kernels import windowing as _win
from ._messages import axis_index

if TYPE_CHECKING:
    from .window import WindowTransformer


class WindowPlan:
    """Per-layout constants of the hot path (host metadata only; rebuilt, never pickled).
    ``fraction``: where a window's timestamp sits in it (0 its first sample, 0.5 its middle,
    1 its end; see ``window.Anchor``)."""

    __slots__ = ("state", "hash", "settings", "axis", "ix", "gain", "unit", "window", "shift",
                 "hop", "batch", "newaxis", "out_dims", "xp", "device", "dev_key", "push",
                 "key", "dims", "stream_dim", "others", "before", "after", "dtype", "atype",
                 "lead", "time_axis", "empty", "step")

    def __init__(self, t: WindowTransformer, message: AxisArray, axis: str,
                 fraction: float) -> None:
        st, x = t._state, message.data
        self.state, self.hash, self.settings = st, t._hash, t.settings
        self.axis, self.ix = axis, axis_index(message, axis)
        ax = message.axes[axis]
        self.gain, self.unit = ax.gain, ax.unit
        self.window, self.shift, self.newaxis = st.window, st.shift, st.newaxis
        self.hop = (st.shift or 0) * ax.gain
        self.batch = t.settings.batch_windows
        self.out_dims = message.dims[: self.ix] + [st.newaxis] + message.dims[self.ix :]
        self.xp, self.device = namespace_and_device(x)
        # The array's own device attribute where it has one (None on MLX: unified memory);
        # NumPy arrays are always on the host, so their type check is enough.
        self.dev_key = None if type(x) is np.ndarray else (getattr(x, "device", None),)
        self.push = _win.pusher(self.xp)
        self.key, self.dims, self.stream_dim = message.key, list(message.dims), message.stream_dim
        self.others = tuple((d, message.axes.get(d)) for d in message.dims if d != axis)
        self.before, self.after = x.shape[: self.ix], x.shape[self.ix + 1 :]
        self.dtype, self.atype = x.dtype, type(x)
        shape = list(x.shape)
        shape[self.ix : self.ix + 1] = [0, st.window]
        self.empty = zeros(self.xp, shape, dtype=x.dtype, device=self.device)
        # The anchor's distance from a window's first sample, and the in-window axis. A
        # settings change (anchor included) brings new settings, hence a new plan and step.
        self.lead = fraction * self.window * self.gain
        self.time_axis = LinearAxis(gain=self.gain, offset=0.0 - self.lead, unit=self.unit)
        self.step = self._checked_emit(t)
        if not self.batch and self.shift is not None:
            if type(x) is not np.ndarray:
                self.step = _quiet_step(t, self)
            elif type(message) is AxisArray and set(message.axes) <= set(message.dims):
                self.step = _numpy_step(t, self, message)

    def matches(self, m: AxisArray) -> bool:
        x, ix = m.data, self.ix
        if not (type(x) is self.atype and x.dtype == self.dtype and m.dims == self.dims
                and m.key == self.key and m.stream_dim == self.stream_dim
                and x.shape[ix + 1 :] == self.after and (not ix or x.shape[:ix] == self.before)):
            return False
        axes = m.axes
        ax = axes.get(self.axis)
        if type(ax) is not LinearAxis or ax.gain != self.gain:
            return False
        for d, obj in self.others:
            if axes.get(d) is not obj:
                return False
        return self.dev_key is None or self.dev_key[0] == getattr(x, "device", None)

    def _checked_emit(self, t: WindowTransformer) -> Any:
        """The hot path on any backend: the message as the plan describes it, else None."""
        emit, matches = t._emit, self.matches

        def step(m: AxisArray) -> AxisArray | None:
            return emit(self, m) if matches(m) else None

        return step


def _message_builder(p: WindowPlan) -> Any:
    """``build(m, axes, wins, t0)``: the output for plain AxisArray ``m`` (``axes`` its axes)
    carrying ``wins``, whose first window starts at ``t0``. The fused steps' replacement for
    ``_output``: attribute by attribute, which costs half of assigning ``__dict__``."""
    axis, newaxis, unit, hop, lead = p.axis, p.newaxis, p.unit, p.hop, p.lead
    time_axis, out_dims, new = p.time_axis, p.out_dims, object.__new__

    def build(m: AxisArray, axes: dict, wins: Any, t0: float) -> AxisArray:
        out_axes = axes.copy()
        out_axes[axis] = time_axis
        win = new(LinearAxis)
        win.unit, win.gain, win.offset = unit, hop, t0 + lead
        out_axes[newaxis] = win
        out = new(AxisArray)
        out.data, out.dims, out.axes = wins, out_dims.copy(), out_axes
        out.attrs, out.key, out.stream_dim = m.attrs, m.key, newaxis
        return out

    return build


def _numpy_step(t: WindowTransformer, p: WindowPlan, message: AxisArray) -> Any:
    """The steady-state hot path on NumPy, fused into one closure over the plan's constants:
    check the message against the plan, write the chunk into the buffer and emit at most one
    window as a read-only view, then build the output message directly. It returns None for a
    message the plan does not describe (the caller takes the checking path) and hands any
    other case (first message, a full buffer, a skip, several windows) to ``t._emit``; both
    give the same output, which ``test_window`` compares."""
    st, ix, w, h, gain = p.state, p.ix, p.window, p.shift, p.gain
    axis, empty, dims, after, before = p.axis, p.empty, p.dims, p.after, p.before
    dtype, key, stream_dim = p.dtype, p.key, p.stream_dim
    n_axes, lo = len(message.axes), ix + 1
    present = tuple((d, a) for d, a in p.others if a is not None)
    pre = (slice(None),) * ix
    emit, build, ndarray = t._emit, _message_builder(p), np.ndarray

    def step(m: AxisArray) -> AxisArray | None:
        # ``WindowPlan.matches`` inlined for NumPy (no device; the other axes compared by
        # count and identity: the plan's message had axes on its dims only), plus the type
        # check that the attribute-by-attribute output needs
        x, axes = m.data, m.axes
        ax = axes.get(axis)
        if not (type(x) is ndarray and type(m) is AxisArray
                and (x.dtype is dtype or x.dtype == dtype) and m.dims == dims
                and type(ax) is LinearAxis and ax.gain == gain and len(axes) == n_axes
                and x.shape[lo:] == after and (not ix or x.shape[:ix] == before)
                and m.key == key and m.stream_dim == stream_dim):
            return None
        for d, obj in present:
            if axes.get(d) is not obj:
                return None
        n = x.shape[ix]
        buf, start, stop = st.buffer, st.start, st.stop
        if (st.deficit or buf is None or stop + n > buf.shape[ix] or not st.started
                or stop + n - start >= w + h):
            return emit(p, m)
        if ix:
            buf[pre + (slice(stop, stop + n),)] = x
        else:
            buf[stop : stop + n] = x
        st.stop = stop + n
        if stop + n - start < w:
            return build(m, axes, empty, ax.offset)
        # exactly one window: a read-only view of the buffer (never written again)
        wins = buf[pre + (None, slice(start, start + w))]
        wins.flags.writeable = False
        if start + h > stop + n:  # a hop longer than the window: skip the gap
            st.deficit = start + h - stop - n
            st.start = stop + n
        else:
            st.start = start + h
        return build(m, axes, wins, ax.offset - (stop - start) * gain)

    return step


def _quiet_step(t: WindowTransformer, p: WindowPlan) -> Any:
    """The hot path on the other backends: a plain AxisArray that completes no window is
    appended (in place into torch's preallocated buffer, by ``concat`` elsewhere) and
    answered with an empty message built directly; anything else goes to ``t._emit``."""
    st, ix, w, xp, empty = p.state, p.ix, p.window, p.xp, p.empty
    inplace = p.push is not _win.push  # a native pusher owns a preallocated buffer
    emit, matches, build = t._emit, p.matches, _message_builder(p)
    pre = (slice(None),) * ix

    def step(m: AxisArray) -> AxisArray | None:
        if not matches(m):
            return None
        x = m.data
        n = x.shape[ix]
        buf, start, stop = st.buffer, st.start, st.stop
        if (type(m) is not AxisArray or st.deficit or buf is None or not st.started
                or stop + n - start >= w or (inplace and stop + n > buf.shape[ix])):
            return emit(p, m)
        if inplace:
            buf[pre + (slice(stop, stop + n),)] = x
        else:  # the portable buffer holds exactly [0, stop)
            st.buffer = xp.concat([buf, x], axis=ix)
        st.stop = stop + n
        return build(m, m.axes, empty, m.axes[p.axis].offset)

    return step
