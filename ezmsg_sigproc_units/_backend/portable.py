"""Copy, flip and dtype sizes on every backend: the spellings differ (MLX's ``asarray`` has no
``copy``; its dtypes give their size as ``.size``; array-api-strict dtypes give none), so
they are answered here, where backends may be named."""

from __future__ import annotations

from typing import Any

import numpy as np

from .namespace import array_namespace, backend_name


def copy(x: Any) -> Any:
    """An independent copy of ``x`` (same namespace, device and dtype)."""
    xp = array_namespace(x)
    if backend_name(xp) == "mlx":
        return xp.array(x)  # MLX's array constructor copies; its asarray takes no copy=
    return xp.asarray(x, copy=True)


def flip(x: Any, axis: int) -> Any:
    """``x`` reversed along ``axis`` (a view where the backend has views, else a copy)."""
    xp = array_namespace(x)
    if backend_name(xp) == "mlx":
        ndim = len(x.shape)
        ix = [slice(None)] * ndim
        ix[axis % ndim if ndim else 0] = slice(None, None, -1)
        return x[tuple(ix)]
    return xp.flip(x, axis=axis)


def numpy_dtype(dtype: Any) -> np.dtype | None:
    """The NumPy dtype with the same name as ``dtype`` (any backend's dtype, a NumPy scalar
    type or a name), or None where NumPy has no such dtype (e.g. bfloat16)."""
    for candidate in (dtype, str(dtype).rsplit(".", 1)[-1]):
        try:
            return np.dtype(candidate)
        except (TypeError, ValueError):
            continue
    return None


def itemsize(dtype: Any) -> int:
    """Bytes per element of ``dtype``; TypeError when it cannot be told."""
    for attr in ("itemsize", "size"):  # NumPy/torch instances; MLX's Dtype has .size
        size = getattr(dtype, attr, None)
        if isinstance(size, int) and not isinstance(size, bool):
            return size
    np_dtype = numpy_dtype(dtype)
    if np_dtype is None:
        raise TypeError(f"cannot determine the byte size of dtype {dtype!r}")
    return int(np_dtype.itemsize)


def is_array(x: Any) -> bool:
    """Whether ``x`` is an array of a backend this package knows (Python and NumPy scalars,
    sequences and other objects are not)."""
    if isinstance(x, (int, float, complex, np.generic, list, tuple)) or x is None:
        return False
    try:
        array_namespace(x)
    except TypeError:
        return False
    return True
