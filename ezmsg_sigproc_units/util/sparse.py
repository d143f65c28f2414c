"""Sliding windows over a pydata/sparse array (the peer's ``util.sparse``).

``sparse`` is imported when a function runs, not with this module. Both functions return the
same array: ``s.shape[:axis] + (n_windows, nwin) + s.shape[axis + 1:]``, the windows axis
inserted before the windowed one, window ``k`` starting at sample ``k * step``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["sliding_win_oneaxis", "sliding_win_oneaxis_old"]


def _check(s: Any, nwin: int, axis: int, step: int) -> int:
    if -s.ndim <= axis < 0:
        axis += s.ndim
    if not 0 <= axis < s.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {s.ndim} dimensions")
    if nwin <= 0:
        raise ValueError(f"nwin must be > 0, got {nwin}")
    if step <= 0:
        raise ValueError(f"step must be > 0, got {step}")
    return axis


def _n_windows(length: int, nwin: int, step: int) -> int:
    return 0 if length < nwin else (length - nwin) // step + 1


def sliding_win_oneaxis(s: Any, nwin: int, axis: int, step: int = 1) -> Any:
    """Windows of ``nwin`` samples every ``step`` samples along ``axis`` of sparse ``s``.

    Built from the coordinates of the nonzeros (each lands in every window that covers it),
    so the cost grows with the number of nonzeros times ``nwin / step``, not with the size
    of the dense array."""
    import sparse

    axis = _check(s, nwin, axis, step)
    n_win = _n_windows(s.shape[axis], nwin, step)
    out_shape = s.shape[:axis] + (n_win, nwin) + s.shape[axis + 1:]
    coo = s.asformat("coo")
    idx = coo.coords[axis].astype(np.int64)
    # windows covering sample i: first = ceil((i - nwin + 1) / step), last = floor(i / step)
    first = np.maximum(-((nwin - 1 - idx) // step), 0)
    last = np.minimum(idx // step, n_win - 1)
    count = np.maximum(last - first + 1, 0)
    total = int(count.sum())
    if total == 0:
        return sparse.zeros(out_shape, dtype=s.dtype)
    src = np.repeat(np.arange(idx.size), count)
    starts = np.cumsum(count) - count
    win = first[src] + (np.arange(total) - starts[src])
    coords = coo.coords[:, src]
    new = np.concatenate([coords[:axis], win[None].astype(coords.dtype),
                          (idx[src] - win * step)[None].astype(coords.dtype),
                          coords[axis + 1:]], axis=0)
    return sparse.COO(new, coo.data[src], shape=out_shape)


def sliding_win_oneaxis_old(s: Any, nwin: int, axis: int, step: int = 1) -> Any:
    """The same windows as :func:`sliding_win_oneaxis`, built by slicing and stacking
    (slower; kept under the peer's name)."""
    import sparse

    axis = _check(s, nwin, axis, step)
    n_win = _n_windows(s.shape[axis], nwin, step)
    if n_win == 0:
        return sparse.zeros(s.shape[:axis] + (0, nwin) + s.shape[axis + 1:], dtype=s.dtype)
    lead = (slice(None),) * axis
    return sparse.stack([s[lead + (slice(k * step, k * step + nwin),)] for k in range(n_win)],
                        axis=axis)
