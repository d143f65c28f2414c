"""The window stage's per-layout plan: ``WindowPlan`` holds what ``window.WindowTransformer``
needs to answer a message without recomputing its reset hash, and ``plan.step`` is the one
path every message takes. Host metadata only; rebuilt when a message's layout, the settings
or the state change, never pickled. This module does not import the transformer's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import namespace_and_device, zeros
from ._kernels import windowing as _win
from ._messages import replace_fields


class WindowPlan:
    """The constants for messages laid out like ``message`` (``ix``: the index of ``axis``
    in its dims), for the processor whose ``state``, ``settings`` and reset ``hash`` it was
    built with. ``fraction``: where a window's timestamp sits in a window (0 its first
    sample, 0.5 its middle, 1 its end). ``native``: which streaming step runs (see
    ``_kernels.windowing.pusher``; None: automatic)."""

    __slots__ = ("state", "settings", "hash", "ix", "push", "step")

    def __init__(self, message: AxisArray, axis: str, ix: int, state: Any, settings: Any,
                 hash_: int, fraction: float, native: bool | None) -> None:
        self.state, self.settings, self.hash, self.ix = state, settings, hash_, ix
        xp, _ = namespace_and_device(message.data)
        self.push = _win.pusher(xp, native)  # the one choice between native and portable
        self.step = _make_step(message, axis, ix, state, settings, fraction, self.push)


def _make_step(message: AxisArray, axis: str, ix: int, st: Any, settings: Any, fraction: float,
               push: Callable) -> Callable[[AxisArray], AxisArray | None]:
    """``step(m)``: the output for ``m`` (``st`` updated through ``push``), or None when ``m``
    is not laid out like ``message`` (its reset hash may then differ: the caller checks it).
    A closure over the layout's constants, which it reads faster than attributes: a steady
    stream's chunk costs a couple of microseconds, so every look-up counts."""
    x = message.data
    xp, dev = namespace_and_device(x)
    # The layout the reset hash depends on: the array type, dtype and device (the array's
    # own device attribute; NumPy arrays are always on the host, MLX arrays have none), dims,
    # key, stream_dim, the other dims' lengths and their very axis objects, the axis' gain.
    atype, dtype = type(x), x.dtype
    dev_key = None if atype is np.ndarray else getattr(x, "device", None)
    dims, key, stream_dim = list(message.dims), message.key, message.stream_dim
    before, after = x.shape[:ix], x.shape[ix + 1 :]
    # every other axis (the very objects; none may appear or go: their count is checked)
    others = tuple((d, a) for d, a in message.axes.items() if d != axis)
    n_axes = len(message.axes)
    ax = message.axes[axis]
    gain, unit = ax.gain, ax.unit
    w, h, newaxis = st.window, st.shift, st.newaxis
    hop = (h or 0) * gain
    out_dims = dims[:ix] + [newaxis] + dims[ix:]
    batch, pad_mode = settings.batch_windows, settings.zero_pad_until
    shape = list(x.shape)
    shape[ix : ix + 1] = [0, w]
    no_windows = zeros(xp, shape, dtype=dtype, device=dev)
    # The anchor's distance from a window's first sample, and the in-window time axis.
    lead = fraction * w * gain
    time_axis = LinearAxis(gain=gain, offset=0.0 - lead, unit=unit)

    def step(m: AxisArray) -> AxisArray | None:
        x, axes = m.data, m.axes
        ax = axes.get(axis)
        shape = x.shape
        if not (type(x) is atype and (x.dtype is dtype or x.dtype == dtype) and m.dims == dims
                and type(ax) is LinearAxis and ax.gain == gain and len(axes) == n_axes
                and shape[ix + 1 :] == after and (not ix or shape[:ix] == before)
                and m.key == key and m.stream_dim == stream_dim):
            return None
        for d, obj in others:
            if axes.get(d) is not obj:
                return None
        if dev_key is not None and x.device != dev_key:
            return None
        n = shape[ix]
        if h is None:  # one window per message: the latest w samples (zeros before the stream)
            buf = st.buffer if st.buffer is not None else _win.zero_block(xp, x, ix, w, dev)
            wins, st.buffer = _win.last_window(xp, _win.append(xp, buf, x, ix), w, ix, dev)
            st.stop, first = w, n - w
        else:
            # where the first window starts, relative to the message's first sample (a
            # deficit is only ever left with nothing held)
            buf, start, stop, deficit = st.buffer, st.start, st.stop, st.deficit
            first = deficit + start - stop
            if not st.started and n:
                st.started = True
                pad = {"none": 0, "shift": w - h}.get(pad_mode, w - n)
                if pad > 0:
                    x = xp.concat([_win.zero_block(xp, x, ix, pad, dev), x], axis=ix)
                    first = -pad
            wins, st.buffer, st.start, st.stop, st.deficit = push(
                xp, buf, start, stop, deficit, x, w, h, ix, dev)
        if wins is None:
            wins, t0 = no_windows, ax.offset
        else:
            t0 = ax.offset + first * gain
        # The output's axes are a new dict (replace_fields copies them): relabel it in place.
        # LinearAxis(unit, gain, offset): positional arguments construct it in half the time.
        if batch:  # windows joined back along the time axis
            data = xp.reshape(wins, x.shape[:ix] + (-1,) + wins.shape[ix + 2 :])
            out = replace_fields(m, data, axes=axes)
            out.axes[axis] = LinearAxis(unit, gain, t0)
            return out
        out = replace_fields(m, wins, dims=out_dims, axes=axes, stream_dim=newaxis)
        out_axes = out.axes
        out_axes[axis] = time_axis
        out_axes[newaxis] = LinearAxis(unit, hop, t0 + lead)
        return out

    return step
