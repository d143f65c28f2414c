"""Named backends: turn ``backend="torch", device="cuda:0"`` settings into (xp, device).

Used where the data cannot decide: producers that create a stream, and ``AsArrayTransformer``
at a pipeline boundary. Libraries are imported lazily, on first use.
"""

from __future__ import annotations

import importlib.util
from typing import Any

BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "mlx", "cupy")

_MODULE = {
    "numpy": "numpy",
    "array_api_strict": "array_api_strict",
    "torch": "torch",
    "jax": "jax",
    "mlx": "mlx",
    "cupy": "cupy",
}


def installed_backends() -> tuple[str, ...]:
    """Backends whose library can be imported here (no import is done)."""
    return tuple(b for b in BACKENDS if importlib.util.find_spec(_MODULE[b]) is not None)


def check_backend_name(name: str, field: str = "backend") -> str:
    """Validate a backend name at construction; ``ValueError`` lists the valid ones."""
    if name not in BACKENDS:
        raise ValueError(f"{field}: unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return name


def _namespace(name: str) -> Any:
    check_backend_name(name)
    if importlib.util.find_spec(_MODULE[name]) is None:
        raise ValueError(
            f"backend: {name!r} is not installed here; installed: {', '.join(installed_backends())}"
        )
    if name == "numpy":
        import array_api_compat.numpy as xp
    elif name == "torch":
        import array_api_compat.torch as xp
    elif name == "cupy":
        import array_api_compat.cupy as xp
    elif name == "jax":
        import jax.numpy as xp
    elif name == "mlx":
        import mlx.core as xp
    else:
        import array_api_strict as xp
    return xp


def _devices(name: str, xp: Any) -> list[Any]:
    if name == "mlx":
        return [xp.default_device()]
    if name == "torch":
        import torch

        devs = ["cpu"]
        if torch.cuda.is_available():
            devs += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        return devs
    if name == "numpy":
        return ["cpu"]
    if name == "jax":
        import jax

        return list(jax.devices())
    return list(xp.__array_namespace_info__().devices())


def resolve(name: str, device: Any = None) -> tuple[Any, Any]:
    """``(xp, device object)`` for a backend name and an optional device (None = default).

    Raises ``ValueError`` naming what is available when the backend or device is not.
    """
    xp = _namespace(name)
    if device is None:
        if name == "numpy":
            return xp, "cpu"
        if name == "mlx":
            return xp, xp.default_device()
        if name == "jax":
            return xp, _devices(name, xp)[0]
        return xp, xp.__array_namespace_info__().default_device()
    avail = _devices(name, xp)
    wanted = str(device)
    for dev in avail:
        short = short_device_name(dev)
        if wanted in (str(dev), repr(dev), short) or short == f"{wanted}:0":
            if name == "torch":
                import torch

                return xp, torch.device(wanted)
            return xp, dev
    raise ValueError(
        f"device: {device!r} is not available for backend {name!r}; available: "
        f"{', '.join(short_device_name(d) for d in avail)}"
    )


def short_device_name(dev: Any) -> str:
    """``Device('device1')`` -> ``device1``; ``Device(cpu, 0)`` -> ``cpu``; else ``str``."""
    text = str(dev)
    if text.startswith("array_api_strict.Device("):
        return text.split("'")[1]
    if text.startswith("Device(") and "," in text:
        return text[len("Device("):].split(",")[0]
    platform = getattr(dev, "platform", None)
    if isinstance(platform, str):
        return f"{platform}:{dev.id}"
    return text
