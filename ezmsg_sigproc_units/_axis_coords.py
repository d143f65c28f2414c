"""Host coordinates of a message's axis, the coordinate bands that select from them, and the
peer's public aggregation helpers (``aggregate_slices``, ``axis_coordinates``,
``needs_coordinates``, re-exported by ``aggregate``).

Coordinates are host metadata (NumPy float64, never the data): the aggregate stage computes
them when the layout changes and moves what it needs to the data's device once.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import asarray, float_dtype_for, namespace_and_device
from ._kernels import reductions
from ._messages import axis_index


def host_coords(msg: AxisArray, axis: str, n: int) -> tuple[np.ndarray, str]:
    """(float64 coordinates of ``axis``, unit): LinearAxis gain/offset, CoordinateAxis data,
    or the indices when the message has no axis object."""
    ax = msg.axes.get(axis)
    if ax is None:
        return np.arange(n, dtype=np.float64), ""
    if hasattr(ax, "gain"):
        return ax.offset + ax.gain * np.arange(n, dtype=np.float64), ax.unit
    data = np.asarray(ax.data)
    if data.shape != (n,) or not np.issubdtype(data.dtype, np.number):
        raise ValueError(
            f"axis: coordinates of {axis!r} must be {n} numbers to locate extrema or bands; "
            f"got shape {data.shape} of {data.dtype}"
        )
    return data.astype(np.float64), ax.unit


def select_bands(coords: np.ndarray, bands: list, axis: str) -> list[np.ndarray]:
    """Indices of ``coords`` inside each ``(lo, hi)`` band (edges included); a band that
    selects nothing raises ``ValueError`` (unless the axis itself is empty)."""
    sels = []
    for i, (lo, hi) in enumerate(bands):
        sel = np.flatnonzero((coords >= lo) & (coords <= hi))
        if sel.size == 0 and coords.size:
            raise ValueError(
                f"bands: band {i} ({lo}, {hi}) selects no coordinate of axis {axis!r} "
                f"(its coordinates span {coords.min()} to {coords.max()})"
            )
        sels.append(sel)
    return sels


# ------------------------------------------------------------------ public helpers (aggregate)
_BY_INDEX = ("argmin", "argmax")
_NEEDS_COORDS = frozenset({*_BY_INDEX, "trapezoid"})


def _op_name(operation: Any) -> str:
    """The reduction's name (an AggregationFunction member or its value)."""
    name = getattr(operation, "value", operation)
    if name not in reductions.REDUCTIONS and name != "trapezoid":
        raise ValueError(f"operation: {operation!r} is not a reduction; one of "
                         f"{sorted({*reductions.REDUCTIONS, 'trapezoid'})}")
    return name


def needs_coordinates(operation: Any) -> bool:
    """Whether ``operation`` (one AggregationFunction or an iterable of them) needs the axis'
    coordinates: argmin/argmax (to report a coordinate) and trapezoid (to integrate)."""
    ops = [operation] if isinstance(operation, (str, Enum)) else list(operation)
    return any(getattr(op, "value", op) in _NEEDS_COORDS for op in ops)


def axis_coordinates(message: AxisArray, axis_name: str) -> np.ndarray:
    """Host coordinates of every element along ``axis_name``: a CoordinateAxis' data as they
    are, a LinearAxis evaluated over the message's length (``offset + gain * i``; indices when
    the dim has no axis object). ValueError naming the dim when the message lacks it."""
    n = message.data.shape[axis_index(message, axis_name, "axis_name")]
    ax = message.axes.get(axis_name)
    if ax is not None and not hasattr(ax, "gain"):
        return np.asarray(ax.data)
    return host_coords(message, axis_name, n)[0]


def aggregate_slices(data: Any, slices: Sequence[slice], axis_idx: int, operation: Any, *,
                     coordinates: Any = None, index_to_coordinate: bool = True) -> Any:
    """``operation`` over each of ``slices`` of ``data`` along ``axis_idx``, one output element
    per slice, in order; the output keeps ``data``'s rank, namespace and device.

    ``coordinates`` (host or device, one per element along the axis) are required by
    trapezoid (integrated over them) and by argmin/argmax unless ``index_to_coordinate`` is
    False (then the within-slice index is returned). ValueError when they are missing or do
    not span the axis: a result in samples where coordinates were meant is silently wrong."""
    name = _op_name(operation)
    xp, dev = namespace_and_device(data)
    ax = axis_idx % len(data.shape)
    by_coord = name == "trapezoid" or (name in _BY_INDEX and index_to_coordinate)
    lead = (slice(None),) * ax
    if not len(slices):
        return data[lead + (slice(0, 0), Ellipsis)]
    coords = None
    if by_coord:
        if coordinates is None:
            raise ValueError(f"coordinates: {name} needs the axis coordinates; pass "
                             f"coordinates=...")
        n_coords = coordinates.shape[0] if hasattr(coordinates, "shape") else len(coordinates)
        if len(getattr(coordinates, "shape", (n_coords,))) != 1 or n_coords != data.shape[ax]:
            raise ValueError(f"coordinates: {n_coords} values do not span the {data.shape[ax]} "
                             f"elements of data along axis {axis_idx}")
        fdt = float_dtype_for(xp, data.dtype, dev)
        coords = asarray(xp, coordinates, dtype=fdt, device=dev)
    parts = []
    for sl in slices:
        seg = data[lead + (sl, Ellipsis)]
        if name == "trapezoid":
            parts.append(reductions.trapezoid(xp, seg, ax, x=coords[sl], keepdims=True))
            continue
        r = reductions.reduce(xp, seg, name, ax, keepdims=True)
        if coords is not None:  # index within the slice -> that slice's coordinate
            c = coords[sl]
            r = xp.reshape(xp.take(c, xp.reshape(r, (-1,)), axis=0), tuple(r.shape))
        parts.append(r)
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=ax)
