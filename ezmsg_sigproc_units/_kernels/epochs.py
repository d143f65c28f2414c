"""Bounded history of a stream kept as a list of owned chunks, and epochs cut from it.

The history is a list of device arrays (the chunks as they arrived, each an independent copy),
all with the same shape except along ``axis``. Only shapes and Python integers decide what is
kept or cut; no value of the data is read on the host.
"""

from __future__ import annotations

from typing import Any

from .._backend import is_numpy_namespace
from . import epochs_numpy


def _take(x: Any, axis: int, start: int, stop: int) -> Any:
    return x[(slice(None),) * axis + (slice(start, stop), Ellipsis)]


def own(xp: Any, x: Any, axis: int, keep: int) -> Any:
    """A fresh array of the last ``keep`` samples of ``x`` along ``axis`` (all of them when
    ``x`` has fewer), never a view of ``x``: NumPy inputs may be views into reused memory.
    ``* 1`` allocates on every backend and keeps NaN, inf and -0.0 as they are."""
    if is_numpy_namespace(xp):
        return epochs_numpy.own(x, axis, keep)
    n = x.shape[axis]
    if n > keep:
        x = _take(x, axis, n - keep, n)
    return x * 1


def trim(chunks: list[Any], lengths: list[int], axis: int, excess: int) -> int:
    """Drop whole leading chunks while they lie entirely within the first ``excess`` samples;
    ``chunks`` and ``lengths`` are edited in place. Returns the number of samples dropped."""
    dropped = 0
    while chunks and dropped + lengths[0] <= excess:
        dropped += lengths.pop(0)
        chunks.pop(0)
    return dropped


def cut(xp: Any, chunks: list[Any], lengths: list[int], axis: int, start: int,
        stop: int) -> Any:
    """Samples ``start:stop`` (0 = the first sample of ``chunks[0]``) of the history as one new
    array (a copy: the history stays private). The caller guarantees
    ``0 <= start <= stop <= sum(lengths)`` and at least one chunk."""
    parts = []
    pos = 0
    for chunk, n in zip(chunks, lengths, strict=True):
        lo, hi = max(start - pos, 0), min(stop - pos, n)
        if lo < hi:
            parts.append(_take(chunk, axis, lo, hi))
        pos += n
        if pos >= stop:
            break
    if not parts:
        return _take(chunks[0], axis, 0, 0) * 1
    return xp.concat(parts, axis=axis) if len(parts) > 1 else parts[0] * 1
