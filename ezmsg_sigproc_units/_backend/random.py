"""Random numbers generated on the target backend and device with its own RNG.

``DeviceRNG`` wraps each library's generator behind one interface and pickles (so producer
state survives a pickle mid-stream). array-api-strict has no RNG: its numbers come from NumPy
and move to the (virtual) device, which is fine for a test platform and documented.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .creation import asarray
from .namespace import backend_name


class DeviceRNG:
    """A seeded generator that creates arrays directly on ``device`` of namespace ``xp``."""

    def __init__(self, xp: Any, device: Any, seed: int | None = None):
        self.xp = xp
        self.device = device
        self.backend = backend_name(xp)
        self.seed = seed
        self._gen = self._make(seed)

    def _make(self, seed: int | None) -> Any:
        seed = int(np.random.SeedSequence(seed).generate_state(1)[0]) if seed is None else seed
        if self.backend == "torch":
            import torch

            gen = torch.Generator(device=self.device)
            gen.manual_seed(seed)
            return gen
        if self.backend == "jax":
            import jax

            return jax.random.key(seed)
        if self.backend == "mlx":
            import mlx.core as mx

            return mx.random.key(seed)
        if self.backend == "cupy":
            import cupy

            with cupy.cuda.Device(getattr(self.device, "id", 0)):
                return cupy.random.default_rng(seed)
        return np.random.default_rng(seed)

    def normal(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """Standard-normal samples of ``shape`` and ``dtype`` on the RNG's device."""
        shape = tuple(shape)
        if self.backend == "torch":
            import torch

            return torch.randn(shape, generator=self._gen, dtype=dtype, device=self.device)
        if self.backend == "jax":
            import jax

            self._gen, sub = jax.random.split(self._gen)
            return jax.device_put(jax.random.normal(sub, shape, dtype=dtype), self.device)
        if self.backend == "mlx":
            import mlx.core as mx

            self._gen, sub = mx.random.split(self._gen)
            return mx.random.normal(shape, dtype=dtype, key=sub)
        if self.backend == "cupy":
            return self._gen.standard_normal(shape, dtype=dtype)
        host = self._gen.standard_normal(shape)
        return asarray(self.xp, host, dtype=dtype, device=self.device)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self.backend == "torch":
            state["_gen"] = self._gen.get_state()
        state["xp"] = None
        # Device objects of JAX and MLX do not pickle: keep the short name instead.
        from .registry import short_device_name

        keep = self.backend not in ("numpy", "mlx")
        state["device"] = short_device_name(self.device) if keep else None
        return state

    def __setstate__(self, state: dict) -> None:
        from .registry import resolve

        self.__dict__.update(state)
        self.xp, self.device = resolve(self.backend, state["device"])
        if self.backend == "torch":
            import torch

            gen = torch.Generator(device=self.device)
            gen.set_state(state["_gen"])
            self._gen = gen
