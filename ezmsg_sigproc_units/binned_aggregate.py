"""Reduce a stream to a lower rate: aggregate the samples of each fixed-duration bin
(mean, min, max, ... or several at once on a trailing axis, e.g. ``(MIN, MAX)`` for a
display envelope). The bin boundaries come from ``util.binning.BinSchedule``, so every
chunking of a stream gives the same bins, and the open bin's samples are carried across
messages on the data's device.
"""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ._backend import namespace_and_device
from ._kernels import binning, epochs, reductions
from ._messages import axis_index, replace_fields
from ._processors import StreamAxisMixin
from ._units import WindowedUnit
from ._validate import check_member, check_rank, check_real
from .aggregate import AggregationFunction, aggregate_slices, needs_coordinates
from .util.binning import BinSchedule, BinStep
from .util.message import with_fingerprint

_BY_SLICE = frozenset({"argmin", "argmax", "trapezoid"})  # need coordinates: one per bin


def _ops(operation: Any) -> tuple[AggregationFunction, ...]:
    items = operation if isinstance(operation, tuple) else (operation,)
    if not items:
        raise ValueError("operation: an empty tuple aggregates nothing")
    ops = tuple(check_member(AggregationFunction, "operation", op) for op in items)
    if AggregationFunction.NONE in ops:
        raise ValueError("operation: AggregationFunction.NONE does not aggregate; choose a "
                         "reduction such as AggregationFunction.MEAN")
    return ops


class BinnedAggregateSettings(ez.Settings):
    axis: str | None = None
    """Dim to bin along. None (default): the message's ``stream_dim``, else ``"time"``."""

    bin_duration: float = 0.02
    """Seconds per output bin (> 0). Default 0.02."""

    operation: AggregationFunction | tuple[AggregationFunction, ...] = AggregationFunction.MEAN
    """The reduction per bin (an AggregationFunction or its value), or a tuple of them: then
    every reduction of the same bins stacks on a trailing axis ``newaxis`` labelled with the
    values (even for a one-element tuple). NONE is rejected. Default MEAN."""

    newaxis: str = "metric"
    """Name of the trailing axis of a tuple ``operation``. Default "metric"."""

    passthrough: bool = False
    """True: messages pass unchanged; switching back starts a fresh schedule (nothing from
    before the gap joins the first bin). Can change live. Default False."""

    fractional: bool = True
    """True (default): ``bin_duration * fs`` samples per bin, fractional (output gain
    ``bin_duration``). False: ``int(bin_duration * fs)`` samples per bin (output gain that
    over fs)."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        check_real("bin_duration", self.bin_duration)
        if self.bin_duration <= 0:
            raise ValueError(f"bin_duration: must be > 0 seconds, got {self.bin_duration!r}")
        ops = _ops(self.operation)
        object.__setattr__(self, "operation",
                           ops if isinstance(self.operation, tuple) else ops[0])
        if not isinstance(self.newaxis, str) or not self.newaxis:
            raise ValueError(f"newaxis: must be a dim name, got {self.newaxis!r}")


@processor_state
class BinnedAggregateState:
    axis: str = ""
    """The dim binned along (fixed at the reset)."""

    schedule: BinSchedule | None = None
    """The bin boundaries (sample rate, samples per bin, bins closed, samples carried)."""

    carry: Any = None
    """The open bin's samples (a copy, on the data's device), or None."""

    metric_axis: CoordinateAxis | None = None
    """The trailing axis of a tuple ``operation`` (None for one reduction)."""


class BinnedAggregateTransformer(StreamAxisMixin, BaseStatefulTransformer[
        BinnedAggregateSettings, AxisArray, AxisArray, BinnedAggregateState]):
    """One output sample per closed bin, on an axis with the bin gain and the grid's offset;
    a message that closes no bin gives an empty one (the carried bin grows). Other dims and
    axes are kept; a tuple ``operation`` adds the trailing ``newaxis``. Bins of one width
    (every bin of an integer ``bin_duration * fs``) are reduced in one call."""

    NONRESET_SETTINGS_FIELDS = frozenset({"passthrough"})

    def __call__(self, message: AxisArray) -> AxisArray:
        if self.settings.passthrough:
            self._request_reset()
            return message
        return super().__call__(message)

    async def __acall__(self, message: AxisArray) -> AxisArray:
        return self(message)

    @property
    def _multi(self) -> bool:
        return isinstance(self.settings.operation, tuple)

    @property
    def _operations(self) -> tuple[AggregationFunction, ...]:
        op = self.settings.operation
        return op if isinstance(op, tuple) else (op,)

    def _reset_state(self, message: AxisArray) -> None:
        axis = self._axis(message)
        axis_index(message, axis)
        ax = message.axes.get(axis)
        if not isinstance(ax, LinearAxis) or not ax.gain > 0:
            raise ValueError(f"axis: dim {axis!r} needs a LinearAxis with a sample period > 0 "
                             f"to bin by duration")
        self._state.axis = axis
        schedule = BinSchedule(bin_duration=self.settings.bin_duration,
                               fractional=self.settings.fractional)
        schedule.reset(1.0 / ax.gain)
        self._state.schedule = schedule
        self._state.carry = None
        self._state.metric_axis = with_fingerprint(CoordinateAxis(
            data=np.array([op.value for op in self._operations]),
            dims=[self.settings.newaxis])) if self._multi else None

    def _reduce(self, xp: Any, work: Any, ix: int, cuts: list[int], coords: Any) -> Any:
        starts = [0, *cuts[:-1]]
        widths = {e - s for s, e in zip(starts, cuts, strict=True)}
        outs = []
        for op in self._operations:
            name = op.value
            if len(widths) == 1 and name in reductions.REDUCTIONS and name not in _BY_SLICE \
                    and cuts[0] > 0:
                outs.append(binning.reduce_equal_bins(xp, work, ix, 0, len(cuts), cuts[0], name))
            else:
                slices = [slice(s, e) for s, e in zip(starts, cuts, strict=True)]
                outs.append(aggregate_slices(work, slices, ix, op, coordinates=coords))
        return xp.stack(outs, axis=-1) if self._multi else outs[0]

    def _output(self, message: AxisArray, data: Any, step: BinStep) -> AxisArray:
        axis = self._state.axis
        ax = message.axes[axis]
        axes = {**message.axes, axis: LinearAxis(gain=step.output_gain,
                                                   offset=step.output_offset, unit=ax.unit)}
        dims = list(message.dims)
        if self._multi:
            axes[self.settings.newaxis] = self._state.metric_axis
            dims.append(self.settings.newaxis)
        return replace_fields(message, data, dims=dims, axes=axes)

    def _process(self, message: AxisArray) -> AxisArray:
        axis = self._state.axis
        ix = axis_index(message, axis)
        check_rank(message)  # before the schedule advances
        x = message.data
        xp, _ = namespace_and_device(x)
        ax = message.axes[axis]
        carry = self._state.carry
        step = self._state.schedule.advance(x.shape[ix], ax.offset, ax.gain)
        work = x if carry is None else xp.concat([carry, x], axis=ix)
        n_work = work.shape[ix]
        if step.n_bins == 0:
            self._state.carry = epochs.own(xp, work, ix, n_work) if n_work else None
            empty = x[(slice(None),) * ix + (slice(0, 0), Ellipsis)]
            if self._multi:
                empty = xp.stack([empty] * len(self._operations), axis=-1)
            return self._output(message, empty, step)
        coords = None
        if needs_coordinates(self._operations):
            carry_len = 0 if carry is None else carry.shape[ix]
            coords = ax.offset + ax.gain * (np.arange(n_work, dtype=np.float64) - carry_len)
        out = self._reduce(xp, work, ix, step.cut_points, coords)
        self._state.carry = (epochs.own(xp, work, ix, step.carry_count)
                             if step.carry_count > 0 else None)
        return self._output(message, out, step)


class BinnedAggregate(WindowedUnit[BinnedAggregateSettings, AxisArray, AxisArray,
                                   BinnedAggregateTransformer]):
    """Publishes only outputs that carry at least one bin (messages empty along other dims
    still flow, keeping the stream's cadence)."""

    SETTINGS = BinnedAggregateSettings

    def _window_dims(self, message: AxisArray) -> tuple[str, ...]:
        return (self.processor.state.axis,)
