"""Small predicates and helpers on ``AxisArray`` messages, under the peer's names.

``SampleMessage``, ``SampleTriggerMessage`` and ``is_sample_message`` are ezmsg-baseproc's
(re-exported here because the peer's module exports them too).
"""

from __future__ import annotations

import typing

from ezmsg.baseproc.util.message import (
    SampleMessage,
    SampleTriggerMessage,
    is_sample_message,
)
from ezmsg.util.messages.axisarray import AxisArray

__all__ = [
    "SampleMessage",
    "SampleTriggerMessage",
    "has_samples_along",
    "is_empty_along",
    "is_sample_message",
    "with_fingerprint",
]


def with_fingerprint(axis: AxisArray.CoordinateAxis) -> AxisArray.CoordinateAxis:
    """Return ``axis`` after computing its (cached) fingerprint.

    Stateful processors compare the fingerprints of a stream's label axes (channels,
    frequencies, features) on every message. The value is cached on the axis object and
    pickled with it, so paying for it once where the axis is built saves every consumer the
    checksum, in this process and in every process that receives the stream. Use it on axes
    that are reused from message to message, not on per-message coordinates of the stream
    dim."""
    axis.fingerprint  # noqa: B018 - evaluated for its cached value
    return axis


def is_empty_along(message: AxisArray, dims: typing.Iterable[str]) -> bool:
    """Whether ``message`` has length zero along any of ``dims`` that it has (dims it lacks
    are ignored). A message empty only along other dims (say, every channel selected away)
    is not empty along the stream dim, and keeps the stream's cadence."""
    shape, names = message.data.shape, message.dims
    return any(d in names and shape[names.index(d)] == 0 for d in dims)


def has_samples_along(message: AxisArray, dim: str) -> bool:
    """Whether ``message`` has ``dim`` with at least one entry (a message without ``dim`` has
    none)."""
    names = message.dims
    return dim in names and message.data.shape[names.index(dim)] > 0
