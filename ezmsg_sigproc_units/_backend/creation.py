"""Array creation that always places the result: every helper takes ``dtype`` and ``device``.

These absorb the backend quirks so kernels never branch on a library: MLX has no ``device=``
keyword and no ``empty``; array-api-strict wants tuples for shapes and rejects NumPy scalars.
JAX's own ``device=`` keyword costs 100-300 us per call on CPU (a placement round trip even
onto the default device), so JAX arrays are made on the default device and moved only when
``device`` is another one (~1 us).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .namespace import backend_name


def _placement(xp: Any, device: Any) -> dict:
    if device is None or backend_name(xp) in ("mlx", "jax"):
        return {}
    return {"device": device}


def _placed(xp: Any, y: Any, device: Any) -> Any:
    """JAX: ``y`` (made on the default device) on ``device``; other backends, and JAX while
    tracing (where the compiled function decides placement): ``y``."""
    if device is None or backend_name(xp) != "jax":
        return y
    import jax

    if isinstance(y, jax.core.Tracer) or device in y.devices():
        return y
    return jax.device_put(y, device)


def zeros(xp: Any, shape, *, dtype: Any, device: Any) -> Any:
    return _placed(xp, xp.zeros(tuple(shape), dtype=dtype, **_placement(xp, device)), device)


def ones(xp: Any, shape, *, dtype: Any, device: Any) -> Any:
    return _placed(xp, xp.ones(tuple(shape), dtype=dtype, **_placement(xp, device)), device)


def full(xp: Any, shape, value: float, *, dtype: Any, device: Any) -> Any:
    return _placed(xp, xp.full(tuple(shape), value, dtype=dtype, **_placement(xp, device)),
                   device)


def empty(xp: Any, shape, *, dtype: Any, device: Any) -> Any:
    if backend_name(xp) == "mlx":
        return xp.zeros(tuple(shape), dtype=dtype)
    return _placed(xp, xp.empty(tuple(shape), dtype=dtype, **_placement(xp, device)), device)


def arange(xp: Any, start, stop=None, step=1, *, dtype: Any, device: Any) -> Any:
    return _placed(xp, xp.arange(start, stop, step, dtype=dtype, **_placement(xp, device)),
                   device)


def eye(xp: Any, n: int, *, dtype: Any, device: Any) -> Any:
    return xp.eye(n, dtype=dtype, **_placement(xp, device))


def asarray(xp: Any, obj: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """``xp.asarray`` with placement; host NumPy data is moved onto ``device`` in one copy."""
    name = backend_name(xp)
    if name == "mlx":
        return xp.array(obj, dtype=dtype) if dtype is not None else xp.array(obj)
    if name == "array_api_strict" and isinstance(obj, np.generic):
        obj = obj.item()
    return _placed(xp, xp.asarray(obj, dtype=dtype, **_placement(xp, device)), device)


def scalar(xp: Any, value: float, *, dtype: Any, device: Any) -> Any:
    """A 0-d array (for functions that refuse Python scalars, e.g. ``xp.log(2.0)`` on torch)."""
    return asarray(xp, value, dtype=dtype, device=device)
