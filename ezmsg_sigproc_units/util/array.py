"""Portable array helpers with the names ezmsg-sigproc users know.

Thin re-exports of the internal backend layer; use them in your own transformers so they
keep data on the input's namespace and device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._backend import (
    array_namespace,
    backend_name,
    default_float,
    device_of,
    from_host,
    is_complex_dtype,
    is_float_dtype,
    materialize,
    namespace_and_device,
    to_host,
)
from .._backend import asarray as _asarray
from .._backend import empty as _empty
from .._backend.namespace import _lookup
from .._backend.portable import copy as _copy
from .._backend.portable import flip as _flip
from .._backend.portable import itemsize as _itemsize
from .._backend.portable import numpy_dtype as _numpy_dtype


def array_device(x: Any) -> Any:
    """The device of ``x``, or None for objects that are not arrays."""
    try:
        _lookup(x)
    except TypeError:
        return None
    return device_of(x)


def xp_create(fn: Callable[..., Any], *args: Any, dtype: Any = None, device: Any = None,
              **extra: Any) -> Any:
    """Call a creation function (``xp.zeros``, ``xp.eye`` ...) with dtype and device, dropping
    the keywords a backend does not accept (MLX takes no ``device``)."""
    kwargs = dict(extra)
    if dtype is not None:
        kwargs["dtype"] = dtype
    if device is not None and not getattr(fn, "__module__", "").startswith("mlx"):
        kwargs["device"] = device
    return fn(*args, **kwargs)


def xp_asarray(xp: Any, obj: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """``xp.asarray`` with dtype and device, on every backend."""
    return _asarray(xp, obj, dtype=dtype, device=device)


def xp_empty(xp: Any, shape: tuple[int, ...], *, dtype: Any = None, device: Any = None) -> Any:
    """An uninitialised array (zeros where the backend has no ``empty``)."""
    return _empty(xp, shape, dtype=dtype if dtype is not None else default_float(xp, device),
                  device=device)


def xp_copy(arr: Any) -> Any:
    """An independent copy of ``arr`` on its namespace and device, in its dtype. Use it to
    keep a slice of a large array without keeping the whole array alive."""
    return _copy(arr)


def xp_flip(arr: Any, axis: int) -> Any:
    """``arr`` reversed along ``axis`` (negative axes count from the end), on every backend."""
    return _flip(arr, axis)


def xp_itemsize(dtype: Any) -> int:
    """Bytes per element of ``dtype``: any backend's dtype, a NumPy scalar type or a name.
    Raises TypeError for an object that names no dtype."""
    return _itemsize(dtype)


def np_finfo(dtype: Any) -> np.finfo | None:
    """``numpy.finfo`` of the float (or complex) dtype of the same name as ``dtype``, from any
    backend, so that every limit (``eps``, ``tiny``, ``smallest_normal`` ...) is available
    whatever the backend's own ``finfo`` carries. None where NumPy has no such dtype (e.g.
    bfloat16) or it is not a float dtype: skip the limit-dependent step then."""
    np_dtype = _numpy_dtype(dtype)
    if np_dtype is None or np_dtype.kind not in "fc":
        return None
    return np.finfo(np_dtype)


__all__ = [
    "array_device",
    "array_namespace",
    "backend_name",
    "from_host",
    "is_complex_dtype",
    "is_float_dtype",
    "materialize",
    "namespace_and_device",
    "np_finfo",
    "to_host",
    "xp_asarray",
    "xp_copy",
    "xp_create",
    "xp_empty",
    "xp_flip",
    "xp_itemsize",
]
