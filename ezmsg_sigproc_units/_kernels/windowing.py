"""Streaming sliding-window buffer.

Shapes: the streaming (time) axis of every array is at ``axis``. The buffer holds the samples
not yet consumed by a window (``buf.shape[axis] < W`` between calls, so memory stays bounded on
an endless stream). Emitted windows keep the buffer's layout with the time axis split in two:
``(..., count, W, ...)``, i.e. the window axis is inserted at ``axis`` and the in-window time
axis moves to ``axis + 1``.

Two implementations with identical results:

* portable (every Array API backend, JAX included): ``append`` concatenates, ``take_windows``
  gathers all windows with one ``xp.take`` and an index array cached per
  ``(W, H, count, device)`` (a single window is a slice, copied where slices are views);
  nothing is written in place.
* NumPy (``native("window_push", "numpy")``): a buffer of ``2 (W + n)`` samples (n: the
  chunk length when it was sized), written in place only past the samples it holds. When a
  chunk would not fit, the held samples move to the front of a *new* buffer, so a region
  once written is never written again. Windows are therefore returned as read-only views of
  the buffer (no copy: a 500 x 64 float32 window cost ~10 us to copy); they stay valid for
  as long as anyone holds them.
* torch (``native("window_push", "torch")``): the same preallocated buffer written with
  standard ``setitem``, windows gathered with ``xp.take``.

``deficit`` counts samples still to be skipped when the hop ``H`` exceeds the window ``W``.
"""

from __future__ import annotations

from typing import Any

from .._backend import (
    arange,
    backend_name,
    empty,
    native,
    register_native,
    slices_are_copies,
    zeros,
)
from .reductions import index_dtype

_IDX_CACHE: dict[tuple, Any] = {}
_IDX_CACHE_MAX = 256


def _sl(axis: int, start: int | None, stop: int | None) -> tuple:
    return (slice(None),) * axis + (slice(start, stop), Ellipsis)


def zero_block(xp: Any, like: Any, axis: int, n: int, device: Any) -> Any:
    """Zeros shaped like ``like`` with ``n`` samples along ``axis``, on ``device``."""
    shape = list(like.shape)
    shape[axis] = n
    return zeros(xp, shape, dtype=like.dtype, device=device)


def append(xp: Any, buf: Any | None, chunk: Any, axis: int) -> Any:
    """``buf`` followed by ``chunk`` along ``axis`` (a fresh array; ``buf`` None: a copy)."""
    if buf is None:
        return xp.concat([chunk], axis=axis)
    return xp.concat([buf, chunk], axis=axis)


def window_count(n: int, w: int, h: int) -> int:
    """Number of whole windows of ``w`` samples, hop ``h``, in ``n`` buffered samples."""
    return (n - w) // h + 1 if n >= w else 0


def _index(xp: Any, like: Any, device: Any, w: int, h: int, count: int) -> Any:
    key = (backend_name(xp), str(device), w, h, count)
    idx = _IDX_CACHE.get(key)
    if idx is None:
        dt = index_dtype(xp, like)
        starts = arange(xp, 0, count * h, h, dtype=dt, device=device)
        offs = arange(xp, 0, w, 1, dtype=dt, device=device)
        idx = xp.reshape(starts[:, None] + offs[None, :], (count * w,))
        if len(_IDX_CACHE) >= _IDX_CACHE_MAX:
            _IDX_CACHE.clear()
        _IDX_CACHE[key] = idx
    return idx


def take_windows(xp: Any, buf: Any, w: int, h: int, axis: int,
                 device: Any) -> tuple[Any, Any, int]:
    """``(windows, rest, over)``: every whole window in ``buf`` (``(..., count, W, ...)``, a
    fresh array gathered with one ``xp.take``, or for one window a slice, copied where slices
    are views; None when there is none), the samples the next window still needs, and how
    far beyond the end of ``buf`` the next window starts (> 0 only when ``h > w``)."""
    n = buf.shape[axis]
    count = window_count(n, w, h)
    if count == 0:
        return None, buf, 0
    if count == 1:  # a slice: half the time of a gather (torch 13 us against 31)
        windows = xp.expand_dims(buf[_sl(axis, 0, w)], axis=axis)
        if not slices_are_copies(xp):  # a view: the buffer is written again later
            windows = xp.asarray(windows, copy=True)
    else:
        shape = list(buf.shape)
        shape[axis : axis + 1] = [count, w]
        flat = xp.take(buf, _index(xp, buf, device, w, h, count), axis=axis)
        windows = xp.reshape(flat, tuple(shape))
    used = count * h
    if used >= n:
        return windows, buf[_sl(axis, n, n)], used - n
    return windows, buf[_sl(axis, used, n)], 0


def last_window(xp: Any, buf: Any, w: int, axis: int, device: Any) -> tuple[Any, Any]:
    """``(window, rest)``: the last ``w`` samples of ``buf`` (which holds at least ``w``) as one
    window ``(..., 1, W, ...)`` (a fresh array), and those samples as the new buffer."""
    n = buf.shape[axis]
    rest = buf[_sl(axis, n - w, n)]
    windows, _, _ = take_windows(xp, rest, w, w, axis, device)
    return windows, rest


# ----------------------------------------------------------------------------- streaming step
def push(xp: Any, buf: Any | None, start: int, stop: int, deficit: int, chunk: Any, w: int,
         h: int, axis: int, device: Any) -> tuple[Any, Any, int, int, int]:
    """Feed ``chunk`` and return ``(windows, buf, start, stop, deficit)``.

    ``buf[start:stop]`` (along ``axis``) are the held samples; the portable path keeps
    ``start == 0`` and ``stop == buf.shape[axis]`` and never writes in place. The NumPy path
    owns a preallocated ``buf`` that it writes in place (pass it only the buffer it returned).
    This is the portable implementation; ``pusher(xp)`` gives the one to call. ``windows`` is
    a fresh array ``(..., count, W, ...)``, or None when ``chunk`` completes no window (the
    caller keeps an empty array for that case).
    """
    n = chunk.shape[axis]
    if deficit:
        drop = min(deficit, n)
        chunk = chunk[_sl(axis, drop, n)]
        deficit -= drop
    if buf is not None and start:
        buf = buf[_sl(axis, start, stop)]
    buf = append(xp, buf, chunk, axis)
    windows, rest, over = take_windows(xp, buf, w, h, axis, device)
    return windows, rest, 0, rest.shape[axis], deficit + over


def pusher(xp: Any) -> Any:
    """``push`` for namespace ``xp``: its native implementation where one is registered."""
    return native("window_push", backend_name(xp)) or push


@register_native("window_push", "numpy")
def _np_push(xp: Any, buf: Any, start: int, stop: int, deficit: int, chunk: Any, w: int,
             h: int, axis: int, device: Any) -> tuple[Any, Any, int, int, int]:
    import numpy as np

    n = chunk.shape[axis]
    pre = (slice(None),) * axis
    if deficit:
        drop = min(deficit, n)
        chunk = chunk[pre + (slice(drop, n),)]
        n -= drop
        deficit -= drop
    if buf is None or stop + n > buf.shape[axis]:  # never in place: windows may view it
        held = stop - start
        shape = list(chunk.shape)
        shape[axis] = max(2 * w + 2 * n, held + n)
        new = np.empty(shape, dtype=chunk.dtype)
        if held:
            new[pre + (slice(0, held),)] = buf[pre + (slice(start, stop),)]
        buf, start, stop = new, 0, held
    if n:
        if axis:
            buf[pre + (slice(stop, stop + n),)] = chunk
        else:  # plain slicing is ~0.25 us faster than a tuple index
            buf[stop : stop + n] = chunk
        stop += n
    avail = stop - start
    if avail < w:
        return None, buf, start, stop, deficit
    if avail < w + h:  # exactly one window: a read-only slice with a new axis
        out = buf[pre + (None, slice(start, start + w))]
        out.flags.writeable = False
        start += h
    else:
        count = (avail - w) // h + 1
        view = buf[pre + (slice(start, stop),)]
        st = view.strides
        shape = view.shape[:axis] + (count, w) + view.shape[axis + 1 :]
        strides = st[:axis] + (st[axis] * h, st[axis]) + st[axis + 1 :]
        out = np.lib.stride_tricks.as_strided(view, shape, strides, writeable=False)
        start += count * h
    if start > stop:  # no rewind to 0: the region behind ``stop`` may be viewed
        deficit += start - stop
        start = stop
    return out, buf, start, stop, deficit


@register_native("window_push", "torch")
def _inplace_push(xp: Any, buf: Any, start: int, stop: int, deficit: int, chunk: Any, w: int,
                  h: int, axis: int, device: Any) -> tuple[Any, Any, int, int, int]:
    """``push`` for mutable tensors: a preallocated buffer written with standard ``setitem``,
    so a chunk costs its own size rather than a copy of everything held (``concat``)."""
    n = chunk.shape[axis]
    if deficit:
        drop = min(deficit, n)
        chunk = chunk[_sl(axis, drop, n)]
        n -= drop
        deficit -= drop
    if buf is None or stop + n > buf.shape[axis]:  # a fresh buffer: no overlapping self-copy
        held = stop - start
        shape = list(chunk.shape)
        shape[axis] = max(2 * w + 2 * n, held + n)
        # empty, not zeros: only [start, stop) is ever read, and torch's threaded zero fill
        # of a fresh block took milliseconds on a busy 2-core machine
        new = empty(xp, shape, dtype=chunk.dtype, device=device)
        if held:
            new[_sl(axis, 0, held)] = buf[_sl(axis, start, stop)]
        buf, start, stop = new, 0, held
    if n:
        buf[_sl(axis, stop, stop + n)] = chunk
        stop += n
    windows, _, over = take_windows(xp, buf[_sl(axis, start, stop)], w, h, axis, device)
    if windows is not None:
        start += windows.shape[axis] * h
        if start >= stop:
            deficit += start - stop
            start = stop = 0
    return windows, buf, start, stop, deficit
