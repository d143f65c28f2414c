"""Array creation that always places the result: every helper takes ``dtype`` and ``device``.

These absorb the backend quirks so kernels never branch on a library: MLX has no ``device=``
keyword and no ``empty``; array-api-strict wants tuples for shapes and rejects NumPy scalars.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .namespace import backend_name


def _placement(xp: Any, device: Any) -> dict:
    if backend_name(xp) == "mlx" or device is None:
        return {}
    return {"device": device}


def zeros(xp: Any, shape, *, dtype: Any, device: Any) -> Any:
    return xp.zeros(tuple(shape), dtype=dtype, **_placement(xp, device))


def ones(xp: Any, shape, *, dtype: Any, device: Any) -> Any:
    return xp.ones(tuple(shape), dtype=dtype, **_placement(xp, device))


def full(xp: Any, shape, value: float, *, dtype: Any, device: Any) -> Any:
    return xp.full(tuple(shape), value, dtype=dtype, **_placement(xp, device))


def empty(xp: Any, shape, *, dtype: Any, device: Any) -> Any:
    if backend_name(xp) == "mlx":
        return xp.zeros(tuple(shape), dtype=dtype)
    return xp.empty(tuple(shape), dtype=dtype, **_placement(xp, device))


def arange(xp: Any, start, stop=None, step=1, *, dtype: Any, device: Any) -> Any:
    return xp.arange(start, stop, step, dtype=dtype, **_placement(xp, device))


def eye(xp: Any, n: int, *, dtype: Any, device: Any) -> Any:
    return xp.eye(n, dtype=dtype, **_placement(xp, device))


def asarray(xp: Any, obj: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """``xp.asarray`` with placement; host NumPy data is moved onto ``device`` in one copy."""
    name = backend_name(xp)
    if name == "mlx":
        return xp.array(obj, dtype=dtype) if dtype is not None else xp.array(obj)
    if name == "array_api_strict" and isinstance(obj, np.generic):
        obj = obj.item()
    return xp.asarray(obj, dtype=dtype, **_placement(xp, device))


def scalar(xp: Any, value: float, *, dtype: Any, device: Any) -> Any:
    """A 0-d array (for functions that refuse Python scalars, e.g. ``xp.log(2.0)`` on torch)."""
    return asarray(xp, value, dtype=dtype, device=device)
