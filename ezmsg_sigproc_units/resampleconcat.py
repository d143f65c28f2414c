"""Resample one stream onto another's clock and join the two, in one stage.

``INPUT_REFERENCE`` (side A) is the master clock: ``resample.ResampleProcessor`` in reference
mode interpolates ``INPUT_SIGNAL`` (side B) at the reference's timestamps and gathers the
reference's own rows at exactly those times (``output_reference``), so the two halves share
one time axis by construction and ``concat.ConcatProcessor`` joins them along
``concat_axis`` without a second alignment. Each output holds the reference times the signal
received so far covers. Output: the reference's namespace and device.
"""

from __future__ import annotations

import collections
import typing

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import materialize
from ._concat_axes import renamed_errors
from ._faults import FaultContainment
from .concat import ConcatProcessor, ConcatSettings
from .resample import ResampleProcessor, ResampleSettings
from .util.message import has_samples_along

UpdateStrategy = typing.Literal["immediate", "threshold", "on_demand"]


class ResampleConcatSettings(ez.Settings):
    axis: str = "time"
    """The reference clock's dim; the signal is resampled along it. Default ``"time"``."""

    concat_axis: str = "ch"
    """Dim the reference and the resampled signal are joined along. Default ``"ch"``."""

    buffer_duration: float = 2.0
    """Seconds of signal kept for reference times still to come (``resample``). Default 2.0."""

    fill_value: str = "extrapolate"
    """Reference times before the first signal sample (``resample``). Default
    ``"extrapolate"``."""

    max_chunk_delay: float | None = None
    """Passed to ``resample`` (rate mode only, so no effect here). Default None."""

    buffer_update_strategy: UpdateStrategy = "immediate"
    """The peer's buffer policy, passed to ``resample`` (no effect there). Default
    ``"immediate"``."""

    reference_reset_after_chunks: int | None = 3
    """Passed to ``resample``: this many reference messages at or before the last output
    re-anchor the reference clock. Default 3."""

    relabel_axis: bool = True
    """Suffix the joined labels with ``label_a``/``label_b`` (``concat``). Default True."""

    label_a: str = "_a"
    """The reference's (A) suffix or coordinate. Default ``"_a"``."""

    label_b: str = "_b"
    """The resampled signal's (B) suffix or coordinate. Default ``"_b"``."""

    assert_identical_shared_axes: bool = False
    """Raise when a shared axis differs between the two (``concat``). Default False."""

    new_key: str | None = None
    """The output's key. None (default): the reference's."""

    auto_coerce_backend: bool = False
    """Move the signal to the reference's array library when they differ. Default False."""

    def __post_init__(self) -> None:
        self.resample_settings()
        renamed_errors(self.concat_settings, {"axis": "concat_axis", "align_axis": "axis"})

    def resample_settings(self) -> ResampleSettings:
        return ResampleSettings(axis=self.axis, resample_rate=None,
                                buffer_duration=self.buffer_duration, fill_value=self.fill_value,
                                max_chunk_delay=self.max_chunk_delay,
                                buffer_update_strategy=self.buffer_update_strategy,
                                output_reference=True,
                                reference_reset_after_chunks=self.reference_reset_after_chunks)

    def concat_settings(self) -> ConcatSettings:
        return ConcatSettings(axis=self.concat_axis, align_axis=self.axis,
                              relabel_axis=self.relabel_axis, label_a=self.label_a,
                              label_b=self.label_b,
                              assert_identical_shared_axes=self.assert_identical_shared_axes,
                              new_key=self.new_key, auto_coerce_backend=self.auto_coerce_backend)


class ResampleConcatProcessor:
    """``push_reference`` / ``push_signal`` feed the two inputs; ``next(proc)`` returns the
    next joined chunk or None; ``proc(signal_msg)`` pushes and returns ``next``."""

    def __init__(self, settings: ResampleConcatSettings | None = None, **kwargs) -> None:
        self.settings = settings if settings is not None else ResampleConcatSettings(**kwargs)
        self._resampler = ResampleProcessor(self.settings.resample_settings())
        self._concat = ConcatProcessor(self.settings.concat_settings())
        self._pending: collections.deque = collections.deque()

    @property
    def resample_state(self):
        """The resampling stage's state."""
        return self._resampler.state

    @property
    def concat_state(self):
        """The concatenation stage's state."""
        return self._concat.state

    def _collect(self, b: AxisArray | None) -> None:
        if b is None or not has_samples_along(b, self.settings.axis):
            return
        a = self._resampler.state.reference_output
        if a is not None:
            self._pending.append(self._concat._concat(a, b))

    def push_reference(self, message: AxisArray) -> None:
        """A reference (clock, side A) message."""
        self._resampler.push_reference(message)
        self._collect(self._resampler.drain_reference())

    def push_signal(self, message: AxisArray) -> None:
        """A signal (side B) message, resampled onto the reference's times."""
        self._collect(self._resampler(message))

    def __next__(self) -> AxisArray | None:
        return self._pending.popleft() if self._pending else None

    def __call__(self, message: AxisArray) -> AxisArray | None:
        self.push_signal(message)
        return next(self)

    async def __acall__(self, message: AxisArray) -> AxisArray | None:
        return self(message)


class ResampleConcat(FaultContainment, ez.Unit):
    """``OUTPUT_SIGNAL``: ``INPUT_REFERENCE`` (A) joined with ``INPUT_SIGNAL`` (B) resampled
    onto the reference's times, published as soon as an input completes a chunk. A malformed
    message on either input is dropped with one WARNING line and both stages' state as
    before it (docs/robustness.md)."""

    SETTINGS = ResampleConcatSettings

    INPUT_SIGNAL = ez.InputStream(AxisArray)
    INPUT_REFERENCE = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    async def initialize(self) -> None:
        self.processor = ResampleConcatProcessor(self.SETTINGS)

    def _push(self, push: typing.Callable, message: AxisArray) -> list[AxisArray]:
        def step(proc: ResampleConcatProcessor) -> list[AxisArray]:
            push(proc, message)
            outs = []
            while (out := next(proc)) is not None:
                materialize(out.data)
                outs.append(out)
            return outs

        return self._run_input(step, message) or []

    @ez.subscriber(INPUT_REFERENCE)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_reference(self, message: AxisArray) -> typing.AsyncGenerator:
        for out in self._push(ResampleConcatProcessor.push_reference, message):
            yield self.OUTPUT_SIGNAL, out

    @ez.subscriber(INPUT_SIGNAL)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_signal(self, message: AxisArray) -> typing.AsyncGenerator:
        for out in self._push(ResampleConcatProcessor.push_signal, message):
            yield self.OUTPUT_SIGNAL, out
