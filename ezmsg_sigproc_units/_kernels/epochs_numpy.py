"""NumPy spelling of ``epochs.own``: ``ndarray.copy`` is 0.25 us faster than ``x * 1`` on a
(30, 256) float32 chunk (the sampler copies every chunk it keeps)."""

from __future__ import annotations

from typing import Any


def own(x: Any, axis: int, keep: int) -> Any:
    n = x.shape[axis]
    if n > keep:
        x = x[(slice(None),) * axis + (slice(n - keep, n), Ellipsis)]
    return x.copy()
