"""Streaming first difference along one axis.

Shapes: ``x`` is any array with the streaming axis at ``axis`` (length ``n``, may be 0). The
state ``prev`` is the last sample seen, ``x``'s shape with length 1 at ``axis`` (or None before
the first sample). Output ``y`` has ``x``'s shape: ``y[t] = x[t] - x[t-1]`` with
``x[-1] = prev``, and ``x[-1] = x[0]`` (so ``y[0] = 0``) when there is no previous sample.
No function writes into its inputs.
"""

from __future__ import annotations

from typing import Any

from .elementwise import as_float


def _take(x: Any, axis: int, start: int, stop: int) -> Any:
    return x[(slice(None),) * axis + (slice(start, stop), Ellipsis)]


def diff_with_prev(
    xp: Any, x: Any, prev: Any | None, axis: int, denom: Any = None
) -> tuple[Any, Any | None]:
    """``(y, new_prev)``: the first difference of ``x`` along ``axis`` continued from ``prev``,
    divided by ``denom`` when given (a Python float, e.g. the sample period, or an array
    broadcastable to ``x``, e.g. per-sample time steps).

    Integer input is computed in the default float (``elementwise.as_float``). An empty ``x``
    gives an empty ``y`` and leaves ``prev`` as it was. ``new_prev`` is a fresh array (never a
    view of ``x``: NumPy inputs may be views into reused shared memory).
    """
    x = as_float(xp, x)
    n = x.shape[axis]
    if n == 0:
        return x, prev
    head = _take(x, axis, 0, 1) if prev is None else prev
    shifted = xp.concat([head, _take(x, axis, 0, n - 1)], axis=axis)
    y = x - shifted
    if denom is not None:
        y = y / denom
    # `* 1.0` allocates a new array on every backend (keeps -0.0, NaN and inf as they are).
    return y, _take(x, axis, n - 1, n) * 1.0
