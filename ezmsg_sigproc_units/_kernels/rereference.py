"""Common rereferencing along a channel axis: subtract the mean or median of each group.

Shapes: ``x`` is any float array whose channel axis is ``axis`` (length ``n``); every output
has ``x``'s shape, namespace, device and dtype. Groups are disjoint; channels in no group
keep their values. The mean
kernels take ``scale``, a Python float or an array broadcastable to the data (one value per
channel): the leave-one-out gain ``k / (k - 1)`` of a group of ``k``
(``x_i - mean(x_j, j != i) == (x_i - mean(x)) * k / (k - 1)``), 1.0 for the plain reference.
The median has no such identity: leaving a channel out takes the median of the others.
Stateless; nothing is written into an input.
"""

from __future__ import annotations

from typing import Any

from .._backend import is_numpy_namespace
from . import reductions, rereference_numpy
from .affine import _to_last


def _scaled(y: Any, scale: Any) -> Any:
    if isinstance(scale, float) and scale == 1.0:
        return y
    return y * scale


def mean_all(xp: Any, x: Any, axis: int, scale: Any) -> Any:
    """One group of every channel: ``(x - mean(x, axis)) * scale``."""
    if is_numpy_namespace(xp):
        return rereference_numpy.mean_all(x, axis, scale)
    return _scaled(x - xp.mean(x, axis=axis, keepdims=True), scale)


def mean_grouped(xp: Any, x: Any, axis: int, project: Any, spread: Any, scale: Any) -> Any:
    """Per-group means by two thin products: ``x - (x @ project) @ spread``.

    ``project``: ``(n, g)``, ``1/k`` where channel ``i`` is in group ``j`` of ``k``, else 0.
    ``spread``: ``(g, n)``, 1 where channel ``i`` is in group ``j``, else 0 (ungrouped
    channels get a zero reference). ``scale`` here broadcasts with channels last (a float
    or an ``(n,)`` array, 1.0 on ungrouped channels)."""
    y, back = _to_last(xp, x, axis)
    y = _scaled(y - (y @ project) @ spread, scale)
    return y if back is None else xp.permute_dims(y, back)


def _take(x: Any, axis: int, k: int) -> Any:
    return x[(slice(None),) * axis + (slice(k, k + 1), Ellipsis)]


def _median_of_others(xp: Any, x: Any, axis: int) -> Any:
    """For each channel, the median of the *other* channels along ``axis`` (``k >= 2``).

    From the sorted values ``s``, the ``j``-th of the others is ``s[j]`` where the channel
    lies above ``s[j]``, else ``s[j + 1]`` (ties give equal values either way)."""
    k = x.shape[axis]
    s = xp.sort(x, axis=axis)

    def other(j: int) -> Any:
        sj = _take(s, axis, j)
        return xp.where(x > sj, sj, _take(s, axis, j + 1))

    if k % 2 == 0:  # an odd number of others: the middle one
        return other((k - 2) // 2)
    h = (k - 1) // 2
    return (other(h - 1) + other(h)) * 0.5


def median_all(xp: Any, x: Any, axis: int, include_current: bool) -> Any:
    """One group of every channel: ``x`` minus the median of all channels along ``axis``, or
    (``include_current=False``) of the other channels."""
    if include_current:
        return x - reductions.median(xp, x, axis, keepdims=True)
    return x - _median_of_others(xp, x, axis)


def median_grouped(xp: Any, x: Any, axis: int, groups: list[Any], rest: Any, unorder: Any,
                   include_current: bool) -> Any:
    """Per-group :func:`median_all`, without writing into any array (JAX-safe).

    ``groups``: one index array per group; ``rest``: index array of the channels in no group
    (None: every channel is in a group); ``unorder``: the index array that puts the channels,
    gathered group by group and then ``rest``, back in their order."""
    parts = [median_all(xp, xp.take(x, g, axis=axis), axis, include_current) for g in groups]
    if rest is not None:
        parts.append(xp.take(x, rest, axis=axis))
    return xp.take(xp.concat(parts, axis=axis), unorder, axis=axis)
