"""dtype policy, decided in one place per (namespace, device).

* float32 in gives float32 out; float64 in gives float64 out where the device supports it.
* Integer or boolean input to a float operation computes in the default float of the
  (namespace, device): float64 where supported, else float32 (JAX without x64, MLX on a GPU).
"""

from __future__ import annotations

from typing import Any

from .namespace import backend_name


def supports_float64(xp: Any, device: Any = None) -> bool:
    """Whether ``xp`` can hold float64 on ``device``."""
    name = backend_name(xp)
    if name == "jax":
        import jax

        return bool(jax.config.read("jax_enable_x64"))
    if name == "mlx":
        import mlx.core as mx

        dev = device if device is not None else mx.default_device()
        return getattr(dev, "type", None) == mx.cpu
    if name == "torch":
        return getattr(device, "type", str(device)) != "mps"
    return True


def default_float(xp: Any, device: Any = None) -> Any:
    """The widest float dtype ``xp`` supports on ``device``."""
    return xp.float64 if supports_float64(xp, device) else xp.float32


def is_float_dtype(xp: Any, dtype: Any) -> bool:
    """True for real floating dtypes of ``xp``."""
    return bool(xp.isdtype(dtype, "real floating"))


def is_complex_dtype(dtype: Any) -> bool:
    """True for complex dtypes of any backend (works without the namespace)."""
    name = str(dtype).lower()
    return "complex" in name


def float_dtype_for(xp: Any, dtype: Any, device: Any = None) -> Any:
    """The float dtype to compute in for input of ``dtype``: keep real floats, promote the rest."""
    if xp.isdtype(dtype, ("real floating", "complex floating")):
        return dtype
    return default_float(xp, device)


DTYPE_NAMES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int8",
          "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool")


def dtype_from_name(xp: Any, name: str | None) -> Any:
    """``xp``'s dtype object for a name such as ``"float32"`` (None stays None)."""
    if name is None:
        return None
    key = str(name).rsplit(".", 1)[-1].lower()
    if key not in DTYPE_NAMES or not hasattr(xp, key):
        raise ValueError(f"dtype: {name!r} is not a dtype of {backend_name(xp)}")
    return getattr(xp, key)


def dtype_name(dtype: Any) -> str:
    """Backend-independent name of a dtype, e.g. ``"float32"``."""
    if isinstance(dtype, type):  # numpy/JAX scalar types such as numpy.float64
        return dtype.__name__.lower()
    return str(dtype).rsplit(".", 1)[-1].lower()
