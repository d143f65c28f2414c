"""Streaming sliding-window buffer.

Shapes: the streaming (time) axis of every array is at ``axis``. The held samples are
``buf[start:stop]`` along ``axis``; fewer than ``W`` stay held between calls, so memory is
bounded on an endless stream. Emitted windows keep the buffer's layout with the time axis
split in two: ``(..., count, W, ...)``, i.e. the window axis is inserted at ``axis`` and the
in-window time axis moves to ``axis + 1``. ``deficit`` counts samples still to be skipped
when the hop ``H`` exceeds the window ``W``.

One streaming step, two implementations with identical results; ``pusher(xp, native)`` is
the one place that chooses:

* ``push``, portable (every Array API backend, JAX and pydata sparse included): ``concat``
  and slices, windows gathered with one ``xp.take`` (a single window is a slice; sparse
  arrays, which have no ``arange`` for the index, stack their slices); nothing is written in
  place.
* ``push_inplace``, native (namespaces whose slices are views, i.e. whose arrays are mutable
  buffers: NumPy, CuPy, torch, array-api-strict): a preallocated buffer of ``2 (W + n)``
  samples (n: the chunk length when it was sized), written with standard ``setitem`` only
  past the samples it holds, so a chunk costs its own size rather than a copy of everything
  held (torch: 1.3 us against 3.7 us for a 10 x 64 chunk onto 490 held samples). A chunk
  that would not fit moves the held samples to a *new* buffer, so a region once written is
  never written again: NumPy windows are therefore read-only views of the buffer (no copy:
  a 500 x 64 float32 window cost ~10 us to copy) that stay valid for as long as anyone holds
  them; the other namespaces, which cannot mark a view read-only, get copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import arange, backend_name, empty, slices_are_copies, zeros
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


def _values(xp: Any) -> bool:
    """Whether ``xp``'s arrays are values, never written in place: JAX and MLX (see
    ``slices_are_copies``) and pydata sparse (COO arrays have no item assignment; a slice of
    one is a new array)."""
    return slices_are_copies(xp) or backend_name(xp) == "sparse"


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
        if not _values(xp):  # a view: the caller's buffer may be written later
            windows = xp.asarray(windows, copy=True)
    elif backend_name(xp) == "sparse":  # no arange for an index: stack the slices
        windows = xp.stack([buf[_sl(axis, k * h, k * h + w)] for k in range(count)], axis=axis)
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
def pusher(xp: Any, native: bool | None = None) -> Any:
    """The streaming step for namespace ``xp``: ``push_inplace`` (native) or ``push``
    (portable). ``native`` None chooses the native step where ``xp``'s slices are views
    (mutable buffers); True where they are not (JAX, MLX) raises ``ValueError``."""
    mutable = not _values(xp)
    if native is None:
        native = mutable
    elif native and not mutable:
        raise ValueError(f"native: the in-place window step needs arrays that are written in "
                         f"place; {backend_name(xp)} arrays are values (use native=False or "
                         f"None)")
    return push_inplace if native else push


def push(xp: Any, buf: Any | None, start: int, stop: int, deficit: int, chunk: Any, w: int,
         h: int, axis: int, device: Any) -> tuple[Any, Any, int, int, int]:
    """Feed ``chunk`` and return ``(windows, buf, start, stop, deficit)`` (portable step).

    ``buf[start:stop]`` (along ``axis``) are the held samples (``buf`` None: none); the
    returned buffer holds exactly its samples (``start == 0``). Nothing is written in place.
    ``windows`` is a fresh array ``(..., count, W, ...)``, or None when ``chunk`` completes
    no window (the caller keeps an empty array for that case).
    """
    n = chunk.shape[axis]
    if deficit:
        drop = min(deficit, n)
        chunk = chunk[_sl(axis, drop, n)]
        n -= drop
        deficit -= drop
    if buf is None:
        buf = xp.concat([chunk], axis=axis)
    else:
        if start or stop != buf.shape[axis]:
            buf = buf[_sl(axis, start, stop)]
        buf = xp.concat([buf, chunk], axis=axis)
    held = stop - start + n
    if held < w:
        return None, buf, 0, held, deficit
    windows, rest, over = take_windows(xp, buf, w, h, axis, device)
    return windows, rest, 0, rest.shape[axis], deficit + over


def push_inplace(xp: Any, buf: Any | None, start: int, stop: int, deficit: int, chunk: Any,
                 w: int, h: int, axis: int, device: Any) -> tuple[Any, Any, int, int, int]:
    """``push`` for mutable buffers (native step): ``buf`` is preallocated and written in
    place past ``stop`` (pass it only a buffer it returned). Never writes into ``chunk``; a
    region of ``buf`` once written is never written again (windows may view it)."""
    n = chunk.shape[axis]
    if deficit:
        drop = min(deficit, n)
        chunk = chunk[_sl(axis, drop, n)]
        n -= drop
        deficit -= drop
    if buf is None or stop + n > buf.shape[axis]:  # a fresh buffer, never a rewind
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
        if axis:
            buf[(slice(None),) * axis + (slice(stop, stop + n), Ellipsis)] = chunk
        else:  # a third faster than building the index tuple
            buf[stop : stop + n, ...] = chunk
        stop += n
    held = stop - start
    if held < w:
        return None, buf, start, stop, deficit
    count = (held - w) // h + 1
    if type(buf) is np.ndarray:  # NumPy: read-only views (the region is never rewritten)
        windows = _numpy_views(buf, start, count, w, h, axis)
    else:
        windows, _, _ = take_windows(xp, buf[_sl(axis, start, stop)], w, h, axis, device)
    start += count * h
    if start > stop:  # a hop longer than the window: skip the gap in later chunks
        deficit += start - stop
        start = stop
    return windows, buf, start, stop, deficit


def _numpy_views(buf: np.ndarray, start: int, count: int, w: int, h: int,
                 axis: int) -> np.ndarray:
    """``count`` windows of ``buf`` from ``start`` as one read-only view."""
    pre = (slice(None),) * axis
    if count == 1:  # a slice with a new axis: a quarter of the time of as_strided
        out = buf[pre + (None, slice(start, start + w))]
        out.flags.writeable = False
        return out
    view = buf[pre + (slice(start, start + (count - 1) * h + w),)]
    st = view.strides
    shape = view.shape[:axis] + (count, w) + view.shape[axis + 1 :]
    strides = st[:axis] + (st[axis] * h, st[axis]) + st[axis + 1 :]
    return np.lib.stride_tricks.as_strided(view, shape, strides, writeable=False)
