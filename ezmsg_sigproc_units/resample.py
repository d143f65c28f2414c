"""Resample a stream to a new rate, message by message.

Two methods:

* ``"polyphase"`` (regularly sampled input, a LinearAxis, whose rate ratio is a fraction
  ``up / down`` with small terms): the whole-stream output of
  ``scipy.signal.resample_poly(x, up, down, axis, window)`` (anti-alias FIR, output sample
  ``n`` at input time ``n * down / up``), emitted causally: output ``n`` leaves as soon as every
  input it depends on has arrived. Declared latency: at most ``half_len / up`` input samples,
  ``half_len = 10 * max(up, down)`` for the default filter (1 kHz -> 250 Hz: 40 ms; 1 kHz ->
  300 Hz: 33.3 ms); ``ResampleState.latency`` holds it in seconds. The last outputs of
  ``resample_poly`` (which zero-pads past the end) are held until more input arrives.
* ``"linear"`` (irregular input, a CoordinateAxis of timestamps, or on request): linear
  interpolation onto the regular grid ``t0 + k / resample_rate`` (``t0``: the stream's first
  timestamp), as ``numpy.interp``. Output ``k`` leaves once an input at or after its time has
  arrived (the last input sample is held), so the latency is at most one input interval. No
  anti-alias filter: low-pass first when downsampling.
* reference mode (``resample_rate=None``): linear interpolation onto the timestamps of a
  second stream (``push_reference``, the Unit's ``INPUT_REFERENCE``; ``_resample_reference``).

The output time axis is a LinearAxis (gain ``1 / resample_rate``, offset: the time of the
message's first output, or of the next output when the message completes none). For a
LinearAxis input the output grid is anchored at the stream's first sample and advanced by
sample counts; later messages' offsets are not read (gaps or clock jitter are not detected).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from fractions import Fraction
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ._backend import dtype_name, float_dtype_for, materialize, namespace_and_device
from ._kernels import resampling as _rs
from ._messages import axis_index, replace_data
from ._processors import SettingsByValueMixin, StreamAxisMixin
from ._resample_rate import RateMode
from ._resample_reference import ReferenceMode, check_peer_fields
from ._units import WindowedUnit, has_no_windows
from ._validate import check_count, check_real

_METHODS = ("auto", "polyphase", "linear")


class ResampleSettings(ez.Settings):
    axis: str | None = None
    """Dim to resample along. None (default) follows the message's declared ``stream_dim``,
    else ``"time"`` when present, else the first dim."""

    resample_rate: float | None = None
    """Output rate in Hz (per unit of the axis). None: reference mode, outputs at the times of
    the reference stream (``push_reference``, the Unit's ``INPUT_REFERENCE``). Default None."""

    max_chunk_delay: float | None = None
    """Rate mode, the Unit: after this many seconds (wall clock) without input, publish the
    outputs up to this long past the last input, extrapolated from the last inputs' line
    (``fill_value``); later inputs resume after them (``extrapolate()``). None or inf
    (default): never; outputs leave only with the inputs that complete them. >= 0."""

    fill_value: Any = "extrapolate"
    """Reference mode: outputs before the first input sample are ``"extrapolate"``-d (the
    first two samples' line), ``"last"`` (the first sample), or a number (or ``(below,
    above)`` pair), as ``scipy.interpolate.interp1d``. Default ``"extrapolate"``."""

    buffer_duration: float = 2.0
    """Reference mode: seconds of input kept for references still to come (at least 3
    samples). Rate mode keeps only the filter's history. >= 0. Default 2.0."""

    buffer_update_strategy: str = "immediate"
    """The peer's buffer policy (``"immediate"``, ``"threshold"``, ``"on_demand"``), a
    performance choice; no effect here. Default ``"immediate"``."""

    output_reference: bool = False
    """Reference mode: also gather the reference's rows at the output times
    (``ResampleState.reference_output``; the Unit publishes it on ``OUTPUT_REFERENCE``), so
    the two streams share one axis. Default False."""

    reference_reset_after_chunks: int | None = 3
    """Reference mode: this many consecutive reference messages at or below the last output
    time re-anchor the reference clock (``RuntimeWarning``); None or inf: never. Default 3."""

    method: str = dataclasses.field(default="auto", kw_only=True)
    """``"auto"`` (default): polyphase for a LinearAxis whose ratio ``resample_rate / fs`` is
    ``up / down`` with both terms <= ``max_factor`` (within 1e-9 relative), else linear.
    ``"polyphase"``: refuse anything else. ``"linear"``: interpolate always."""

    window: Any = dataclasses.field(default=("kaiser", 5.0), kw_only=True)
    """Polyphase filter: a window spec for ``scipy.signal.firwin`` (as ``resample_poly``'s
    ``window``), or a 1-D sequence of FIR taps used as given (stored as a tuple of floats).
    Default ``("kaiser", 5.0)``."""

    max_factor: int = dataclasses.field(default=256, kw_only=True)
    """Largest ``up`` or ``down`` the polyphase method accepts (its filter has
    ``20 * max(up, down) + 1`` taps). Default 256."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if self.resample_rate is not None:
            check_real("resample_rate", self.resample_rate)
            if self.resample_rate <= 0:
                raise ValueError(f"resample_rate: must be > 0 (Hz), got {self.resample_rate!r}")
        check_peer_fields(self)
        if self.method not in _METHODS:
            raise ValueError(f"method: must be one of {_METHODS}, got {self.method!r}")
        check_count("max_factor", self.max_factor)
        w = self.window
        if isinstance(w, str) or (isinstance(w, tuple) and w and isinstance(w[0], str)):
            return
        try:
            taps = tuple(float(v) for v in np.asarray(w, dtype=np.float64).reshape(-1))
            ok = np.ndim(w) == 1 and len(taps) > 0 and all(map(math.isfinite, taps))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"window: must be a window spec (str or tuple) or 1-D finite taps, "
                             f"got {w!r}")
        object.__setattr__(self, "window", taps)  # hashable, comparable


@processor_state
class ResampleState:
    axis: str = ""
    """Dim being resampled."""
    method: str = ""
    """``"polyphase"``, ``"linear"`` or ``"identity"`` (rate unchanged)."""
    design: _rs.PolyphaseDesign | None = None
    """Host filter design (polyphase)."""
    buf: Any = None
    """Polyphase: the last ``K - 1`` inputs ``(K - 1, C)``; linear: the last input ``(1, C)``
    (None before the first). On the data's device, in its float dtype."""
    n_in: int = 0
    """Inputs consumed so far."""
    n_out: int = 0
    """Outputs emitted so far."""
    t0: float | None = None
    """Time of the stream's first input (None before it)."""
    last_t: Any = None
    """Linear: host timestamps of the held last inputs (up to two)."""
    extrapolated: bool = False
    """``max_chunk_delay``: ``extrapolate()`` ran since the last input (once per gap)."""
    gain_in: float | None = None
    """Input sample period (LinearAxis input), else None."""
    latency: float = 0.0
    """Declared latency in the axis' unit. Polyphase: the longest an output waits after its
    own time (``half_len / up`` input samples). Linear: 0 (an output leaves with the first
    input at or after its time)."""
    dtype: str = ""
    """Name of the compute dtype (the input's float dtype), e.g. ``"float32"``."""
    src_t: Any = None
    """Reference mode: host times of the rows of ``buf`` (the buffered inputs)."""
    ref_t: Any = None
    """Reference mode: host reference times not yet emitted (kept across resets)."""
    ref_hwm: float = -math.inf  # reference mode: the last emitted time (only later ones go)
    ref_stale: int = 0  # reference mode: consecutive messages entirely at or below ref_hwm
    ref_ignored: bool = False  # rate mode: a reference arrived (and was ignored, logged once)
    ref_gain: float | None = None  # reference mode: its LinearAxis gain (None: coordinates)
    template: Any = None  # reference mode: the last signal's layout, with no samples
    ref_rows: Any = None  # output_reference: the reference rows of ref_t, time first
    ref_template: Any = None  # output_reference: the reference's layout, with no samples
    reference_output: AxisArray | None = None
    """``output_reference``: the reference's rows at the times of the last output (on its axis),
    None when that output had none. The Unit publishes it on ``OUTPUT_REFERENCE``."""


class ResampleTransformer(
    SettingsByValueMixin,
    StreamAxisMixin,
    RateMode,
    ReferenceMode,
    BaseStatefulTransformer[ResampleSettings, AxisArray, AxisArray, ResampleState],
):
    """Streaming resampler; one output message (possibly empty along the axis) per input.
    State resets by the shared rule (``StreamAxisMixin``: the layout of the other dims, the
    axis' gain, the data's namespace, device or dtype) and when the axis' type changes."""

    def _reset_extra(self, message: AxisArray) -> tuple:
        # The method depends on the axis' type (LinearAxis, CoordinateAxis or none), which
        # its gain alone does not tell (a CoordinateAxis and no axis both have none).
        return (type(message.axes.get(self._axis(message))),)

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        st.axis = axis = self._axis(message)
        axis_index(message, axis)
        ax = message.axes.get(axis)
        if not isinstance(ax, (LinearAxis, CoordinateAxis)):
            raise ValueError(f"axis: dim {axis!r} has no LinearAxis or CoordinateAxis to read "
                             f"sample times from")
        xp, dev = namespace_and_device(message.data)
        st.dtype = dtype_name(float_dtype_for(xp, message.data.dtype, dev))
        st.gain_in = ax.gain if isinstance(ax, LinearAxis) else None
        st.method, st.design, st.latency = "linear", None, 0.0
        st.buf, st.n_in, st.n_out, st.t0, st.last_t = None, 0, 0, None, None
        st.src_t = st.template = None
        st.extrapolated = False
        if s.resample_rate is None:
            st.method = "reference"
            return
        if s.method == "linear":
            return
        if st.gain_in is None:
            if s.method == "polyphase":
                raise ValueError(f"method: 'polyphase' needs a LinearAxis (regular sampling) on "
                                 f"dim {axis!r}; use 'linear' or 'auto' for timestamps")
            return
        ratio = s.resample_rate * st.gain_in
        frac = Fraction(ratio).limit_denominator(s.max_factor)
        up, down = frac.numerator, frac.denominator
        if up < 1 or up > s.max_factor or abs(up / down - ratio) > 1e-9 * ratio:
            if s.method == "polyphase":
                raise ValueError(f"resample_rate: {s.resample_rate} Hz over {1 / st.gain_in} Hz "
                                 f"is not a ratio up/down with terms <= max_factor "
                                 f"({s.max_factor})")
            ez.logger.info(f"resample: ratio {ratio} is not a small fraction; linear "
                           f"interpolation (no anti-alias filter)")
            return
        if up == down:  # the identity, unless max_chunk_delay needs the last inputs kept
            st.method = "identity" if s.max_chunk_delay is None else "linear"
            return
        try:
            st.design = _rs.design_polyphase(up, down, s.window)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"window: {exc}") from exc
        st.method = "polyphase"
        st.latency = _rs.latency_samples(st.design) * st.gain_in

    # ------------------------------------------------------------------ hot path
    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        ix = axis_index(message, st.axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        dtype = getattr(xp, st.dtype)
        if x.dtype != dtype:
            x = xp.astype(x, dtype)
        if st.method == "identity":
            return replace_data(message, x)
        if st.method == "reference":
            return self._reference_process(message, x, ix, xp, dev, dtype)
        return self._rate_process(message, x, ix, xp, dev, dtype)


ResampleProcessor = ResampleTransformer
"""The peer's name. Here every call returns the outputs its message completes."""


class ResampleUnit(WindowedUnit[ResampleSettings, AxisArray, AxisArray, ResampleTransformer]):
    """Publishes only outputs with samples (as the peer). ``INPUT_REFERENCE``: reference mode's
    output times; ``OUTPUT_REFERENCE``: with ``output_reference``, the reference's rows at the
    times of each output, published after it (a second task, so possibly after the next)."""

    SETTINGS = ResampleSettings
    INPUT_REFERENCE = ez.InputStream(AxisArray)
    OUTPUT_REFERENCE = ez.OutputStream(AxisArray)

    async def initialize(self) -> None:
        await super().initialize()
        self._references: asyncio.Queue = asyncio.Queue()

    def _window_dims(self, message: AxisArray) -> tuple[str, ...]:
        return (self.processor.state.axis,)

    def _outputs(self, message: AxisArray, result: AxisArray) -> tuple[AxisArray, ...]:
        ref = self.processor.state.reference_output  # output_reference: follows the output
        if ref is not None:
            self._references.put_nowait(ref)
        return (result,)

    @ez.publisher(OUTPUT_REFERENCE)
    async def publish_reference(self) -> Any:
        while True:
            ref = await self._references.get()
            materialize(ref.data)
            yield self.OUTPUT_REFERENCE, ref

    @ez.publisher(WindowedUnit.OUTPUT_SIGNAL)
    async def extrapolate_after_delay(self) -> Any:
        """``max_chunk_delay`` (rate mode): once that long has passed since the last input,
        publish ``extrapolate()``'s outputs (once per gap)."""
        s = self.SETTINGS
        if s.resample_rate is None or s.max_chunk_delay is None:
            return
        delay = float(s.max_chunk_delay)
        step = max(delay / 4, 0.002)  # the gap is detected within delay + step
        seen, since = -1, time.monotonic()
        while True:
            await asyncio.sleep(step)
            n_in, now = self.processor.state.n_in, time.monotonic()
            if n_in != seen:  # an input arrived: the gap starts now
                seen, since = n_in, now
                continue
            if now - since < delay:
                continue
            out = self.processor.extrapolate()
            if out is not None and not has_no_windows(out, (self.processor.state.axis,)):
                materialize(out.data)
                yield self.OUTPUT_SIGNAL, out

    @ez.subscriber(INPUT_REFERENCE)
    @ez.publisher(WindowedUnit.OUTPUT_SIGNAL)
    async def on_reference(self, message: AxisArray) -> Any:
        def push(processor: ResampleTransformer) -> AxisArray | None:
            processor.push_reference(message)
            return processor.drain_reference()  # what the signal already received completes

        for msg in self._to_publish(message, self._run_input(push, message)):
            materialize(msg.data)
            yield self.OUTPUT_SIGNAL, msg

Resample = ResampleUnit


def resample(resample_rate: float, axis: str | None = None, method: str = "auto"
             ) -> ResampleTransformer:
    """A ``ResampleTransformer`` to ``resample_rate`` Hz."""
    return ResampleTransformer(ResampleSettings(axis=axis, resample_rate=resample_rate,
                                                method=method))
