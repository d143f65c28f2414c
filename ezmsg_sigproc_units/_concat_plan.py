"""Per-input metadata checks of ``concat``: the attrs digest, and the identity check of the
NumPy fast path (the same metadata objects as the last pair).
Host metadata only; runs on every message, so each check is a few attribute reads. Also the
backend check of the two inputs' data."""

from __future__ import annotations

from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import array_namespace, asarray, device_of, is_numpy_namespace


def layout(msg: AxisArray, sd: str | None) -> tuple:
    """What ``same_layout`` compares: the metadata objects of ``msg`` but the stream axis'."""
    dims, shape, axes = msg.dims, msg.data.shape, msg.axes
    si = dims.index(sd) if sd in dims else None
    return (list(dims), msg.stream_dim, len(axes),
            tuple((n, ax) for n, ax in axes.items() if n != sd), sd,
            getattr(axes.get(sd), "gain", None), msg.attrs or None, si,
            shape if si is None else shape[:si] + shape[si + 1:])


def same_layout(msg: AxisArray, q: tuple) -> bool:
    """``msg`` has the same dims, metadata objects (by identity), stream-axis gain, attrs and
    non-stream lengths as the message ``q`` was taken from."""
    axes = msg.axes
    if msg.dims != q[0] or msg.stream_dim != q[1] or len(axes) != q[2]:
        return False
    for name, obj in q[3]:
        if axes.get(name) is not obj:
            return False
    if q[4] is not None and getattr(axes.get(q[4]), "gain", None) != q[5]:
        return False
    if (msg.attrs or None) is not q[6]:
        return False
    shape, si = msg.data.shape, q[7]
    if si == 0:
        return shape[1:] == q[8]
    return (shape if si is None else shape[:si] + shape[si + 1:]) == q[8]


def same_pair(a: AxisArray, b: AxisArray, plan: tuple) -> bool:
    """Both inputs NumPy arrays of one dtype with the last pair's layout (``same_layout``) and
    equal stream lengths: the fast path applies."""
    xa, xb = a.data, b.data
    if type(xa) is not np.ndarray or type(xb) is not np.ndarray or (
            xa.dtype is not xb.dtype and xa.dtype != xb.dtype):
        return False
    if not (same_layout(a, plan[1]) and same_layout(b, plan[2])):
        return False
    return plan[3] is None or xa.shape[plan[3]] == xb.shape[plan[4]]


def attrs_digest(attrs: dict | None) -> frozenset:
    items = (attrs or {}).items()
    try:
        return frozenset((k, type(v).__name__, v) for k, v in items)
    except TypeError:  # unhashable values: split_attrs refuses them with a clear message
        return frozenset((k, type(v).__name__, repr(v)) for k, v in items)


def same_backend(xa: Any, xb: Any, coerce: bool) -> tuple:
    """``(xa, xb)`` in A's namespace and on its device: B moved when ``coerce``, else a
    mismatch raises (``ValueError`` for devices, ``TypeError`` for array libraries)."""
    if type(xa) is type(xb):
        if type(xa) is np.ndarray or str(device_of(xa)) == str(device_of(xb)):
            return xa, xb
        if not coerce:
            raise ValueError(f"inputs on different devices: A on {device_of(xa)}, B on "
                             f"{device_of(xb)}; move one upstream or set "
                             f"auto_coerce_backend=True")
    elif array_namespace(xa) is not array_namespace(xb):
        if not coerce:
            raise TypeError(f"inputs of different array libraries: A is "
                            f"{type(xa).__module__}.{type(xa).__name__}, B is "
                            f"{type(xb).__module__}.{type(xb).__name__}; convert one "
                            f"upstream (asarray.AsArray) or set auto_coerce_backend=True")
    xp = array_namespace(xa)
    if is_numpy_namespace(xp):
        return xa, np.asarray(xb)
    return xa, asarray(xp, xb, device=device_of(xa))
