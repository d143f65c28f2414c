"""Exponentially weighted standardisation of each message against a buffer of recent history
(the peer's deprecated ``EWM`` / ``EWMFilter``; prefer ``scaler.AdaptiveStandardScaler``).

``EWMFilter`` splits the input: a ``Window`` (``window_dur = history_dur``, one window per
message) feeds ``EWM``'s buffer input, and the input itself its signal input. For each
(signal, buffer) pair ``EWM`` runs, along the buffer, an EWMA with ``alpha = 2 / (w + 1)``
(``w`` = buffer length minus signal length, in samples) for the mean, and the same EWMA of the
squared deviations from that running mean for the variance, then publishes the last
signal-length rows of ``(x - mean) / max(std, 1e-4)`` with the signal's axes. With
``zero_offset`` the averages start from zero, else from the buffer's first sample. A signal
at least as long as the buffer is standardised on its own with ``w`` = the buffer's length
(the peer published fewer rows than the signal had, with a negative ``alpha``).

Computed on the data's device in its float dtype with first-order IIR sections (no loop over
samples; the peer divides by ``(1 - alpha)^t``, which overflows for long buffers).
"""

from __future__ import annotations

import asyncio
import typing
import warnings
from typing import Any

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import float_dtype_for, namespace_and_device
from ._faults import MALFORMED_INPUT, FaultContainment, check_message
from ._kernels import axes as _axes
from ._kernels import ewma as _ewma
from ._kernels import scaling as _sc
from ._messages import axis_index, replace_data
from ._processors import stream_axis
from .window import Window, WindowSettings


class EWMSettings(ez.Settings):
    axis: str | None = None
    """Name of the axis to accumulate along. None (default): the signal's ``stream_dim``, else
    ``"time"``."""

    zero_offset: bool = True
    """True (default): the averages start from zero (the input is assumed to have no DC
    offset); False: from the buffer's first sample."""


class EWMState(ez.State):
    buffer_queue: asyncio.Queue[AxisArray]
    signal_queue: asyncio.Queue[AxisArray]


class _Plans:
    """First-order sections by (alpha, dtype name): the buffer length rarely changes."""

    STREAMING_DIMS = ("time",)

    def __init__(self) -> None:
        self._plans: dict[tuple[float, str], Any] = {}

    def get(self, xp: Any, alpha: float, dtype: Any, dev: Any) -> Any:
        key = (alpha, str(dtype))
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 16:
                self._plans.clear()
            plan = self._plans[key] = _ewma.ewma_plan(xp, alpha, dtype=dtype, device=dev)
        return plan


def _standardize(plans: _Plans, settings: EWMSettings, signal: AxisArray,
                 buffer: AxisArray) -> AxisArray:
    """The scores of ``signal``'s samples: the last rows of the standardised ``buffer``, or,
    for a signal at least as long as the buffer, the signal standardised on its own with
    ``w`` = the buffer's length."""
    axis = stream_axis(plans, signal, settings.axis)
    ix = axis_index(signal, axis)
    xp, dev = namespace_and_device(signal.data)
    s, inner = _axes.to_time_major(xp, signal.data, ix)
    b, _ = _axes.to_time_major(xp, buffer.data, axis_index(buffer, axis))
    block, n_buf = s.shape[0], b.shape[0]
    x, w = (b, n_buf - block) if block < n_buf else (s, n_buf)
    dtype = float_dtype_for(xp, x.dtype, dev)
    x = x if x.dtype == dtype else xp.astype(x, dtype)
    y = _sc.ewm_scores(xp, plans.get(xp, 2.0 / (w + 1.0), dtype, dev), x,
                       settings.zero_offset)
    return replace_data(signal, _axes.from_time_major(xp, y[x.shape[0] - block:, ...],
                                                      inner, ix))


class EWM(FaultContainment, ez.Unit):
    """Exponentially weighted standardisation of ``INPUT_SIGNAL`` against ``INPUT_BUFFER``
    (recent history including the signal), paired in arrival order. Deprecated in the peer:
    prefer ``scaler.AdaptiveStandardScaler``.

    A message on either input that is not a well-formed AxisArray with the axis to
    accumulate along is dropped on arrival with one WARNING line, so the n-th good signal
    still meets the n-th good buffer. Of a pair that cannot be standardised together, the
    message whose dims differ from its input's last ones is dropped (both when neither or
    both differ), each with its line (docs/robustness.md)."""

    SETTINGS = EWMSettings
    STATE = EWMState

    INPUT_SIGNAL = ez.InputStream(AxisArray)
    INPUT_BUFFER = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    async def initialize(self) -> None:
        self.STATE.signal_queue = asyncio.Queue()
        self.STATE.buffer_queue = asyncio.Queue()
        self._plans = _Plans()

    def _enqueue(self, queue: asyncio.Queue, message: AxisArray) -> None:
        def step(plans: _Plans) -> None:
            check_message(message)
            axis_index(message, stream_axis(plans, message, self.SETTINGS.axis))
            queue.put_nowait(message)

        self._run_input(step, message, proc=self._plans)

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, message: AxisArray) -> None:
        self._enqueue(self.STATE.signal_queue, message)

    @ez.subscriber(INPUT_BUFFER)
    async def on_buffer(self, message: AxisArray) -> None:
        self._enqueue(self.STATE.buffer_queue, message)

    @ez.publisher(OUTPUT_SIGNAL)
    async def sync_output(self) -> typing.AsyncGenerator:
        signal = buffer = None
        last: tuple = (None, None)  # the dims of the last pair standardised
        while True:
            if signal is None:
                signal = await self.STATE.signal_queue.get()
            if buffer is None:
                buffer = await self.STATE.buffer_queue.get()
            try:
                out = _standardize(self._plans, self.SETTINGS, signal, buffer)
            except MALFORMED_INPUT as exc:
                # Drop the one whose dims differ from its input's last ones; the other
                # waits for the next message of the other input. Neither or both: both go.
                odd = [dims is not None and dims != list(msg.dims)
                       for dims, msg in zip(last, (signal, buffer), strict=True)]
                if not odd[1]:
                    self._drop(signal, exc)
                    signal = None
                if not odd[0] or odd[1]:
                    self._drop(buffer, exc)
                    buffer = None
                continue
            last, signal, buffer = (list(signal.dims), list(buffer.dims)), None, None
            yield self.OUTPUT_SIGNAL, out


class EWMFilterSettings(ez.Settings):
    history_dur: float
    """Seconds of history each message is standardised against (the buffer's length)."""

    axis: str | None = None
    """Name of the axis to accumulate along (None: the stream dim)."""

    zero_offset: bool = True
    """As ``EWMSettings.zero_offset``. Default True."""

    def __post_init__(self) -> None:
        if (isinstance(self.history_dur, bool) or not isinstance(self.history_dur, (int, float))
                or not self.history_dur > 0):
            raise ValueError(f"history_dur: must be a duration > 0 seconds, "
                             f"got {self.history_dur!r}")


# The peer's boundary streams (InputStream/OutputStream, which its API and graphs name);
# ezmsg 3.10 warns at class creation that Topics are the newer spelling. The streams behave
# as before, so the warning (the same the peer's import raises) is not passed on to users.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)

    class EWMFilter(ez.Collection):
        """``Window`` (one window of ``history_dur`` per message) into ``EWM``'s buffer input, the
        input into its signal input. Deprecated in the peer: prefer
        ``scaler.AdaptiveStandardScaler``."""

        SETTINGS = EWMFilterSettings

        INPUT_SIGNAL = ez.InputStream(AxisArray)
        OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

        WINDOW = Window()
        EWM = EWM()

        def configure(self) -> None:
            self.EWM.apply_settings(EWMSettings(axis=self.SETTINGS.axis,
                                                zero_offset=self.SETTINGS.zero_offset))
            self.WINDOW.apply_settings(WindowSettings(axis=self.SETTINGS.axis,
                                                      window_dur=self.SETTINGS.history_dur,
                                                      window_shift=None))

        def network(self) -> ez.NetworkDefinition:
            return (
                (self.INPUT_SIGNAL, self.WINDOW.INPUT_SIGNAL),
                (self.WINDOW.OUTPUT_SIGNAL, self.EWM.INPUT_BUFFER),
                (self.INPUT_SIGNAL, self.EWM.INPUT_SIGNAL),
                (self.EWM.OUTPUT_SIGNAL, self.OUTPUT_SIGNAL),
            )
