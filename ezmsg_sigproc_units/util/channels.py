"""Channel groups and channel-axis fingerprints, under the peer's names.

A *channel group spec* (:data:`ChannelGroupSpec`) says how to split a channel axis into
disjoint groups of channel indices; operations that work per group (per-bank rereferencing,
block-diagonal spatial filters) accept it as ``channel_groups``:

* ``None``: no grouping (the operation's default, usually one group of every channel);
* ``"bank"``: group by that field of a structured ``CoordinateAxis`` (a NumPy struct array of
  per-channel records, e.g. a ChannelMap with ``label``/``bank``/``array`` fields);
* ``("array", "bank")``: group by the tuple of those fields;
* ``[[0, 1, 2], [3, 4, 5]]``: explicit index groups;
* ``fn(message, axis) -> groups``: any other rule (returning None means "no grouping").

Groups come out in order of first appearance along the axis. Channels may be left out of every
group; no channel may be in two. Everything here runs on the host, on axis metadata, at state
reset: never on signal data.

The fingerprints summarise channel metadata so a processor can notice it changed:
:func:`group_spec_fingerprint` only notices a grouping field appearing or vanishing (O(1));
:func:`coord_value_fingerprint` digests the values (O(bytes)); :class:`AxisFingerprintMemo`
makes the latter cheap when the same axis objects arrive again.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from ezmsg.baseproc.util.streamdim import resolve_feature_dim
from ezmsg.util.messages.axisarray import AxisArray

__all__ = [
    "AxisFingerprintMemo",
    "ChannelGroupSpec",
    "array_value_fingerprint",
    "channel_groups_from_field",
    "coord_value_fingerprint",
    "fingerprint_stats",
    "group_spec_fields",
    "group_spec_fingerprint",
    "reset_fingerprint_stats",
    "resolve_channel_groups",
    "validate_channel_groups",
]

ChannelGroupSpec = (
    str
    | Sequence[str]
    | Sequence[Sequence[int]]
    | Callable[[AxisArray, str], "Sequence[Sequence[int]] | None"]
)
"""How to split a channel axis into groups (see the module docstring)."""

# Counting memo hits is off unless EZMSG_SIGPROC_FINGERPRINT_STATS is set (the peer's switch):
# how often axis objects survive is a property of a deployed graph, not of a unit test.
_COUNTING = bool(os.environ.get("EZMSG_SIGPROC_FINGERPRINT_STATS"))
_COUNTS: dict[str, list[int]] = {}


def fingerprint_stats() -> dict[str, tuple[int, int, int]]:
    """``{label: (calls, digests_computed, mapping_hits)}`` of every labelled
    :class:`AxisFingerprintMemo` in this process (empty unless the environment variable
    ``EZMSG_SIGPROC_FINGERPRINT_STATS`` is set)."""
    return {label: (c[0], c[1], c[2]) for label, c in _COUNTS.items()}


def reset_fingerprint_stats() -> None:
    """Set every counter of :func:`fingerprint_stats` back to zero."""
    for counts in _COUNTS.values():
        counts[:] = [0, 0, 0]


def validate_channel_groups(groups: Sequence[Sequence[int]], n_channels: int) -> None:
    """``ValueError`` (starting with ``channel_groups``) unless every index of ``groups`` is in
    ``0..n_channels-1`` and no channel appears twice. Empty groups and channels in no group
    are allowed."""
    owner = np.full(n_channels, -1, dtype=np.intp)
    for g, group in enumerate(groups):
        idx = np.asarray(group).reshape(-1)
        if idx.size == 0:
            continue
        if idx.dtype.kind not in "iu":
            raise ValueError(f"channel_groups: group {g} holds non-integer indices {group!r}")
        bad = idx[(idx < 0) | (idx >= n_channels)]
        if bad.size:
            raise ValueError(
                f"channel_groups: index {int(bad[0])} in group {g} is out of range for "
                f"{n_channels} channels (valid range: 0..{n_channels - 1})")
        idx = idx.astype(np.intp)
        taken = owner[idx] >= 0
        if np.any(taken) or np.unique(idx).size != idx.size:
            ch = int(idx[taken][0]) if np.any(taken) else int(idx[0])
            raise ValueError(
                f"channel_groups: groups overlap (channel {ch} is listed twice); each channel "
                f"may belong to at most one group")
        owner[idx] = g


def _first_appearance_groups(keys: list) -> list[np.ndarray]:
    """Indices of equal keys, one array per distinct key, ordered by first appearance."""
    where: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        where.setdefault(key, []).append(i)
    return [np.asarray(ix, dtype=np.intp) for ix in where.values()]


def _axis_data(message: AxisArray, axis: str | None) -> tuple[str, Any]:
    axis = axis or resolve_feature_dim(message)
    return axis, getattr(message.axes.get(axis), "data", None)


def channel_groups_from_field(
    message: AxisArray,
    axis: str | None = None,
    field: str | Sequence[str] = "bank",
) -> list[np.ndarray] | None:
    """Channel indices grouped by the value of ``field`` (or the tuple of several fields) of
    the structured ``CoordinateAxis`` on ``axis`` (None: the last dim that is not the stream
    dim). One int array per distinct value, in order of first appearance.

    None when there is nothing to group by: the axis is missing or has no struct-array data,
    a field is absent, or the axis' length differs from the data's along ``axis``.
    """
    axis, data = _axis_data(message, axis)
    names = getattr(getattr(data, "dtype", None), "names", None)
    fields = (field,) if isinstance(field, str) else tuple(field)
    if not names or not fields or not all(f in names for f in fields):
        return None
    if axis not in message.dims or len(data) != message.data.shape[message.dims.index(axis)]:
        return None
    columns = [np.asarray(data[f]).tolist() for f in fields]
    keys = columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
    return _first_appearance_groups(keys)


def group_spec_fields(spec: ChannelGroupSpec | None) -> tuple[str, ...] | None:
    """The field names ``spec`` groups by; None for None, callables and index groups.

    Decided by the first element only (cheap enough for every message); a spec mixing names
    and index groups is refused by :func:`resolve_channel_groups`."""
    if isinstance(spec, str):
        return (spec,)
    if spec is None or callable(spec) or not len(spec):
        return None
    first = spec[0]
    return tuple(spec) if isinstance(first, str) else None


def resolve_channel_groups(
    message: AxisArray,
    axis: str | None,
    spec: ChannelGroupSpec | None,
) -> list[np.ndarray] | None:
    """``spec`` resolved against ``message``: validated int index arrays, or None when
    ``spec`` is None or names metadata the message does not carry (the caller's default
    applies then). ``ValueError`` for a spec that mixes field names with index groups, or
    groups out of range or overlapping."""
    if spec is None:
        return None
    axis = axis or resolve_feature_dim(message)
    fields = group_spec_fields(spec)
    if fields is not None:
        if not all(isinstance(f, str) for f in fields):
            raise ValueError(
                f"channel_groups: mixes field names with index groups: {spec!r}")
        groups = channel_groups_from_field(message, axis, fields)
    elif callable(spec):
        groups = spec(message, axis)
    else:
        groups = spec
    if groups is None:
        return None
    out = [np.asarray(g).reshape(-1) for g in groups]
    n = message.data.shape[message.dims.index(axis)] if axis in message.dims else 0
    validate_channel_groups(out, n)
    return [g.astype(np.intp) for g in out]


def group_spec_fingerprint(
    message: AxisArray,
    axis: str | None,
    spec: ChannelGroupSpec | None,
) -> tuple:
    """O(1) summary of whether a field-based ``spec`` can resolve on ``message``: ``()`` for
    specs that read no metadata, else ``(has_all_fields,)``. Field *values* changing under the
    same fields are not noticed (use :func:`coord_value_fingerprint` for that)."""
    fields = group_spec_fields(spec)
    if fields is None:
        return ()
    _, data = _axis_data(message, axis)
    names = getattr(getattr(data, "dtype", None), "names", None)
    return (bool(names) and all(f in names for f in fields),)


def array_value_fingerprint(arr: np.ndarray) -> tuple:
    """``(dtype, shape, crc32 of the bytes)`` of a host array: equal for equal contents.

    Object arrays (labels as Python strings) are digested as unicode so equal strings give
    equal digests; elements with no string form fall back to their ``repr``."""
    arr = np.asarray(arr)
    if arr.dtype.hasobject:
        try:
            arr = arr.astype(str)
        except (TypeError, ValueError):
            return (arr.dtype, arr.shape, repr(arr.tolist()))
    return (arr.dtype, arr.shape, zlib.crc32(np.ascontiguousarray(arr).view(np.uint8)))


def coord_value_fingerprint(
    message: AxisArray,
    axis: str | None,
    fields: Sequence[str] | None = None,
) -> tuple:
    """Digest of the coordinate values on ``axis`` (None: the last non-stream dim).

    ``fields`` restricts a struct-array axis to the fields a consumer reads (a missing field
    contributes None, so gaining or losing it registers); None digests the whole array.
    ``()`` when the axis carries no coordinate data."""
    _, data = _axis_data(message, axis)
    if data is None:
        return ()
    names = getattr(getattr(data, "dtype", None), "names", None)
    if not fields or names is None:
        return array_value_fingerprint(data)
    return tuple(array_value_fingerprint(data[f]) if f in names else None for f in fields)


class AxisFingerprintMemo:
    """Fingerprints of a message's coordinate axes, reusing earlier digests by identity.

    Messages passed along a chain share their ``axes`` mapping and axis arrays, so two
    identity checks (the mapping, then each ``.data`` array) usually answer without reading
    any bytes; otherwise the axis' own cached ``fingerprint`` or
    :func:`array_value_fingerprint` is used. Assumes coordinate arrays are never mutated in
    place. One memo serves one consumer, which passes the same ``names``/``exclude`` on
    every call.
    """

    __slots__ = ("_axes", "_answer", "_seen", "_counts")

    def __init__(self, label: str | None = None) -> None:
        self._axes: object = None
        self._answer: tuple = ()
        self._seen: dict[str, tuple[object, object]] = {}
        self._counts = _COUNTS.setdefault(label, [0, 0, 0]) if _COUNTING and label else None

    def fingerprint(
        self,
        message: AxisArray,
        names: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
    ) -> tuple:
        """``((axis name, digest), ...)`` over the coordinate axes of ``message`` (only
        ``names`` when given, never ``exclude``); axes without ``.data`` are skipped."""
        counts = self._counts
        if counts is not None:
            counts[0] += 1
        axes = message.axes
        if axes is self._axes:
            if counts is not None:
                counts[2] += 1
            return self._answer
        digested = False
        parts = []
        for name, ax in axes.items():
            if name in exclude or (names is not None and name not in names):
                continue
            data = getattr(ax, "data", None)
            if data is None:
                continue
            seen = self._seen.get(name)
            if seen is None or seen[0] is not data:
                fp = getattr(ax, "fingerprint", None)
                if fp is None:
                    fp, digested = array_value_fingerprint(data), True
                seen = self._seen[name] = (data, fp)
            parts.append((name, seen[1]))
        if counts is not None and digested:
            counts[1] += 1
        self._axes, self._answer = axes, tuple(parts)
        return self._answer
