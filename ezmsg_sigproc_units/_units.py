"""Unit base shared by every transformer Unit of the suite.

``TransformerUnit`` is ezmsg-baseproc's ``BaseTransformerUnit`` with one difference: the
output is materialised (MLX evaluated) before it is published, so downstream Units and other
processes receive computed arrays and lazy graphs cannot pile up. Offline calls of the
processors stay lazy, so chained MLX operations can still fuse.
"""

from __future__ import annotations

import typing
from abc import ABC

import ezmsg.core as ez
from ezmsg.baseproc import (
    BaseTransformerUnit,
    MessageInType,
    MessageOutType,
    SettingsType,
    TransformerType,
    profile_subpub,
)

from ._backend import materialize


class TransformerUnit(
    BaseTransformerUnit[SettingsType, MessageInType, MessageOutType, TransformerType],
    ABC,
    typing.Generic[SettingsType, MessageInType, MessageOutType, TransformerType],
):
    """A transformer Unit whose published outputs are materialised."""

    # The base task must be replaced with its decorators repeated, or ezmsg keeps running it.
    @ez.subscriber(BaseTransformerUnit.INPUT_SIGNAL)
    @ez.publisher(BaseTransformerUnit.OUTPUT_SIGNAL)
    @profile_subpub(trace_oldest=False)
    async def on_signal(self, message: typing.Any) -> typing.AsyncGenerator:
        result = await self.processor.__acall__(message)
        if result is not None:
            materialize(result.data)
            yield self.OUTPUT_SIGNAL, result
