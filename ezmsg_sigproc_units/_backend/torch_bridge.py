"""Arrays of any backend into torch and back: the hand-over of the learn family's torch-hosted
models (``learn.process.torch`` and the modules built on it).

``to_torch(x)`` gives a ``torch.Tensor`` that shares ``x``'s memory wherever the libraries
allow it; ``from_torch(t, like)`` gives ``t`` back in ``like``'s namespace, on its device, in
its float dtype. Where a copy happens, per input backend (CPU unless said otherwise):

============================  =====================================  =========================
input                         into torch (``to_torch``)              back (``from_torch``)
============================  =====================================  =========================
NumPy (writable)              ``torch.from_numpy``: no copy          ``Tensor.numpy()``: no copy
NumPy (read-only, e.g. from   one copy (the transport reuses that    no copy
ezmsg's shared memory)        memory after the call)
torch                         the tensor itself                      the tensor itself
JAX                           DLPack: no copy (a copy only where     DLPack: no copy (else one
                              JAX refuses the export)                copy through NumPy)
CuPy / JAX on a GPU           DLPack: no copy, same CUDA device      DLPack: no copy
MLX                           NumPy buffer protocol: no copy (the    ``mx.array``: one copy
                              lazy graph is evaluated first)
array-api-strict, default     its NumPy array: no copy               ``asarray``: no copy
array-api-strict, device1     one copy (``to_device`` to the CPU)    one copy
============================  =====================================  =========================

A cast (a float64 input into a float32 model, say) is one more copy, made by torch on the
target device. Shared memory means a model must not write into its input in place (ordinary
``nn.Module`` layers never do).

torch, JAX, MLX, CuPy and array-api-strict are imported lazily, inside the functions: this
module is importable without any of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import default_float, dtype_name
from .namespace import backend_name, device_of, namespace_and_device

_TORCH_FLOAT = ("float16", "bfloat16", "float32", "float64")


_NUMPY_FLOAT: dict = {}  # NumPy dtype of an input -> torch dtype of its outputs


def _numpy_float(dtype: Any) -> Any:
    want = torch_dtype(dtype.name if dtype.kind == "f" else "float64")
    _NUMPY_FLOAT[dtype] = want
    return want


def torch_dtype(name: str) -> Any:
    """The torch dtype called ``name`` (``"float32"``...)."""
    import torch

    return getattr(torch, name)


def torch_device_of(x: Any) -> Any:
    """The torch device ``to_torch(x)`` lands on (without converting anything)."""
    import torch

    if type(x) is np.ndarray:
        return torch.device("cpu")
    name = backend_name(x)
    if name == "torch":
        return x.device
    if name == "cupy":
        return torch.device("cuda", x.device.id)
    if name == "jax":
        dev = next(iter(x.devices()))
        if dev.platform == "gpu":
            return torch.device("cuda", dev.id)
    return torch.device("cpu")


def to_torch(x: Any, device: Any = None, dtype: Any = None) -> Any:
    """``x`` (an array of any supported backend) as a ``torch.Tensor``, sharing memory where
    the table of the module docstring says so; then moved to ``device`` and cast to ``dtype``
    (torch objects or names) when given (no-ops when it is already there)."""

    t = _shared(x)
    if isinstance(dtype, str):
        dtype = torch_dtype(dtype)
    if dtype is not None and t.dtype != dtype:
        t = t.to(dtype=dtype, device=device)
    if device is not None and t.device != device:  # a name never equals: .to() then no-ops
        t = t.to(device=device)
    return t


def _numpy_to_torch(a: np.ndarray) -> Any:
    import torch

    if not a.flags.writeable:
        a = a.copy()  # ezmsg reuses a read-only message's shared memory after the call
    try:
        return torch.from_numpy(a)
    except ValueError:  # negative strides
        return torch.from_numpy(np.ascontiguousarray(a))
    except TypeError:  # a dtype torch lacks
        return torch.from_numpy(a.astype(np.float64))


def _shared(x: Any) -> Any:
    import torch

    if isinstance(x, torch.Tensor):
        return x
    if type(x) is np.ndarray or isinstance(x, np.ndarray):
        return _numpy_to_torch(np.asarray(x))
    if isinstance(x, (int, float, bool, list, tuple, np.generic)):
        return _numpy_to_torch(np.asarray(x))
    name = backend_name(x)
    if name in ("cupy", "jax"):
        try:
            return torch.from_dlpack(x)
        except (BufferError, RuntimeError, TypeError, ValueError, AttributeError):
            pass  # the export was refused: one copy through the host
        return _numpy_to_torch(np.array(x) if name == "jax" else x.get())
    if name == "array_api_strict":
        import array_api_strict as xps

        cpu = xps.Device("CPU_DEVICE")
        if x.device != cpu:
            x = x.to_device(cpu)  # a copy: strict keeps its devices apart
        return _numpy_to_torch(np.asarray(x))
    if name == "mlx":
        return _numpy_to_torch(np.asarray(x))  # buffer protocol: evaluated, not copied
    return _numpy_to_torch(np.asarray(x))


def float_name_for(like: Any) -> str:
    """The name of the float dtype an output for input ``like`` gets: ``like``'s own when it
    is a real float, else the widest float its namespace has on its device."""
    if type(like) is np.ndarray:
        return like.dtype.name if like.dtype.kind == "f" else "float64"
    name = dtype_name(like.dtype)
    if name in _TORCH_FLOAT:
        return name
    xp, dev = namespace_and_device(like)
    return dtype_name(default_float(xp, dev))


def from_torch(t: Any, like: Any) -> Any:
    """``t`` (a tensor) as an array of ``like``'s namespace, on ``like``'s device, with
    ``like``'s float dtype (``float_name_for``)."""

    if type(like) is np.ndarray:  # the hot path: one dict lookup, no copy on the CPU
        want = _NUMPY_FLOAT.get(like.dtype) or _numpy_float(like.dtype)
        if t.requires_grad:
            t = t.detach()
        if t.dtype != want:
            t = t.to(want)
        return t.numpy() if t.device.type == "cpu" else t.cpu().numpy()
    want = torch_dtype(float_name_for(like))
    t = t.detach()
    if t.dtype != want:
        t = t.to(want)
    name = backend_name(like)
    if name == "torch":
        return t.to(like.device)
    if name == "cupy":
        import cupy as cp

        return cp.from_dlpack(t.to(torch_device_of(like)))
    if name == "jax":
        import jax
        import jax.numpy as jnp

        dev = next(iter(like.devices()))
        try:
            out = jnp.from_dlpack(t.contiguous())
        except (BufferError, RuntimeError, TypeError, ValueError):
            out = jnp.asarray(t.cpu().numpy())
        return out if out.devices() == {dev} else jax.device_put(out, dev)
    host = t.cpu().numpy()
    if name == "mlx":
        import mlx.core as mx

        return mx.array(host, dtype=getattr(mx, host.dtype.name))  # MLX narrows float64
    if name == "array_api_strict":
        import array_api_strict as xps

        return xps.asarray(host, device=like.device)
    import array_api_compat

    return array_api_compat.array_namespace(like).asarray(host, device=device_of(like))
