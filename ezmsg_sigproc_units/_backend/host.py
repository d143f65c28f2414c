"""The one explicit home of host transfer, and MLX materialisation.

``to_host`` is the only sanctioned way to bring device data to NumPy. Processors may use it
while building state, never in ``_process``; the test suite patches it to prove that.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .creation import asarray
from .namespace import backend_name


def to_host(x: Any) -> np.ndarray:
    """A NumPy copy (or view, for NumPy input) of ``x``, from any backend or device."""
    if type(x) is np.ndarray:
        return x
    name = backend_name(x)
    if name == "torch":
        return x.detach().cpu().numpy()
    if name == "cupy":
        return x.get()
    if name == "array_api_strict":
        import array_api_strict as xps

        return np.asarray(x.to_device(xps.Device("CPU_DEVICE")))
    return np.asarray(x)


def from_host(arr: Any, xp: Any, device: Any, dtype: Any = None) -> Any:
    """Move host (NumPy or Python) data onto ``xp``/``device`` once, optionally casting."""
    return asarray(xp, arr, dtype=dtype, device=device)


def materialize(x: Any, mode: str = "sync") -> Any:
    """Force lazy backends (MLX) to compute ``x``; other arrays pass through.

    ``mode``: "sync" waits for the result, "async" schedules it (MLX ``async_eval``) so the
    caller can go on, "off" does nothing."""
    if mode != "off" and type(x) is not np.ndarray and backend_name(x) == "mlx":
        import mlx.core as mx

        if mode == "async" and hasattr(mx, "async_eval"):
            mx.async_eval(x)
        else:
            mx.eval(x)
    return x
