"""The backends we test, as data: one enum member per (library, device)."""

from __future__ import annotations

import enum
import importlib.util
from functools import cached_property
from typing import Any

import numpy as np

from .._backend import registry
from .._backend.creation import asarray


class Backend(enum.Enum):
    """A (library, device) pair. ``value`` is the pytest id."""

    NUMPY = "numpy"
    ARRAY_API_STRICT = "strict"
    ARRAY_API_STRICT_DEVICE1 = "strict-device1"
    TORCH = "torch"
    JAX = "jax"
    MLX = "mlx"
    CUPY = "cupy"
    TORCH_CUDA = "torch-cuda"

    @property
    def library(self) -> str:
        return _LIBRARY[self]

    @property
    def device_name(self) -> str | None:
        return _DEVICE[self]

    @property
    def is_gpu(self) -> bool:
        return self in (Backend.CUPY, Backend.TORCH_CUDA)

    def unavailable_reason(self) -> str | None:
        """None when this backend can run here, else why not (for a skip message)."""
        module = self.library
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
        if self is Backend.TORCH_CUDA:
            import torch

            if not torch.cuda.is_available():
                return "no CUDA device"
        if self is Backend.CUPY:
            try:
                import cupy

                cupy.cuda.runtime.getDeviceCount()
            except Exception as exc:  # noqa: BLE001 - any failure means: no usable GPU here
                return f"cupy has no usable GPU ({type(exc).__name__})"
        return None

    @property
    def xp(self) -> Any:
        return self._resolved[0]

    @property
    def device(self) -> Any:
        return self._resolved[1]

    @cached_property
    def _resolved(self) -> tuple[Any, Any]:
        return registry.resolve(self.library, self.device_name)

    def supports_float64(self) -> bool:
        from .._backend.dtypes import supports_float64

        return supports_float64(self.xp, self.device)

    def asarray(self, data: Any, dtype: str | None = None) -> Any:
        """Host data -> this backend's array on its device (``dtype`` by name, e.g. "float32")."""
        host = np.asarray(data)
        if dtype is not None:
            host = host.astype(dtype)
        xp = self.xp
        return asarray(xp, host, dtype=getattr(xp, str(host.dtype)), device=self.device)


_LIBRARY = {
    Backend.NUMPY: "numpy",
    Backend.ARRAY_API_STRICT: "array_api_strict",
    Backend.ARRAY_API_STRICT_DEVICE1: "array_api_strict",
    Backend.TORCH: "torch",
    Backend.JAX: "jax",
    Backend.MLX: "mlx",
    Backend.CUPY: "cupy",
    Backend.TORCH_CUDA: "torch",
}

_DEVICE = {
    Backend.NUMPY: None,
    Backend.ARRAY_API_STRICT: None,
    Backend.ARRAY_API_STRICT_DEVICE1: "device1",
    Backend.TORCH: "cpu",
    Backend.JAX: "cpu",
    Backend.MLX: None,
    Backend.CUPY: None,
    Backend.TORCH_CUDA: "cuda:0",
}

CPU_BACKENDS = tuple(b for b in Backend if not b.is_gpu)
