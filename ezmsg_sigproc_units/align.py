"""Align two streams along their stream axis (time): output pairs of chunks that cover the same
samples.

``AlignAlongAxisProcessor`` buffers each input (``__call__``/``push_a`` for input A,
``push_b`` for input B; on the data's device, bounded) and, once both hold samples, drops from
the earlier stream the samples before their overlap, then returns ``(a, b)``: the same number
of samples from each, as many as both hold. Each output carries its own input's metadata and
the times of its samples (a LinearAxis, or the timestamps of a CoordinateAxis). The outputs do
not depend on how the two inputs interleave or how they are chunked.

Consecutive messages of one input are taken as contiguous (the next sample's time is
extrapolated from the samples received); a message whose start jumps by more than half a
sample period starts a new run, and the buffered samples before the jump are discarded.

Rates: two LinearAxis inputs with different gains (beyond ``gain_rtol``) raise ``ValueError``
naming both rates; a rate change on both inputs resets the buffers. A change of an input's
layout (other dims, array library, device, dtype) resets that input's buffer.

Bounded buffers: each input holds at most ``buffer_dur`` seconds; past that the
``overflow_strategy`` decides (the peer's buffer policies): ``"grow"`` (default, as the
peer) keeps everything up to ``max_size`` bytes then raises ``OverflowError``; ``"raise"``
raises at once; ``"drop"`` discards the newest samples; ``"warn-overwrite"`` discards the
oldest. Either discard warns once (``RuntimeWarning``) and realigns on the times.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import typing
from copy import deepcopy

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc.protocols import processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from . import _align_buffer as _buf
from ._backend import array_namespace, device_of, materialize
from ._faults import FaultContainment
from ._messages import axis_index, replace_fields
from ._processors import stream_axis
from ._validate import check_count, check_real
from .util.channels import AxisFingerprintMemo

OverflowStrategy = typing.Literal["grow", "raise", "drop", "warn-overwrite"]
_STRATEGIES = typing.get_args(OverflowStrategy)


class AlignAlongAxisSettings(ez.Settings):
    axis: str | None = None
    """Dim to align along. None (default): the message's ``stream_dim``, else ``"time"``
    (the peer deprecates setting it; here it is honoured silently)."""

    buffer_dur: float = 10.0
    """Seconds of each input kept while waiting for the other. Default 10.0."""

    gain_rtol: float = 1e-6
    """Relative tolerance within which two gains (sample periods) count as equal.
    Default 1e-6."""

    overflow_strategy: OverflowStrategy = dataclasses.field(default="grow", kw_only=True)
    """Past ``buffer_dur``: ``"grow"`` (up to ``max_size`` bytes), ``"raise"``, ``"drop"``
    (the newest samples) or ``"warn-overwrite"`` (the oldest). Default ``"grow"``."""

    max_size: int = dataclasses.field(default=1024**3, kw_only=True)
    """``"grow"``: most bytes one input's buffer may hold. Default 1 GiB (the peer's)."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        check_real("buffer_dur", self.buffer_dur, minimum=0.0)
        check_real("gain_rtol", self.gain_rtol, minimum=0.0)
        if self.overflow_strategy not in _STRATEGIES:
            raise ValueError(f"overflow_strategy: must be one of {_STRATEGIES}, got "
                             f"{self.overflow_strategy!r}")
        check_count("max_size", self.max_size)


@processor_state
class AlignAlongAxisState:
    gain: float | None = None
    """Sample period of the buffered samples."""
    align_axis: str | None = None
    aligned: bool = False
    """The buffers' heads are at the same time (until a discard or a reset)."""
    buf_a: _buf.SideBuffer | None = None
    buf_b: _buf.SideBuffer | None = None
    last_gain: tuple = (None, None)
    """The latest LinearAxis gain of each input (rate check)."""


_AlignPair = tuple[AxisArray, AxisArray]


class AlignAlongAxisProcessor:
    """Input A: ``__call__(msg)`` (or ``push_a``); input B: ``push_b(msg)``. Each returns the
    next aligned pair ``(a, b)`` or None. State pickles (``state`` accepts bytes)."""

    STREAMING_DIMS = ("time",)

    def __init__(self, settings: AlignAlongAxisSettings | None = None,
                 **kwargs: typing.Any) -> None:
        self.settings = settings if settings is not None else AlignAlongAxisSettings(**kwargs)
        self._state = AlignAlongAxisState()
        self._memos = (AxisFingerprintMemo(), AxisFingerprintMemo())
        self._quick: list = [None, None]  # per input: (identities of its metadata, objects)

    @property
    def state(self) -> AlignAlongAxisState:
        return self._state

    @state.setter
    def state(self, state: AlignAlongAxisState | bytes | None) -> None:
        if state is not None:
            self._state = pickle.loads(state) if isinstance(state, bytes) else state

    def __call__(self, message: AxisArray) -> _AlignPair | None:
        return self._push(0, message)

    async def __acall__(self, message: AxisArray) -> _AlignPair | None:
        return self._push(0, message)

    def push_a(self, message: AxisArray) -> _AlignPair | None:
        return self._push(0, message)

    def push_b(self, message: AxisArray) -> _AlignPair | None:
        return self._push(1, message)

    # ------------------------------------------------------------------ one input
    def _full_reset(self, dim: str) -> None:
        st = self._state
        st.align_axis, st.gain, st.aligned = dim, None, False
        st.buf_a = st.buf_b = None

    def _clock(self, msg: AxisArray, dim: str) -> tuple:
        """(gain or None, host timestamps or None, offset or None) of ``msg`` along ``dim``."""
        ax = msg.axes.get(dim)
        if isinstance(ax, LinearAxis):
            return float(ax.gain), None, float(ax.offset)
        if isinstance(ax, CoordinateAxis):
            t = np.asarray(ax.data, dtype=np.float64).reshape(-1)
            gain = float(t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else None
            return gain, t, None
        raise ValueError(f"axis: dim {dim!r} has no LinearAxis or CoordinateAxis (axes: "
                         f"{list(msg.axes)})")

    def _check_rate(self, side: int, gain: float | None, linear: bool) -> None:
        st, rtol = self._state, self.settings.gain_rtol
        if linear and gain == st.gain and st.last_gain[side] == gain:
            return  # as before (the other input was checked against it when it came)
        if linear:
            last = list(st.last_gain)
            last[side] = gain
            st.last_gain = tuple(last)
            other = last[1 - side]
            if other is not None and not math.isclose(gain, other, rel_tol=rtol):
                names = ("A", "B") if side == 0 else ("B", "A")
                raise ValueError(
                    f"{st.align_axis}: inputs sampled at different rates, {names[0]} at "
                    f"{1 / gain:g} Hz and {names[1]} at {1 / other:g} Hz (gains {gain!r} and "
                    f"{other!r}); resample one first")
            if st.gain is not None and not math.isclose(gain, st.gain, rel_tol=rtol):
                self._full_reset(st.align_axis)  # both inputs changed rate
        if st.gain is None:
            st.gain = gain

    def _push(self, side: int, msg: AxisArray) -> _AlignPair | None:
        st = self._state
        dim = stream_axis(self, msg, self.settings.axis)
        if dim != st.align_axis:
            self._full_reset(dim)
        ix = axis_index(msg, dim)
        gain, times, offset = self._clock(msg, dim)
        self._check_rate(side, gain, times is None)
        x = msg.data
        dev = "cpu" if type(x) is np.ndarray else str(device_of(x))
        layout = (tuple(msg.dims), tuple(x.shape[:ix]) + tuple(x.shape[ix + 1:]), type(x), dev,
                  x.dtype, times is None)
        buf = st.buf_a if side == 0 else st.buf_b
        if buf is None or buf.layout != layout:
            buf = _buf.SideBuffer(ix=ix, layout=layout)
            st.aligned = False
            if side == 0:
                st.buf_a = buf
            else:
                st.buf_b = buf
        self._keep_meta(side, buf, msg, dim)
        g = st.gain if st.gain is not None else (gain or 0.0)
        s = self.settings
        cap = max(1, math.ceil(s.buffer_dur / abs(g) - 1e-9)) if g else 2**62
        other = st.buf_b if side == 0 else st.buf_a
        m = x.shape[ix]
        if (st.aligned and not buf.n and times is None and not buf.gapped and other is not None
                and other.n >= m > 0 and m <= cap and buf.t_next is not None
                and abs(offset - buf.t_next) <= abs(g) / 2):
            # The other input holds these samples already: pair this message as it is (the
            # buffered path would copy it in and read it straight back out).
            t = buf.t_next
            buf.t_next = buf.t0 = t + m * g
            mine, theirs = self._wrap(buf, x, t), self._read(other, m, g)
            return (mine, theirs) if side == 0 else (theirs, mine)
        if _buf.write(array_namespace(x), buf, x, times, offset, g, cap, s.overflow_strategy,
                      s.max_size, _itemsize(x)):
            st.aligned = False
        return self._try_align()

    def _keep_meta(self, side: int, buf: _buf.SideBuffer, msg: AxisArray, dim: str) -> None:
        """The message's metadata, with owned copies of its coordinate axes (re-copied only
        when their values change)."""
        axes, attrs = msg.axes, msg.attrs
        objs = tuple([ax for name, ax in axes.items() if name != dim])
        quick = (tuple(map(id, objs)), id(attrs) if attrs else 0, msg.key, tuple(msg.dims), dim)
        last = self._quick[side]
        if last is not None and last[0] == quick and last[1][0] is buf:
            return  # the same metadata objects as the last message's
        fp = self._memos[side].fingerprint(msg, exclude=(dim,))
        owned = buf.meta.axes if buf.meta is not None and buf.axes_fp == fp else None
        out = {}
        for name, ax in axes.items():
            if name != dim and getattr(ax, "data", None) is not None:
                ax = owned[name] if owned is not None and name in owned else deepcopy(ax)
            out[name] = ax
        buf.axes_fp = fp
        buf.meta = replace_fields(msg, None, axes=out)
        self._quick[side] = (quick, (buf, objs, attrs))

    # ------------------------------------------------------------------ both inputs
    def _try_align(self) -> _AlignPair | None:
        st = self._state
        a, b, g = st.buf_a, st.buf_b, st.gain
        if a is None or b is None or not a.n or not b.n or not g:
            return None
        if not st.aligned:
            fa, fb = _buf.head_time(a), _buf.head_time(b)
            la, lb = _buf.last_time(a, g), _buf.last_time(b, g)
            start, end, tol = max(fa, fb), min(la, lb), abs(g) / 2
            if end < start - tol:  # no overlap yet: the earlier input's samples are too early
                if la < fb:
                    _buf.drop(a, a.n, g)
                elif lb < fa:
                    _buf.drop(b, b.n, g)
                return None
            for side, first in ((a, fa), (b, fb)):
                if first < start - tol:
                    _buf.drop(side, _samples_before(side, start, first, g), g)
            st.aligned = True
        n = min(a.n, b.n)
        if n <= 0:
            return None
        return self._read(a, n, g), self._read(b, n, g)

    def _read(self, side: _buf.SideBuffer, n: int, gain: float) -> AxisArray:
        data, t = _buf.take(side, n, gain)
        return self._wrap(side, data, t)

    def _wrap(self, side: _buf.SideBuffer, data: typing.Any, t: typing.Any) -> AxisArray:
        """An output of this input: ``data`` starting at time ``t`` (or at timestamps ``t``)."""
        meta, dim = side.meta, self._state.align_axis
        ax = meta.axes[dim]
        axes = dict(meta.axes)
        if isinstance(t, float):
            axes[dim] = LinearAxis(unit=ax.unit, gain=ax.gain, offset=t)
        else:
            axes[dim] = CoordinateAxis(data=t, dims=list(ax.dims), unit=ax.unit)
        return replace_fields(meta, data, axes=axes)


def _samples_before(side: _buf.SideBuffer, start: float, first: float, gain: float) -> int:
    if side.times is not None:
        return int(np.searchsorted(side.times, start - abs(gain) / 2, side="left"))
    return int(round((start - first) / gain))


def _itemsize(x: typing.Any) -> int:
    size = getattr(x, "itemsize", None)
    if isinstance(size, int):
        return size
    return int(getattr(x.dtype, "itemsize", None) or getattr(x.dtype, "size", 8))


class AlignAlongAxis(FaultContainment, ez.Unit):
    """``OUTPUT_SIGNAL_A``/``OUTPUT_SIGNAL_B``: the aligned pairs of ``INPUT_SIGNAL_A`` and
    ``INPUT_SIGNAL_B``, published (A first) by whichever input completes them. A message the
    processor refuses (malformed, another rate, a full buffer under ``"raise"``) is dropped
    with one WARNING line and the buffers are as before it (docs/robustness.md)."""

    SETTINGS = AlignAlongAxisSettings

    INPUT_SIGNAL_A = ez.InputStream(AxisArray)
    INPUT_SIGNAL_B = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL_A = ez.OutputStream(AxisArray)
    OUTPUT_SIGNAL_B = ez.OutputStream(AxisArray)

    async def initialize(self) -> None:
        self.processor = AlignAlongAxisProcessor(settings=self.SETTINGS)

    def _push(self, side: int, msg: AxisArray) -> typing.Iterator[tuple]:
        pair = self._run_input(lambda proc: (proc.push_a if side == 0 else proc.push_b)(msg),
                               msg, also=(OverflowError,))
        if pair is not None:
            materialize(pair[0].data)
            materialize(pair[1].data)
            yield self.OUTPUT_SIGNAL_A, pair[0]
            yield self.OUTPUT_SIGNAL_B, pair[1]

    @ez.subscriber(INPUT_SIGNAL_A)
    @ez.publisher(OUTPUT_SIGNAL_A)
    @ez.publisher(OUTPUT_SIGNAL_B)
    async def on_a(self, msg: AxisArray) -> typing.AsyncGenerator:
        for out in self._push(0, msg):
            yield out

    @ez.subscriber(INPUT_SIGNAL_B)
    @ez.publisher(OUTPUT_SIGNAL_A)
    @ez.publisher(OUTPUT_SIGNAL_B)
    async def on_b(self, msg: AxisArray) -> typing.AsyncGenerator:
        for out in self._push(1, msg):
            yield out
