"""Namespace and device detection: the data decides, never a global switch.

``namespace_and_device(x)`` is on every hot path, so the namespace is cached per array *type*
(one dict lookup after the first call) and the device of the common CPU types is answered
without asking the library.
"""

from __future__ import annotations

import copyreg
import types
from typing import Any

import array_api_compat
import numpy as np

# type(x) -> (xp, backend name). Filled lazily; a type always maps to the same namespace.
_NS_BY_TYPE: dict[type, tuple[Any, str]] = {}

_BACKEND_BY_MODULE = (
    ("array_api_compat.numpy", "numpy"),
    ("numpy", "numpy"),
    ("array_api_compat.cupy", "cupy"),
    ("cupy", "cupy"),
    ("array_api_compat.torch", "torch"),
    ("torch", "torch"),
    ("jax", "jax"),
    ("mlx", "mlx"),
    ("array_api_strict", "array_api_strict"),
)


def _backend_of_module(name: str) -> str:
    for prefix, backend in _BACKEND_BY_MODULE:
        if name == prefix or name.startswith(prefix + "."):
            return backend
    return name.split(".")[0]


def _lookup(x: Any) -> tuple[Any, str]:
    t = type(x)
    hit = _NS_BY_TYPE.get(t)
    if hit is None:
        try:
            xp = array_api_compat.array_namespace(x)
        except TypeError as exc:
            raise TypeError(
                f"expected an Array API array (numpy, cupy, torch, jax, mlx, array-api-strict), "
                f"got {t.__module__}.{t.__qualname__}"
            ) from exc
        hit = (xp, _backend_of_module(xp.__name__))
        _NS_BY_TYPE[t] = hit
        if hit[1] == "mlx":
            _register_mlx_pickle(t)
    return hit


def array_namespace(*arrays: Any) -> Any:
    """The Array API namespace of ``arrays`` (all must share it).

    NumPy arrays get ``array_api_compat.numpy``, torch tensors ``array_api_compat.torch``,
    JAX arrays ``jax.numpy``, MLX arrays ``mlx.core``, array-api-strict arrays itself.
    """
    hit = _NS_BY_TYPE.get(type(arrays[0]))  # the hot path: one dict lookup
    xp = (hit or _lookup(arrays[0]))[0]
    if len(arrays) == 1:
        return xp
    for other in arrays[1:]:
        other_xp, _ = _lookup(other)
        if other_xp is not xp:
            raise TypeError(
                f"arrays from different namespaces cannot be combined: {xp.__name__} and "
                f"{other_xp.__name__}; move one with AsArrayTransformer first"
            )
    return xp


def backend_name(xp_or_array: Any) -> str:
    """Short backend name: numpy, cupy, torch, jax, mlx, array_api_strict (or the module)."""
    if isinstance(xp_or_array, types.ModuleType):
        return _backend_of_module(xp_or_array.__name__)
    return _lookup(xp_or_array)[1]


def device_of(x: Any) -> Any:
    """The device ``x`` lives on, as its own library spells it.

    NumPy answers ``"cpu"``. MLX arrays carry no device (unified memory); the library's
    current default device is returned so that comparisons and creation stay consistent.
    """
    if type(x) is np.ndarray:
        return "cpu"
    backend = _lookup(x)[1]
    if backend == "mlx":
        import mlx.core as mx

        return mx.default_device()
    return array_api_compat.device(x)


def namespace_and_device(x: Any) -> tuple[Any, Any]:
    """``(xp, device)`` of ``x`` in one call, so the device is never forgotten."""
    if type(x) is np.ndarray:
        return _lookup(x)[0], "cpu"
    xp, backend = _lookup(x)
    if backend == "mlx":
        return xp, device_of(x)
    return xp, array_api_compat.device(x)


def is_numpy_namespace(xp: Any) -> bool:
    return array_api_compat.is_numpy_namespace(xp)  # 0.06 us: kernels branch on it per chunk


def runs_synchronously(xp: Any, x: Any) -> bool:
    """Whether operations on ``x`` finish on the host as they are called: NumPy, and torch on
    the CPU. Reading a value of such an array back waits for nothing, so a kernel may check a
    flag on the host there; on a GPU or a compiling backend (JAX, MLX) the same read would
    stall the queue of work a pipeline keeps in flight."""
    if array_api_compat.is_numpy_namespace(xp):
        return True
    return array_api_compat.is_torch_namespace(xp) and x.device.type == "cpu"


def _rebuild_mlx(host: np.ndarray, dtype: str) -> Any:
    import mlx.core as mx

    return mx.array(host, dtype=getattr(mx, dtype))


def _reduce_mlx(a: Any) -> tuple:
    import mlx.core as mx

    dtype = str(a.dtype).rsplit(".", 1)[-1]
    host = np.array(a.astype(mx.float32) if dtype == "bfloat16" else a)
    return _rebuild_mlx, (host, dtype)


def _register_mlx_pickle(array_type: type) -> None:
    """MLX 0.32 unpickles float64 arrays as float32; pickle through NumPy with the dtype
    name instead, so processor state keeps its precision."""
    copyreg.pickle(array_type, _reduce_mlx)


_SLICES_ARE_COPIES = frozenset({"jax", "mlx"})


def slices_are_copies(xp: Any) -> bool:
    """Whether a slice of an array of ``xp`` is independent of it (JAX: immutable arrays; MLX:
    value semantics, writing into a slice leaves the source as it was). NumPy, CuPy, torch
    and array-api-strict slices are views: writing into one writes into the source."""
    return backend_name(xp) in _SLICES_ARE_COPIES
