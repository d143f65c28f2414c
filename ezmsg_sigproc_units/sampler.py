"""Epochs of a stream around trigger events: each ``SampleTriggerMessage`` asks for the
samples of ``period`` (seconds, relative to its ``timestamp``) and gets them, when they have
arrived, as a message with ``attrs["trigger"]``; a clock-driven trigger source.

The sampler keeps the last ``buffer_dur`` seconds of the stream on the data's device. A
trigger whose window has already left that history is skipped with a warning; a trigger whose
window is still in the future waits for its data. Triggers and data may arrive in any order:
the same samples give the same epochs, however the two streams interleave.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from collections import deque
from typing import Any, Literal

import ezmsg.core as ez
from ezmsg.baseproc import (
    BaseClockDrivenProducer,
    BaseClockDrivenUnit,
    BaseStatefulTransformer,
    BaseTransformerUnit,
    ClockDrivenState,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ._backend import materialize
from ._messages import axis_index
from ._processors import SettingsByValueMixin, StreamAxisMixin
from ._sampler_history import SampleHistory
from ._units import WindowedUnit
from ._validate import check_real
from .util.message import SampleTriggerMessage

UpdateStrategy = Literal["immediate", "threshold", "on_demand"]
_STRATEGIES = ("immediate", "threshold", "on_demand")


def _check_period(name: str, period: Any) -> None:
    if period is None:
        return
    if not isinstance(period, (tuple, list)) or len(period) != 2:
        raise ValueError(f"{name}: must be None or (start, stop) in seconds, got {period!r}")
    for v in period:
        check_real(name, v)
    if period[0] >= period[1]:
        raise ValueError(f"{name}: start must be before stop, got {tuple(period)!r}")


def _check_timestamp(ts: Any) -> None:
    if isinstance(ts, bool) or not isinstance(ts, numbers.Real):
        raise TypeError(f"timestamp: a trigger's timestamp must be a real number of seconds, "
                        f"got {ts!r}")
    if not math.isfinite(ts):
        raise ValueError(f"timestamp: a trigger's timestamp must be finite, got {ts!r}")


class SamplerSettings(ez.Settings):
    buffer_dur: float
    """Seconds of history kept (on the data's device). A trigger whose window starts more than
    this before the newest sample is skipped: allow for the trigger's lag plus its period.
    Required, > 0."""

    axis: str | None = None
    """Dim the stream accumulates along. None (default): the message's ``stream_dim``, else
    ``"time"``, else the first dim."""

    period: tuple[float, float] | None = None
    """Default ``(start, stop)`` in seconds around the trigger time, for triggers without their
    own period. None (default): such triggers are skipped with a warning."""

    value: typing.Any = None
    """Default value for triggers without their own. Default None."""

    estimate_alignment: bool = True
    """True (default): a trigger's window is placed by its ``timestamp`` on the stream's time
    axis (sample-accurate). False: the trigger time is the time of the next sample to arrive
    (block timing)."""

    buffer_update_strategy: UpdateStrategy = "immediate"
    """Accepted for compatibility ("immediate", "threshold" or "on_demand"); the history here
    costs one copy of each message whatever the strategy. Default "immediate"."""

    def __post_init__(self) -> None:
        check_real("buffer_dur", self.buffer_dur)
        if self.buffer_dur <= 0:
            raise ValueError(f"buffer_dur: must be > 0 seconds, got {self.buffer_dur!r}")
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        _check_period("period", self.period)
        if self.buffer_update_strategy not in _STRATEGIES:
            raise ValueError(f"buffer_update_strategy: must be one of {_STRATEGIES}, got "
                             f"{self.buffer_update_strategy!r}")


@processor_state
class SamplerState:
    buffer: SampleHistory | None = None
    """The stream's last ``buffer_dur`` seconds (None before the first message)."""

    triggers: deque | None = None
    """Pending triggers (``SampleTriggerMessage`` with timestamp, period and value resolved),
    in arrival order. They survive a reset: they are times, not samples."""

    unaligned: list | None = None
    """Block-timing triggers (``estimate_alignment=False``) that arrived before any data;
    they take the time of the first sample to come."""


class SamplerTransformer(SettingsByValueMixin, StreamAxisMixin, BaseStatefulTransformer[
        SamplerSettings, AxisArray, list, SamplerState]):
    """``proc(data)`` or ``proc(trigger)``: the list of epochs completed by it (possibly
    empty), in trigger order. An epoch has the stream's layout, its time axis starts at its
    first sample, and ``attrs["trigger"]`` holds the trigger (timestamp, period, value)."""

    NONRESET_SETTINGS_FIELDS = frozenset({"period", "value", "estimate_alignment"})

    def __call__(self, message: AxisArray | SampleTriggerMessage) -> list[AxisArray]:
        if isinstance(message, SampleTriggerMessage):
            return self.push_trigger(message)
        return super().__call__(message)

    def _reset_state(self, message: AxisArray) -> None:
        axis = self._axis(message)
        ix = axis_index(message, axis)
        if not isinstance(message.axes.get(axis), (LinearAxis, CoordinateAxis)):
            raise ValueError(f"axis: dim {axis!r} has no LinearAxis or CoordinateAxis to place "
                             f"triggers on")
        self._state.buffer = SampleHistory(message, axis, ix, float(self.settings.buffer_dur))
        if self._state.triggers is None:
            self._state.triggers = deque()

    def _process(self, message: AxisArray) -> list[AxisArray]:
        hist = self._state.buffer
        at = hist.write(message, message.data)
        if self._state.unaligned and hist.has_data:
            t = hist.time_of(at)
            for trig in self._state.unaligned:
                self._state.triggers.append(dataclasses.replace(trig, timestamp=t))
            self._state.unaligned = None
        return self._collect()

    def _collect(self) -> list[AxisArray]:
        """Epochs of every pending trigger whose window has arrived; triggers whose window
        left the history are dropped with a warning."""
        hist, triggers = self._state.buffer, self._state.triggers
        if hist is None or not triggers or not hist.has_data:
            return []
        out, waiting = [], deque()
        for trig in triggers:
            lo, hi = trig.period
            start = hist.count_upto(trig.timestamp + lo)
            stop = hist.count_upto(trig.timestamp + hi)
            if start < hist.valid_first:
                ez.logger.warning(
                    f"Sampler: trigger at {trig.timestamp} skipped: its window "
                    f"({trig.timestamp + lo}, {trig.timestamp + hi}] starts before the oldest "
                    f"sample kept ({hist.time_of(hist.valid_first)}); increase buffer_dur")
            elif stop > hist.end:
                waiting.append(trig)
            else:
                out.append(hist.epoch(start, stop, {"trigger": trig}))
        self._state.triggers = waiting
        return out

    def push_trigger(self, message: SampleTriggerMessage) -> list[AxisArray]:
        """Queue a trigger; returns its epoch at once when its samples are already here.
        ``TypeError`` / ``ValueError`` (nothing queued) for a timestamp that is not a finite
        real number when ``estimate_alignment`` places the trigger by it."""
        if self.settings.estimate_alignment:
            _check_timestamp(message.timestamp)
        period = message.period if message.period is not None else self.settings.period
        value = message.value if message.value is not None else self.settings.value
        if period is None:
            ez.logger.warning("Sampler: trigger skipped: no period (set SamplerSettings.period "
                              "or the trigger's)")
            return []
        try:  # never raises: a bad trigger is the stream's problem, not the graph's
            ok = len(period) == 2 and float(period[0]) < float(period[1])
        except (TypeError, ValueError):
            ok = False
        if not ok:
            ez.logger.warning(f"Sampler: trigger skipped: period must be (start, stop) with "
                              f"start < stop, got {period!r}")
            return []
        if period[1] - period[0] > self.settings.buffer_dur:
            ez.logger.warning(f"Sampler: trigger skipped: its period {tuple(period)} is longer "
                              f"than buffer_dur={self.settings.buffer_dur}")
            return []
        period = (float(period[0]), float(period[1]))
        if type(message) is SampleTriggerMessage:  # the common case: 0.5 us cheaper
            trig = SampleTriggerMessage(timestamp=message.timestamp, period=period, value=value)
        else:
            trig = dataclasses.replace(message, period=period, value=value)
        hist = self._state.buffer
        if not self.settings.estimate_alignment:
            if hist is None or not hist.has_data:
                self._state.unaligned = [*(self._state.unaligned or []), trig]
                return []
            trig = dataclasses.replace(trig, timestamp=hist.time_of(hist.end))
        if self._state.triggers is None:
            self._state.triggers = deque()
        self._state.triggers.append(trig)
        return self._collect()


class Sampler(WindowedUnit[SamplerSettings, AxisArray, AxisArray, SamplerTransformer]):
    """Data in (``INPUT_SIGNAL``), triggers in (``INPUT_TRIGGER``), one message per epoch out
    (``OUTPUT_SIGNAL``), published as soon as its last sample or its trigger arrives."""

    SETTINGS = SamplerSettings

    INPUT_TRIGGER = ez.InputStream(SampleTriggerMessage)

    @ez.subscriber(INPUT_TRIGGER)
    @ez.publisher(BaseTransformerUnit.OUTPUT_SIGNAL)
    async def on_trigger(self, msg: SampleTriggerMessage) -> typing.AsyncGenerator:
        for epoch in self._run_input(lambda p: p.push_trigger(msg), msg, False) or ():
            materialize(epoch.data)
            yield self.OUTPUT_SIGNAL, epoch

    def _outputs(self, message: AxisArray, result: list[AxisArray]) -> list[AxisArray]:
        return result  # one message per epoch


def sampler(
    buffer_dur: float,
    axis: str | None = None,
    period: tuple[float, float] | None = None,
    value: typing.Any = None,
    estimate_alignment: bool = True,
) -> SamplerTransformer:
    """A ``SamplerTransformer``: send it data messages and ``SampleTriggerMessage``s, get
    lists of epochs (``attrs["trigger"]`` says which trigger each answers)."""
    return SamplerTransformer(SamplerSettings(
        buffer_dur=buffer_dur, axis=axis, period=period, value=value,
        estimate_alignment=estimate_alignment))


# ================================================================================== triggers
class TriggerGeneratorSettings(ez.Settings):
    period: tuple[float, float]
    """``(start, stop)`` in seconds around each trigger. Required."""

    prewait: float = 0.5
    """Seconds from the first clock tick to the first trigger. Default 0.5."""

    publish_period: float = 5.0
    """Seconds between triggers. Default 5.0."""

    def __post_init__(self) -> None:
        _check_period("period", self.period)
        check_real("prewait", self.prewait, minimum=0.0)
        check_real("publish_period", self.publish_period)
        if self.publish_period <= 0:
            raise ValueError(f"publish_period: must be > 0 seconds, got {self.publish_period!r}")


@processor_state
class TriggerGeneratorState(ClockDrivenState):
    output: int = 0
    """Value of the next trigger (0, 1, 2, ...)."""

    next_time: float | None = None
    """Clock time of the next trigger (None before the first tick)."""


class TriggerProducer(BaseClockDrivenProducer[TriggerGeneratorSettings, TriggerGeneratorState]):
    """Each clock tick gives the triggers due by its time (``prewait`` after the first tick,
    then every ``publish_period``), stamped with their scheduled times, as a list (empty when
    none is due). Values count 0, 1, 2, ..."""

    def _reset_state(self, time_axis: LinearAxis | None = None) -> None:
        self._state.output = 0
        self._state.next_time = None

    def _process(self, clock_tick: LinearAxis) -> list[SampleTriggerMessage]:
        now = float(clock_tick.offset)
        if self._state.next_time is None:
            self._state.next_time = now + self.settings.prewait
        out = []
        while self._state.next_time <= now + 1e-12:
            out.append(SampleTriggerMessage(timestamp=self._state.next_time,
                                            period=tuple(self.settings.period),
                                            value=self._state.output))
            self._state.output += 1
            self._state.next_time += self.settings.publish_period
        return out

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> Any:  # not used: see _process
        return None


class TriggerGenerator(BaseClockDrivenUnit[TriggerGeneratorSettings, TriggerProducer]):
    """Clock ticks in (``INPUT_CLOCK``, e.g. ezmsg-baseproc's ``Clock``), triggers out
    (``OUTPUT_SIGNAL``, one message each)."""

    SETTINGS = TriggerGeneratorSettings
    OUTPUT_SIGNAL = ez.OutputStream(SampleTriggerMessage)

    @ez.subscriber(BaseClockDrivenUnit.INPUT_CLOCK)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_clock(self, clock_tick: LinearAxis) -> typing.AsyncGenerator:
        for trig in self.processor(clock_tick):
            yield self.OUTPUT_SIGNAL, trig
