"""Layout shared by the line-noise family (``adaptive_lattice_notch``, ``adaptive_lnc``):
their kernels take ``(time, channels)``; every other dim is flattened into channels."""

from __future__ import annotations

import math
from typing import Any

from ._backend import float_dtype_for
from ._messages import axis_index


def time_channels(xp: Any, dev: Any, message: Any, axis: str, dtype: Any) -> tuple:
    """``(x2, layout)``: the message's data as ``(T, C)`` in the compute ``dtype`` (time
    first), and what ``restore`` needs to undo it."""
    ix = axis_index(message, axis)
    x = message.data
    t = x if ix == 0 else xp.moveaxis(x, ix, 0)
    x2 = xp.astype(xp.reshape(t, (t.shape[0], math.prod(t.shape[1:]))), dtype)
    return x2, (ix, tuple(t.shape), float_dtype_for(xp, x.dtype, dev))


def restore(xp: Any, y: Any, layout: tuple) -> Any:
    """``y`` ``(T, C)`` back in the input's layout and float dtype."""
    ix, shape, out_dtype = layout
    y = xp.reshape(xp.astype(y, out_dtype), shape)
    return y if ix == 0 else xp.moveaxis(y, 0, ix)
