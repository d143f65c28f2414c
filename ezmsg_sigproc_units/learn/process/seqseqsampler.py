"""Training samples from two aligned streams: for each trigger, the signal's samples in the
trigger's window, with the value stream's samples of the same window as the target.

``SeqSeqSampler`` buffers the last ``max_buffer_dur`` seconds of a signal stream (features)
and of a value stream (e.g. kinematics resampled onto the signal's timestamps). A trigger
(``SampleTriggerMessage`` with ``timestamp`` and ``period``) asks for the samples with
``timestamp + period[0] <= t < timestamp + period[1]``. Once both streams reach past the end of
the window, the result is the signal's slice with ``attrs["trigger"]`` a copy of the trigger
whose ``value`` is the value stream's slice (an AxisArray): the training sample that
``learn.process.adaptive_linear_regressor`` and friends expect on ``INPUT_SAMPLE``.

If the two slices differ by one sample (clock jitter at a window edge), the longer is cropped
to the sub-range whose timestamps best match the shorter's, with a warning; by more, the
trigger is dropped with a warning. A trigger whose window starts before what the buffers
still hold (less one sample period of slack) is dropped with a warning; one without a period
is dropped too. The windows are found from timestamps on the host; the data stays in its array
namespace, on its device (buffered as owned copies: inputs are never kept or written).
"""

from __future__ import annotations

import dataclasses
import typing
from collections import deque

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ..._backend import device_of, materialize
from ..._faults import FaultContainment
from ..._sampler_history import SampleHistory
from ..._validate import check_real
from ...util.message import SampleTriggerMessage
from .._seqseq_align import best_offset, first_at_or_after, spacing, span, times

__all__ = ["SeqSeqSampler", "SeqSeqSamplerSettings", "SeqSeqSamplerState", "SeqSeqSamplerUnit"]

_AXIS = "time"
MAX_ONE_TO_ONE_SAMPLE_MISMATCH = 1
"""Largest length difference of the two slices that is repaired by cropping."""


def _layout(message: AxisArray) -> tuple:
    """What a stream's buffer depends on: dims, other dims' lengths, time-axis kind and
    period, array type, device, dtype."""
    x = message.data
    ax = message.axes.get(_AXIS)
    shape = tuple(n for d, n in zip(message.dims, x.shape, strict=True) if d != _AXIS)
    return (tuple(message.dims), shape, type(ax), getattr(ax, "gain", None), type(x),
            str(device_of(x)), str(x.dtype))


class SeqSeqSampler:
    """The sampler itself, usable without ezmsg: ``push_signal`` / ``push_value`` /
    ``push_trigger`` return the training samples they complete (in trigger order).
    ezmsg-learn's asynchronous API is kept: ``enqueue_*`` queue the same work and
    ``await anext(sampler)`` (or ``asend(signal)``) returns the next sample or None.
    Pickles with its buffers and pending triggers."""

    def __init__(self, max_buffer_dur: float = 5.0) -> None:
        self._max_buffer_dur = float(max_buffer_dur)
        self._reset()

    def _reset(self) -> None:
        self._buffers: dict[str, SampleHistory | None] = {"signal": None, "value": None}
        self._layouts: dict[str, tuple | None] = {"signal": None, "value": None}
        self._triggers: deque[SampleTriggerMessage] = deque()
        self._ready: deque[AxisArray] = deque()

    # ---------------------------------------------------------------------- synchronous API
    def push_signal(self, message: AxisArray) -> list[AxisArray]:
        self._write("signal", message)
        return self._collect()

    def push_value(self, message: AxisArray) -> list[AxisArray]:
        self._write("value", message)
        return self._collect()

    def push_trigger(self, message: SampleTriggerMessage) -> list[AxisArray]:
        if isinstance(message.value, str) and message.value == "end":
            ez.logger.debug("SeqSeqSampler: 'end' trigger ignored (reserved)")
            return []
        if message.period is None:
            ez.logger.warning("SeqSeqSampler dropped trigger without a period.")
            return []
        self._triggers.append(message)
        return self._collect()

    # ------------------------------------------------------------ ezmsg-learn's async API
    def __aiter__(self) -> SeqSeqSampler:
        self._reset()
        return self

    async def __anext__(self) -> AxisArray | None:
        return self._ready.popleft() if self._ready else None

    async def asend(self, message: AxisArray) -> AxisArray | None:
        await self.enqueue_signal(message)
        return await self.__anext__()

    async def enqueue_signal(self, message: AxisArray) -> None:
        self._ready.extend(self.push_signal(message))

    async def enqueue_value(self, message: AxisArray) -> None:
        self._ready.extend(self.push_value(message))

    async def enqueue_trigger(self, message: SampleTriggerMessage) -> None:
        self._ready.extend(self.push_trigger(message))

    # -------------------------------------------------------------------------- internals
    def _write(self, which: str, message: AxisArray) -> None:
        if _AXIS not in message.dims or not isinstance(message.axes.get(_AXIS),
                                                       (LinearAxis, CoordinateAxis)):
            raise ValueError(f"SeqSeqSampler: the {which} stream needs a {_AXIS!r} dim with a "
                             f"LinearAxis or CoordinateAxis; got dims {list(message.dims)}")
        layout = _layout(message)
        if layout != self._layouts[which]:
            if self._layouts[which] is not None:
                ez.logger.info(f"SeqSeqSampler: the {which} stream's layout changed; its "
                               f"buffer restarts")
            self._layouts[which] = layout
            self._buffers[which] = SampleHistory(message, _AXIS, message.dims.index(_AXIS),
                                                 self._max_buffer_dur)
        self._buffers[which].write(message, message.data)

    def _collect(self) -> list[AxisArray]:
        sig, val = self._buffers["signal"], self._buffers["value"]
        if not self._triggers or sig is None or val is None or not (sig.has_data
                                                                     and val.has_data):
            return []
        out, waiting = [], deque()
        for trig in self._triggers:
            state, sample = self._sample(trig, sig, val)
            if state == "wait":
                waiting.append(trig)
            elif sample is not None:
                out.append(sample)
        self._triggers = waiting
        return out

    def _sample(self, trig: SampleTriggerMessage, sig: SampleHistory,
                val: SampleHistory) -> tuple[str, AxisArray | None]:
        lo = trig.timestamp + trig.period[0]
        hi = trig.timestamp + trig.period[1]
        (s_first, s_last), (v_first, v_last) = span(sig), span(val)
        slack = max(spacing(sig), spacing(val))
        where = f"trigger_timestamp={trig.timestamp} trigger_period={trig.period}"
        if lo < s_first - slack or lo < v_first - slack:
            ez.logger.warning(f"SeqSeqSampler dropped trigger before buffers could satisfy it: "
                              f"signal_span=({s_first}, {s_last}) value_span=({v_first}, "
                              f"{v_last}) {where}")
            return "drop", None
        if hi > s_last or hi > v_last:
            return "wait", None
        s0, s1 = first_at_or_after(sig, lo), first_at_or_after(sig, hi)
        v0, v1 = first_at_or_after(val, lo), first_at_or_after(val, hi)
        ns, nv = max(s1 - s0, 0), max(v1 - v0, 0)
        if ns == 0 or nv == 0:
            ez.logger.warning(f"SeqSeqSampler could not slice trigger window: signal_len={ns} "
                              f"value_len={nv} {where}")
            return "drop", None
        if abs(ns - nv) > MAX_ONE_TO_ONE_SAMPLE_MISMATCH:
            ez.logger.warning(f"SeqSeqSampler could not align mismatched trigger window: "
                              f"signal_len={ns} value_len={nv} {where}")
            return "drop", None
        if ns != nv:
            longer = "signal" if ns > nv else "value"
            t_s, t_v = times(sig, s0, s1), times(val, v0, v1)
            k, cost = best_offset(t_s, t_v) if ns > nv else best_offset(t_v, t_s)
            if ns > nv:
                s0, s1 = s0 + k, s0 + k + nv
            else:
                v0, v1 = v0 + k, v0 + k + ns
            ez.logger.warning(f"SeqSeqSampler aligned mismatched trigger window by trimming "
                              f"{longer}: signal_len={ns} value_len={nv} offset={k} "
                              f"mean_abs_dt={cost:.6f}s {where}")
        target = val.epoch(v0, v1, {})
        return "done", sig.epoch(s0, s1, {"trigger": dataclasses.replace(trig, value=target)})


class SeqSeqSamplerSettings(ez.Settings):
    max_buffer_dur: float = 5.0
    """Seconds of each stream kept for triggers still to come (> 0). Default 5.0."""

    def __post_init__(self) -> None:
        check_real("max_buffer_dur", self.max_buffer_dur)
        if self.max_buffer_dur <= 0:
            raise ValueError(f"max_buffer_dur: must be > 0 seconds, got {self.max_buffer_dur!r}")


class SeqSeqSamplerState(ez.State):
    core: SeqSeqSampler


class SeqSeqSamplerUnit(FaultContainment, ez.Unit):
    """Triggers on ``INPUT_TRIGGER``, targets on ``INPUT_VALUE``, features on
    ``INPUT_SIGNAL``; each completed training sample is published on ``OUTPUT_SAMPLE`` as soon
    as the message that completes it arrives. A malformed message on any input is dropped
    with one WARNING line, and the buffers and pending triggers are as before it
    (docs/robustness.md; a trigger is not an AxisArray, so there only ``ValueError``,
    ``TypeError``, ``KeyError`` and ``IndexError`` count)."""

    SETTINGS = SeqSeqSamplerSettings
    STATE = SeqSeqSamplerState

    INPUT_TRIGGER = ez.InputStream(SampleTriggerMessage)
    INPUT_VALUE = ez.InputStream(AxisArray)
    INPUT_SIGNAL = ez.InputStream(AxisArray)
    OUTPUT_SAMPLE = ez.OutputStream(AxisArray)

    async def initialize(self) -> None:
        self.STATE.core = SeqSeqSampler(max_buffer_dur=self.SETTINGS.max_buffer_dur)

    def _push(self, push: typing.Callable, message: typing.Any,
              axisarray: bool = True) -> list[AxisArray]:
        core = self.STATE.core
        return self._run_input(lambda c: [_ready(s) for s in push(c, message)], message,
                               axisarray, proc=core) or []

    @ez.subscriber(INPUT_TRIGGER)
    @ez.publisher(OUTPUT_SAMPLE)
    async def on_trigger(self, message: SampleTriggerMessage) -> typing.AsyncGenerator:
        for sample in self._push(SeqSeqSampler.push_trigger, message, axisarray=False):
            yield self.OUTPUT_SAMPLE, sample

    @ez.subscriber(INPUT_VALUE)
    @ez.publisher(OUTPUT_SAMPLE)
    async def on_value(self, message: AxisArray) -> typing.AsyncGenerator:
        for sample in self._push(SeqSeqSampler.push_value, message):
            yield self.OUTPUT_SAMPLE, sample

    @ez.subscriber(INPUT_SIGNAL)
    @ez.publisher(OUTPUT_SAMPLE)
    async def on_signal(self, message: AxisArray) -> typing.AsyncGenerator:
        for sample in self._push(SeqSeqSampler.push_signal, message):
            yield self.OUTPUT_SAMPLE, sample


def _ready(sample: AxisArray) -> AxisArray:
    """The sample with its (and its target's) data computed (MLX is lazy)."""
    materialize(sample.data)
    materialize(sample.attrs["trigger"].value.data)
    return sample
