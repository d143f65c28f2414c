"""What every clock-driven source shares: validation of the sampling and placement settings,
resolving ``(xp, device, dtype)`` once, and the channel axis.

Host metadata only; no sample data is touched here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ezmsg.baseproc import ClockDrivenSettings
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from .. import _backend
from .._validate import check_count, check_real

FLOAT_DTYPES = ("float32", "float64")


class SourceSettings(ClockDrivenSettings):
    """Sampling (``fs``, ``n_time``) plus where and how a source generates its samples."""

    backend: str = "numpy"
    """Array library to generate with: numpy, array_api_strict, torch, jax, mlx or cupy.
    Default "numpy"."""

    device: str | None = None
    """Device name for ``backend`` (e.g. "cpu", "cuda:0", "device1"); None is the backend's
    default device. Default None."""

    dtype: str = "float32"
    """Output float dtype, "float32" or "float64". Default "float32"."""


def check_source_settings(s: Any) -> None:
    """Validate the fields every source has: fs, n_time, backend, device, dtype."""
    check_real("fs", s.fs)
    if s.fs <= 0:
        raise ValueError(f"fs: must be > 0 Hz, got {s.fs!r}")
    if s.n_time is not None:
        check_count("n_time", s.n_time)
    _backend.check_backend_name(s.backend)
    if s.device is not None and not isinstance(s.device, str):
        raise ValueError(f"device: must be a device name string or None, got {s.device!r}")
    if s.dtype not in FLOAT_DTYPES:
        raise ValueError(f"dtype: must be one of {', '.join(FLOAT_DTYPES)}, got {s.dtype!r}")


def resolve_target(s: Any) -> tuple[Any, Any, Any]:
    """``(xp, device, dtype)`` for a source's settings; ``ValueError`` says what is available."""
    xp, device = _backend.resolve(s.backend, s.device)
    if s.dtype == "float64" and not _backend.supports_float64(xp, device):
        raise ValueError(
            f"dtype: float64 is not available for backend {s.backend!r} on {device} "
            "(for JAX enable jax_enable_x64); use dtype='float32'"
        )
    return xp, device, _backend.dtype_from_name(xp, s.dtype)


def channel_axis(n_ch: int) -> CoordinateAxis:
    """A ``ch`` axis labelled ``ch0 .. ch{n-1}`` (build once per stream and reuse)."""
    return CoordinateAxis(data=np.array([f"ch{i}" for i in range(n_ch)]), dims=["ch"],
                          unit="label")


def block(data: Any, time_axis: LinearAxis, ch: CoordinateAxis, key: str) -> AxisArray:
    """A source's output message: ``(time, ch)`` data, materialised (MLX), streaming on time."""
    return AxisArray(_backend.materialize(data), dims=["time", "ch"],
                     axes={"time": time_axis, "ch": ch}, key=key, stream_dim="time")
