"""Host coordinates of a message's axis, and the coordinate bands that select from them.

Host metadata only (NumPy float64, never the data): the aggregate stage computes these when
the layout changes and moves what it needs to the data's device once.
"""

from __future__ import annotations

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray


def host_coords(msg: AxisArray, axis: str, n: int) -> tuple[np.ndarray, str]:
    """(float64 coordinates of ``axis``, unit): LinearAxis gain/offset, CoordinateAxis data,
    or the indices when the message has no axis object."""
    ax = msg.axes.get(axis)
    if ax is None:
        return np.arange(n, dtype=np.float64), ""
    if hasattr(ax, "gain"):
        return ax.offset + ax.gain * np.arange(n, dtype=np.float64), ax.unit
    data = np.asarray(ax.data)
    if data.shape != (n,) or not np.issubdtype(data.dtype, np.number):
        raise ValueError(
            f"axis: coordinates of {axis!r} must be {n} numbers to locate extrema or bands; "
            f"got shape {data.shape} of {data.dtype}"
        )
    return data.astype(np.float64), ax.unit


def select_bands(coords: np.ndarray, bands: list, axis: str) -> list[np.ndarray]:
    """Indices of ``coords`` inside each ``(lo, hi)`` band (edges included); a band that
    selects nothing raises ``ValueError`` (unless the axis itself is empty)."""
    sels = []
    for i, (lo, hi) in enumerate(bands):
        sel = np.flatnonzero((coords >= lo) & (coords <= hi))
        if sel.size == 0 and coords.size:
            raise ValueError(
                f"bands: band {i} ({lo}, {hi}) selects no coordinate of axis {axis!r} "
                f"(its coordinates span {coords.min()} to {coords.max()})"
            )
        sels.append(sel)
    return sels
