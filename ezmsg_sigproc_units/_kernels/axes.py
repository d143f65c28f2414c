"""Moving the streaming axis to the front and flattening the rest into channels, and back.

Streaming kernels work on ``(T, C)``: time first, every other dim flattened into independent
channels. ``to_time_major`` makes that view of an array whose time axis is ``ix``;
``from_time_major`` restores the layout of a ``(T', C, ...)`` result (``T'`` may differ from
``T``: resampled or binned; trailing dims beyond the channels are kept, e.g. a filter bank's
kernels).
"""

from __future__ import annotations

import math
from typing import Any


def to_time_major(xp: Any, x: Any, ix: int) -> tuple[Any, tuple[int, ...]]:
    """``(x2, inner)``: ``x`` as ``(T, prod(inner))`` and the shape of its other dims. A 2-D
    array already time-first is returned as is (no op: JAX pays ~8 us per op)."""
    if ix == 0 and x.ndim == 2:
        return x, tuple(x.shape[1:])
    if ix != 0:
        x = xp.permute_dims(x, (ix, *(i for i in range(x.ndim) if i != ix)))
    inner = tuple(x.shape[1:])
    return xp.reshape(x, (x.shape[0], math.prod(inner))), inner


def from_time_major(xp: Any, y: Any, inner: tuple[int, ...], ix: int) -> Any:
    """``y`` ``(T', C, *extra)`` back to ``inner`` with time at ``ix`` (``extra`` dims stay
    last)."""
    extra = tuple(y.shape[2:])
    if not (ix == 0 and len(inner) == 1):
        y = xp.reshape(y, (y.shape[0], *inner, *extra))
    if ix != 0:
        n = len(inner)
        y = xp.permute_dims(y, (*range(1, ix + 1), 0, *range(ix + 1, n + 1),
                                *range(n + 1, y.ndim)))
    return y
