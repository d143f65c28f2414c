"""Bounded sample buffers of the two-stream alignment, kept on the data's device.

Shapes: a buffer is an array with the sample axis at ``axis`` (any length, possibly 0) and the
input's other dims; None stands for "no samples yet". Every function returns new arrays
(concat and slice, nothing written in place), so the buffer never aliases a caller's input
and works on immutable arrays (JAX).
"""

from __future__ import annotations

from typing import Any


def span(x: Any, axis: int, start: int | None, stop: int | None) -> Any:
    """Samples ``start:stop`` of ``x`` along ``axis`` (a view where the library has views)."""
    index = [slice(None)] * axis
    index.append(slice(start, stop))
    return x[(*index, Ellipsis)]


def append(xp: Any, buf: Any | None, x: Any, axis: int) -> Any:
    """``buf`` followed by ``x`` along ``axis``, as a new array (a copy of ``x`` when ``buf``
    is None)."""
    return xp.concat([x] if buf is None else [buf, x], axis=axis)


def split(buf: Any, n: int, axis: int) -> tuple[Any, Any]:
    """``(first n samples, the rest)`` of ``buf`` along ``axis``."""
    return span(buf, axis, 0, n), span(buf, axis, n, None)
