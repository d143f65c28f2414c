"""One input's bounded buffer for ``align``: the samples (on the data's device) and their times
(host floats), with the peer's overflow policies.

Times: a LinearAxis stream keeps the time of its first buffered sample (``t0``) and its gain,
and assumes consecutive messages are contiguous (as the peer's buffer does); the time of the
next sample (``t_next``) is extrapolated from the samples received, so every split of a
stream gives the same times. A CoordinateAxis stream keeps its timestamps (host NumPy).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np

from ._kernels import align as _k


@dataclasses.dataclass
class SideBuffer:
    """Buffered samples of one input (picklable)."""

    data: Any = None
    """Samples, the input's layout (None: none yet)."""
    n: int = 0
    """Samples buffered."""
    ix: int = 0
    """Index of the sample axis in the data."""
    t0: float = 0.0
    """LinearAxis: time of the first buffered sample."""
    t_next: float | None = None
    """LinearAxis: time of the sample after the last one received."""
    times: Any = None
    """CoordinateAxis: host timestamps of the buffered samples (None for a LinearAxis)."""
    layout: tuple = ()
    """What the buffer's contents depend on: dims, other lengths, array type, device, dtype."""
    meta: Any = None
    """The last message's metadata (data None), owned copies of its coordinate axes."""
    axes_fp: tuple = ()
    """Fingerprint of the coordinate axes copied into ``meta``."""
    warned: bool = False
    """An overflow warning was given."""
    gapped: bool = False
    """Samples were dropped at the tail ("drop"): the next message starts a new run."""


def head_time(side: SideBuffer) -> float:
    return float(side.times[0]) if side.times is not None else side.t0


def last_time(side: SideBuffer, gain: float) -> float:
    if side.times is not None:
        return float(side.times[side.n - 1])
    return side.t0 + (side.n - 1) * gain


def drop(side: SideBuffer, k: int, gain: float) -> None:
    """Discard the oldest ``k`` samples."""
    k = min(k, side.n)
    if k <= 0:
        return
    _, side.data = _k.split(side.data, k, side.ix)
    side.n -= k
    if side.times is not None:
        side.times = side.times[k:]
    else:
        side.t0 += k * gain


def take(side: SideBuffer, k: int, gain: float) -> tuple[Any, Any]:
    """The oldest ``k`` samples and their times (a float: the first's; or an array), removed."""
    head, side.data = _k.split(side.data, k, side.ix)
    if side.times is not None:
        t, side.times = side.times[:k].copy(), side.times[k:]
    else:
        t = side.t0
        side.t0 += k * gain
    side.n -= k
    return head, t


def write(xp: Any, side: SideBuffer, x: Any, times: Any, offset: float | None, gain: float,
          capacity: int, strategy: str, max_size: int, itemsize: int) -> bool:
    """Append the samples ``x`` (``times``: their timestamps, or None with ``offset``: the
    first one's time on a LinearAxis), applying the overflow policy past ``capacity``. True
    when buffered samples were discarded (the streams must be aligned again)."""
    m = x.shape[side.ix]
    if m == 0:
        return False
    moved = False
    if times is None:
        if side.t_next is None or abs(offset - side.t_next) > abs(gain) / 2:
            side.t_next = offset  # a new stream, or a jump: trust the message's clock
            if side.n:
                side.data, side.n, moved = None, 0, True  # the buffered run ends before the jump
        t_first = side.t_next
        side.t_next += m * gain
    if side.gapped:  # "drop" discarded samples after the buffered run: wait until it is read
        if side.n:
            return moved
        side.gapped, moved = False, True
    if times is None and side.n == 0:
        side.t0 = t_first
    per_sample = itemsize * math.prod(x.shape) // m
    total = side.n + m
    if total > capacity:
        if strategy == "raise":
            raise OverflowError(f"buffer_dur: {total} samples awaiting alignment exceed the "
                                f"buffer's {capacity}; the other input is late or missing")
        if strategy == "grow":
            if total * per_sample > max_size:
                raise OverflowError(f"max_size: {total} samples ({total * per_sample} bytes) "
                                    f"awaiting alignment exceed {max_size} bytes")
        elif strategy == "drop":
            keep = max(capacity - side.n, 0)
            _warn(side, f"dropped the {m - keep} newest samples")
            x = _k.span(x, side.ix, 0, keep)
            times = None if times is None else times[:keep]
            side.gapped = keep < m
            m = keep
        else:  # warn-overwrite
            _warn(side, f"overwrote the {total - capacity} oldest samples")
    if m:
        side.data = _k.append(xp, side.data if side.n else None, x, side.ix)
        if times is not None:
            side.times = times.copy() if not side.n else np.concatenate([side.times, times])
        side.n += m
    if strategy == "warn-overwrite" and side.n > capacity:
        drop(side, side.n - capacity, gain)
        moved = True
    return moved


def _warn(side: SideBuffer, what: str) -> None:
    if not side.warned:
        side.warned = True
        warnings.warn(f"align: buffer overflow, {what} (buffer_dur too short, or the other "
                      f"input is late)", RuntimeWarning, stacklevel=4)
