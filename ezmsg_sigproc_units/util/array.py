"""Portable array helpers with the names ezmsg-sigproc users know.

Thin re-exports of the internal backend layer; use them in your own transformers so they
keep data on the input's namespace and device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


__all__ = [
    "array_device",
    "array_namespace",
    "backend_name",
    "from_host",
    "is_complex_dtype",
    "is_float_dtype",
    "materialize",
    "namespace_and_device",
    "to_host",
    "xp_asarray",
    "xp_create",
    "xp_empty",
]
