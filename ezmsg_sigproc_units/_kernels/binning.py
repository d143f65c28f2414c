"""Reductions over consecutive bins of one width along an axis, in one call."""

from __future__ import annotations

from typing import Any

from . import reductions


def reduce_equal_bins(xp: Any, x: Any, axis: int, start: int, n_bins: int, width: int,
                      op: str) -> Any:
    """``op`` (a key of ``reductions.REDUCTIONS``) over bins ``x[start + i*width : start +
    (i+1)*width]`` along ``axis`` for ``i < n_bins``: ``x``'s shape with ``n_bins`` at
    ``axis``. The bins are one reshape of the span, so one reduction serves them all."""
    lead = (slice(None),) * axis
    seg = x[lead + (slice(start, start + n_bins * width), Ellipsis)]
    shape = tuple(seg.shape[:axis]) + (n_bins, width) + tuple(seg.shape[axis + 1:])
    return reductions.reduce(xp, xp.reshape(seg, shape), op, axis + 1)
