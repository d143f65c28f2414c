"""Cut a stream into (possibly overlapping) windows along its streaming axis.

Output dims: the input's with the window axis (``newaxis``, default ``"win"``) inserted just
before the time axis, e.g. ``(time, ch)`` -> ``(win, time, ch)``. The window axis is a
LinearAxis whose offset is the anchor time of the first window in the message and whose gain is
the hop (in the time axis' unit); the time axis inside a window starts at minus the anchor's
distance from the window's first sample. A message that completes no window gives zero windows.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any, Literal

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import namespace_and_device, zeros
from ._kernels import windowing as _win
from ._messages import axis_index
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_real

_N_FIELDS = len(dataclasses.fields(AxisArray))
_PADS = ("none", "input", "shift", "full")
_STRATEGIES = ("immediate", "threshold", "on_demand")


class Anchor(enum.Enum):
    """Which point of a window its timestamp (the window axis' coordinate) refers to."""

    BEGINNING = "beginning"
    END = "end"
    MIDDLE = "middle"


class WindowSettings(ez.Settings):
    axis: str | None = None
    """Dim to window along. None (default) follows the message's declared ``stream_dim``, else
    ``"time"`` when present, else the first dim. It needs a LinearAxis (regular sampling)."""

    newaxis: str | None = None
    """Name of the inserted window dim. None (default) means ``"win"``; if the input already
    has a dim of that name, ``"<name>_win"`` is used."""

    window_dur: float | None = None
    """Window length in the axis' unit (seconds), floored to whole samples (at least one).
    None (default) passes messages through unchanged."""

    window_shift: float | None = None
    """Hop between window starts in the axis' unit (seconds), floored to whole samples (at
    least one); may exceed ``window_dur`` (samples between windows are skipped). None
    (default): one window per message, the latest ``window_dur`` of signal. Default None."""

    zero_pad_until: str = "full"
    """Zeros prepended to the stream before its first sample: ``"none"`` (no zeros),
    ``"shift"`` (``window - shift`` samples, so the first window ends one hop into the
    stream), ``"input"`` and ``"full"`` (``window - n`` samples, n the length of the first
    non-empty message, so that message completes one window). Default ``"full"``."""

    anchor: str | Anchor = Anchor.BEGINNING
    """Time each window is labelled with: its first sample (``"beginning"``, default), its
    middle (first + window/2) or its end (first + window). Changing it does not reset state."""

    batch_windows: bool = False
    """If True (needs ``window_shift == window_dur`` and the default anchor), the windows of a
    message are joined back along the time axis instead of stacked on a new axis. Default
    False."""

    buffer_update_strategy: Literal["immediate", "threshold", "on_demand"] = "immediate"
    """Accepted for compatibility; every strategy gives the same output here (the buffer is
    always updated the fastest way for the backend). Default ``"immediate"``."""

    def __post_init__(self) -> None:
        for name in ("axis", "newaxis"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise ValueError(f"{name}: must be a dim name or None, got {v!r}")
        for name in ("window_dur", "window_shift"):
            v = getattr(self, name)
            if v is not None:
                check_real(name, v)
                if v <= 0:
                    raise ValueError(f"{name}: must be > 0 (seconds) or None, got {v!r}")
        if self.zero_pad_until not in _PADS:
            raise ValueError(f"zero_pad_until: must be one of {_PADS}, got {self.zero_pad_until!r}")
        anchor = _anchor(self.anchor)
        if not isinstance(self.batch_windows, bool):
            raise ValueError(f"batch_windows: must be a bool, got {self.batch_windows!r}")
        if self.buffer_update_strategy not in _STRATEGIES:
            raise ValueError(f"buffer_update_strategy: must be one of {_STRATEGIES}, got "
                             f"{self.buffer_update_strategy!r}")
        if self.batch_windows and self.window_dur is not None:
            if self.window_shift is None or not math.isclose(self.window_shift, self.window_dur):
                raise ValueError(f"batch_windows: needs window_shift == window_dur (windows that "
                                 f"tile the axis), got {self.window_shift!r} and "
                                 f"{self.window_dur!r}")
            if anchor is not Anchor.BEGINNING:
                raise ValueError(f"batch_windows: joined windows keep absolute times, so anchor "
                                 f"must stay 'beginning', got {anchor.value!r}")


def _anchor(value: Any) -> Anchor:
    try:
        return Anchor(value)
    except ValueError:
        raise ValueError(f"anchor: must be one of {[a.value for a in Anchor]}, got "
                         f"{value!r}") from None


_FRACTION = {Anchor.BEGINNING: 0.0, Anchor.MIDDLE: 0.5, Anchor.END: 1.0}


@processor_state
class WindowState:
    buffer: Any = None
    """Samples held for the next window (the data's layout; its device and dtype). On NumPy and
    torch a preallocated array of which only ``[start:stop]`` along the axis is valid."""

    start: int = 0
    """First valid sample of ``buffer`` along the axis."""

    stop: int = 0
    """One past the last valid sample of ``buffer`` along the axis."""

    deficit: int = 0
    """Samples still to skip before the next window starts (hop longer than the window)."""

    started: bool = False
    """Whether the stream's first non-empty message (and its zero padding) has been seen."""

    window: int = 0
    """Window length in samples."""

    shift: int | None = None
    """Hop in samples; None: one window per message."""

    newaxis: str = "win"
    """Name of the window dim in the output."""


class WindowTransformer(
    StreamAxisMixin, BaseStatefulTransformer[WindowSettings, AxisArray, AxisArray, WindowState]
):
    """Sliding windows over the streaming axis, continued across messages. Memory is bounded:
    at most one window plus one message of samples is held. State resets when the layout
    (dims, other dims' lengths or labels, the time axis' gain) or the data's namespace, device
    or dtype change; not when ``anchor`` changes."""

    NONRESET_SETTINGS_FIELDS = frozenset({"anchor"})

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        if s.window_dur is None:
            return
        axis = self._axis(message)
        axis_index(message, axis)
        ax = message.axes.get(axis)
        if not isinstance(ax, LinearAxis):
            raise ValueError(f"axis: dim {axis!r} needs a LinearAxis (regular sampling) to "
                             f"convert window_dur/window_shift to samples")
        st.window = int(math.floor(s.window_dur / ax.gain + 1e-9))
        if st.window < 1:
            raise ValueError(f"window_dur: {s.window_dur} is shorter than one sample "
                             f"({ax.gain})")
        st.shift = None
        if s.window_shift is not None:
            st.shift = int(math.floor(s.window_shift / ax.gain + 1e-9))
            if st.shift < 1:
                raise ValueError(f"window_shift: {s.window_shift} is shorter than one sample "
                                 f"({ax.gain})")
        name = s.newaxis or "win"
        st.newaxis = f"{name}_win" if name in message.dims else name
        st.buffer, st.start, st.stop, st.deficit, st.started = None, 0, 0, 0, False

    # ------------------------------------------------------------------ hot path
    # A steady stream skips the reset hash: the plan's ``step`` compares the message with the
    # one the plan was built from (same dims, key, stream_dim, array type, dtype, device, time
    # gain, other lengths, and the very same other axis objects) and, if it matches, answers
    # it (fused steps for the common cases, else ``_emit``). Anything else takes the base
    # class path (hash, maybe reset), which rebuilds the plan.
    _plan: _Plan | None = None

    def __call__(self, message: AxisArray) -> AxisArray:
        p = self._plan
        if (p is not None and p.state is self._state and p.hash == self._hash
                and p.settings is self.settings):
            out = p.step(message)
            if out is not None:
                return out
        if self.settings.window_dur is None:  # the identity: no state, no checks
            return message
        return super().__call__(message)

    async def __acall__(self, message: AxisArray) -> AxisArray:
        return self(message)

    @property
    def plan(self) -> _Plan | None:
        """The hot path's per-layout constants after the last message (None in passthrough
        mode). A new object whenever the layout, settings or state change, so downstream
        caches can key on its identity."""
        return self._plan

    def _process(self, message: AxisArray) -> AxisArray:
        if self.settings.window_dur is None:
            return message
        self._plan = p = _Plan(self, message, self._axis(message))
        return self._emit(p, message)

    def _emit(self, p: _Plan, message: AxisArray) -> AxisArray:
        st, x, ix, w, h = self._state, message.data, p.ix, p.window, p.shift
        xp, dev = p.xp, p.device
        n = x.shape[ix]
        if h is None:  # one window per message: the latest w samples (zeros before the stream)
            buf = st.buffer if st.buffer is not None else _win.zero_block(xp, x, ix, w, dev)
            wins, st.buffer = _win.last_window(xp, _win.append(xp, buf, x, ix), w, ix, dev)
            st.stop = w
            return self._output(p, message, wins, n - w)
        held = st.stop - st.start
        if not st.started and n:
            st.started = True
            pad = {"none": 0, "shift": w - h}.get(self.settings.zero_pad_until, w - n)
            if pad > 0:
                x = xp.concat([_win.zero_block(xp, x, ix, pad, dev), x], axis=ix)
                held = pad
                n += pad
        first = -held if held else (n if st.deficit > n else st.deficit)
        wins, st.buffer, st.start, st.stop, st.deficit = p.push(
            xp, st.buffer, st.start, st.stop, st.deficit, x, w, h, ix, dev)
        return self._output(p, message, p.empty if wins is None else wins, first)

    def _output(self, p: _Plan, message: AxisArray, wins: Any, first: int) -> AxisArray:
        """The output message; ``first`` is the first window's start in samples relative to
        the message's first sample (a message without windows is labelled with its own
        start). Its layout is valid by construction, so AxisArray's checks are skipped."""
        axes = message.axes.copy()
        ax = axes[p.axis]
        t0 = ax.offset + first * p.gain if wins.shape[p.ix] else ax.offset
        fields = message.__dict__.copy()
        if len(fields) > _N_FIELDS:  # derived caches describe the input's data
            fields.pop("_fingerprint", None)
            fields.pop("_wire_token", None)
        if p.batch:
            axes[p.axis] = LinearAxis(p.unit, p.gain, t0)
            fields["data"] = p.xp.reshape(wins, message.data.shape[: p.ix] + (-1,)
                                          + wins.shape[p.ix + 2 :])
        else:
            axes[p.axis] = p.time_axis
            axes[p.newaxis] = LinearAxis(p.unit, p.hop, t0 + p.lead)  # (unit, gain, offset):
            # positional arguments construct it in half the time of keywords
            fields["data"] = wins
            fields["dims"] = p.out_dims.copy()
            fields["stream_dim"] = p.newaxis
        fields["axes"] = axes
        out = object.__new__(type(message))
        out.__dict__ = fields
        return out


class _Plan:
    """Per-layout constants of the hot path (host metadata only; rebuilt, never pickled)."""

    __slots__ = ("state", "hash", "settings", "axis", "ix", "gain", "unit", "window", "shift",
                 "hop", "batch", "newaxis", "out_dims", "xp", "device", "dev_key", "push",
                 "key", "dims", "stream_dim", "others", "before", "after", "dtype", "atype",
                 "lead", "time_axis", "empty", "step")

    def __init__(self, t: WindowTransformer, message: AxisArray, axis: str) -> None:
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
        self.lead = _FRACTION[_anchor(t.settings.anchor)] * self.window * self.gain
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


def _message_builder(p: _Plan) -> Any:
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


def _numpy_step(t: WindowTransformer, p: _Plan, message: AxisArray) -> Any:
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


def _quiet_step(t: WindowTransformer, p: _Plan) -> Any:
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


class Window(TransformerUnit[WindowSettings, AxisArray, AxisArray, WindowTransformer]):
    SETTINGS = WindowSettings


def windowing(
    axis: str | None = None,
    newaxis: str | None = None,
    window_dur: float | None = None,
    window_shift: float | None = None,
    zero_pad_until: str = "full",
    anchor: str | Anchor = Anchor.BEGINNING,
    batch_windows: bool = False,
    buffer_update_strategy: Literal["immediate", "threshold", "on_demand"] = "immediate",
) -> WindowTransformer:
    """A ``WindowTransformer`` with these settings (see ``WindowSettings``)."""
    return WindowTransformer(WindowSettings(
        axis=axis, newaxis=newaxis, window_dur=window_dur, window_shift=window_shift,
        zero_pad_until=zero_pad_until, anchor=anchor, batch_windows=batch_windows,
        buffer_update_strategy=buffer_update_strategy))
