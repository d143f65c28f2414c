"""Cut a stream into (possibly overlapping) windows along its streaming axis.

Output dims: the input's with the window axis (``newaxis``, default ``"win"``) inserted just
before the time axis, e.g. ``(time, ch)`` -> ``(win, time, ch)``. The window axis is a
LinearAxis whose offset is the anchor time of the first window in the message and whose gain is
the hop (in the time axis' unit); the time axis inside a window starts at minus the anchor's
distance from the window's first sample. A message that completes no window gives zero windows.
"""

from __future__ import annotations

import enum
import math
from typing import Any, Literal

import ezmsg.core as ez
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._messages import axis_index, replace_fields
from ._processors import StreamAxisMixin
from ._units import WindowedUnit
from ._validate import check_real
from ._window_plan import WindowPlan

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
    """Name of the inserted window dim; if the input already has a dim of that name,
    ``"<name>_win"`` is used. None (default): the transformer names it ``"win"``, and the
    ``Window`` Unit publishes each window as its own message without that dim (``[time, ch]``,
    its time axis stamped with the window's first sample)."""

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
    """Samples held for the next window (the data's layout; its device and dtype): only
    ``[start:stop]`` along the axis is valid (the in-place step preallocates it)."""

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
    or dtype change; not when ``anchor`` changes.

    ``native`` (keyword, not a setting): which streaming step runs. None (default) takes the
    in-place step where the data's arrays are mutable buffers (NumPy, torch, ...) and the
    portable one elsewhere; True or False forces one (see ``_kernels.windowing.pusher``).
    Both give the same messages."""

    NONRESET_SETTINGS_FIELDS = frozenset({"anchor"})

    def __init__(self, *args: Any, native: bool | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if native is not None and not isinstance(native, bool):
            raise ValueError(f"native: must be True, False or None, got {native!r}")
        self.native = native

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
    # Every message goes through ``plan.step`` (``_window_plan.py``). A steady stream skips
    # the reset hash: the step answers None for a message laid out unlike the one the plan was
    # built from, and only such a message takes the base class path (hash, maybe reset),
    # which builds a new plan.
    _plan: WindowPlan | None = None

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
    def plan(self) -> WindowPlan | None:
        """The hot path's per-layout constants after the last message (None in passthrough
        mode). A new object whenever the layout, settings or state change, so downstream
        caches can key on its identity."""
        return self._plan

    def _process(self, message: AxisArray) -> AxisArray:
        if self.settings.window_dur is None:
            return message
        axis = self._axis(message)
        self._plan = p = WindowPlan(message, axis, axis_index(message, axis), self._state,
                                    self.settings, self._hash,
                                    _FRACTION[_anchor(self.settings.anchor)], self.native)
        return p.step(message)  # the plan describes the message it was built from


class Window(WindowedUnit[WindowSettings, AxisArray, AxisArray, WindowTransformer]):
    """Publishes only messages that carry at least one window. With ``newaxis=None`` (and
    windows stacked, not batched) each window is published as its own message without the
    window dim; its time axis starts at the window's first sample."""

    SETTINGS = WindowSettings

    def _window_dims(self, message: AxisArray) -> tuple[str, ...]:
        return (self.processor.state.newaxis, self.processor._axis(message))

    def _outputs(self, message: AxisArray, result: AxisArray) -> Any:
        s = self.processor.settings
        if s.newaxis is not None or s.window_dur is None or s.batch_windows:
            return (result,)
        return split_windows(result, self.processor.state.newaxis,
                             self.processor._axis(message))


def split_windows(message: AxisArray, newaxis: str, axis: str) -> list[AxisArray]:
    """One message per window of ``message`` (a ``WindowTransformer`` output): the ``newaxis``
    dim dropped, ``axis`` stamped with the absolute time of the window's first sample and
    declared the stream dim."""
    ix = axis_index(message, newaxis, "newaxis")
    win_ax, time_ax = message.axes[newaxis], message.axes[axis]
    dims = [d for d in message.dims if d != newaxis]
    others = {k: v for k, v in message.axes.items() if k not in (newaxis, axis)}
    first = win_ax.offset + time_ax.offset  # the first window's first sample
    pre = (slice(None),) * ix
    return [replace_fields(message, message.data[(*pre, i, ...)], dims=dims, stream_dim=axis,
                           axes={**others, axis: LinearAxis(time_ax.unit, time_ax.gain,
                                                            first + i * win_ax.gain)})
            for i in range(message.data.shape[ix])]


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
