"""NumPy fast path of ``quantize.to_grid``: the same operations in the same order, in place
on one fresh temporary (``np.clip`` allocates it; the input is never written)."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_grid(x: np.ndarray, lo: float, hi: float, span: float, base: float, out_dtype: Any,
            clamp: tuple[float, Any] | None) -> np.ndarray:
    """See ``quantize.to_grid`` (``x`` already in its float compute dtype)."""
    y = np.clip(x, lo, hi)
    y -= lo
    y /= hi - lo
    if base:
        y *= span
        y += base
    else:
        np.multiply(span, y, out=y)
    np.round(y, out=y)
    if clamp is None:
        return y.astype(out_dtype)
    below, top = clamp
    ints = np.minimum(y, below).astype(out_dtype)
    ints[y > below] = top
    return ints
