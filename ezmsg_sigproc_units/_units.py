"""Unit bases shared by every transformer Unit of the suite.

``TransformerUnit`` is ezmsg-baseproc's ``BaseTransformerUnit`` and ``AdaptiveUnit`` its
``BaseAdaptiveTransformerUnit`` (the learn family's decoders), each with two differences:

* the output is materialised (MLX evaluated) before it is published (a processor that returns
  a list of messages has each published in turn), so downstream Units and other processes
  receive computed arrays and lazy graphs cannot pile up. Offline calls of the processors stay
  lazy, so chained MLX operations can still fuse;
* faults are contained (``docs/robustness.md``): a malformed message is dropped with one
  WARNING line naming the Unit and the problem, and the processor's state is put back as it
  was before that message; a settings update is validated, and the running processor (with
  its state) keeps working until the updated one has processed its first message.
"""

from __future__ import annotations

import typing
from abc import ABC

import ezmsg.core as ez
from ezmsg.baseproc import (
    AdaptiveTransformerType,
    BaseAdaptiveTransformerUnit,
    BaseTransformerUnit,
    MessageInType,
    MessageOutType,
    SettingsType,
    TransformerType,
    profile_subpub,
)

from ._backend import materialize
from ._faults import _DROPPED, FaultContainment

# ---- the Unit bases ----------------------------------------------------------------------

def _messages(result: typing.Any) -> list:
    """The messages a processor's ``result`` stands for (None or dropped: none; a list, as the
    torch-hosted decoders return one message per output head: each)."""
    if result is None or result is _DROPPED:
        return []
    return result if isinstance(result, list) else [result]


def _materialized(outs: list) -> list:
    for out in outs:
        materialize(out.data)
    return outs


class TransformerUnit(
    FaultContainment,
    BaseTransformerUnit[SettingsType, MessageInType, MessageOutType, TransformerType],
    ABC,
    typing.Generic[SettingsType, MessageInType, MessageOutType, TransformerType],
):
    """A transformer Unit whose published outputs are materialised and whose faults are
    contained."""

    def _to_publish(self, message: typing.Any, result: typing.Any) -> list:
        """The messages this Unit publishes for its processor's ``result`` on ``message``,
        not yet materialised (``Pipeline`` stages follow the same rule)."""
        return _messages(result)

    # The base tasks must be replaced with their decorators repeated, or ezmsg keeps them.
    @ez.subscriber(BaseTransformerUnit.INPUT_SETTINGS)
    async def on_settings(self, msg: typing.Any) -> None:
        self._settings_update(msg)

    @ez.subscriber(BaseTransformerUnit.INPUT_SIGNAL)
    @ez.publisher(BaseTransformerUnit.OUTPUT_SIGNAL)
    @profile_subpub(trace_oldest=False)
    async def on_signal(self, message: typing.Any) -> typing.AsyncGenerator:
        result = await self._run_processor("__acall__", message)
        for out in _materialized(self._to_publish(message, result)):
            yield self.OUTPUT_SIGNAL, out


class AdaptiveUnit(
    FaultContainment,
    BaseAdaptiveTransformerUnit[SettingsType, MessageInType, MessageOutType,
                                AdaptiveTransformerType],
    ABC,
    typing.Generic[SettingsType, MessageInType, MessageOutType, AdaptiveTransformerType],
):
    """An adaptive transformer Unit (``INPUT_SIGNAL`` decoded, ``INPUT_SAMPLE`` trains and
    its decoded sample goes to ``OUTPUT_SAMPLE``) whose published outputs are materialised
    and whose faults are contained."""

    def _to_publish(self, message: typing.Any, result: typing.Any) -> list:
        """The messages the signal path publishes for the processor's ``result``."""
        return _messages(result)

    @ez.subscriber(BaseAdaptiveTransformerUnit.INPUT_SETTINGS)
    async def on_settings(self, msg: typing.Any) -> None:
        self._settings_update(msg)

    @ez.subscriber(BaseAdaptiveTransformerUnit.INPUT_SIGNAL)
    @ez.publisher(BaseAdaptiveTransformerUnit.OUTPUT_SIGNAL)
    @profile_subpub(trace_oldest=False)
    async def on_signal(self, message: typing.Any) -> typing.AsyncGenerator:
        result = await self._run_processor("__acall__", message)
        for out in _materialized(self._to_publish(message, result)):
            yield self.OUTPUT_SIGNAL, out

    @ez.subscriber(BaseAdaptiveTransformerUnit.INPUT_SAMPLE)
    @ez.publisher(BaseAdaptiveTransformerUnit.OUTPUT_SAMPLE)
    @profile_subpub(trace_oldest=False)
    async def on_sample(self, msg: typing.Any) -> typing.AsyncGenerator:
        result = await self._run_processor("apartial_fit_transform", msg)
        for out in _materialized(_messages(result)):
            yield self.OUTPUT_SAMPLE, out


def has_no_windows(result: typing.Any, dims: typing.Iterable[str]) -> bool:
    """True when any of ``dims`` is in ``result`` with length zero (a windowed output that
    carries no window). Dims it lacks are ignored, and emptiness along other dims (every
    channel selected away upstream) does not count: such messages keep the stream's cadence."""
    shape, out_dims = result.data.shape, result.dims
    return any(d in out_dims and shape[out_dims.index(d)] == 0 for d in dims)


class WindowedUnit(
    TransformerUnit[SettingsType, MessageInType, MessageOutType, TransformerType],
    ABC,
    typing.Generic[SettingsType, MessageInType, MessageOutType, TransformerType],
):
    """A transformer Unit whose processor emits windows: it publishes only outputs that carry
    at least one (those with zero length along a dim of ``_window_dims``), so downstream
    Units never receive, process and forward empty messages. ``_outputs`` may split one
    output into several messages; a processor that returns a list of messages (one per window,
    none when none completes) has them published in turn (``_outputs`` returns the list). The
    offline processor is unchanged (one output per input, empty when no window completes)."""

    WINDOW_DIMS: typing.ClassVar[tuple[str, ...]] = ("time",)
    """The output dims that count windows (default: the window stamps' ``time``)."""

    def _window_dims(self, message: typing.Any) -> tuple[str, ...]:
        return self.WINDOW_DIMS

    def _outputs(self, message: typing.Any, result: typing.Any) -> typing.Iterable[typing.Any]:
        return (result,)

    def _to_publish(self, message: typing.Any, result: typing.Any) -> list:
        if result is None or result is _DROPPED or (
                type(result) is not list and has_no_windows(result, self._window_dims(message))):
            return []
        return list(self._outputs(message, result))
