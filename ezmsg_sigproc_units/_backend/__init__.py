"""The only layer that knows backend libraries by name.

Everything above it (kernels, processors) asks this package for the namespace and device of
its data, creates arrays through it (always with dtype and device), and moves data to or from
the host only through ``to_host``/``from_host``. Kernels that gain from compilation get it
through ``compile_kernel`` (JAX: ``jax.jit``). Native fast paths are not registered here: a
kernel's public function chooses one in a visible ``is_numpy_namespace`` branch.
"""

from .creation import arange, asarray, empty, eye, full, ones, scalar, zeros
from .dtypes import (
    DTYPE_NAMES,
    default_float,
    dtype_from_name,
    dtype_name,
    float_dtype_for,
    is_complex_dtype,
    is_float_dtype,
    supports_float64,
)
from .host import from_host, materialize, to_host
from .jit import compile_kernel, compiles
from .namespace import (
    array_namespace,
    backend_name,
    device_of,
    is_numpy_namespace,
    namespace_and_device,
    runs_synchronously,
    slices_are_copies,
)
from .random import DeviceRNG
from .registry import BACKENDS, check_backend_name, installed_backends, resolve
from .transfer import move, set_mlx_cache_limit, to_device

__all__ = [
    "DTYPE_NAMES",
    "move",
    "set_mlx_cache_limit",
    "to_device",
    "BACKENDS",
    "DeviceRNG",
    "arange",
    "array_namespace",
    "asarray",
    "backend_name",
    "check_backend_name",
    "compile_kernel",
    "compiles",
    "default_float",
    "device_of",
    "dtype_from_name",
    "dtype_name",
    "empty",
    "eye",
    "float_dtype_for",
    "from_host",
    "full",
    "installed_backends",
    "is_complex_dtype",
    "is_float_dtype",
    "is_numpy_namespace",
    "materialize",
    "namespace_and_device",
    "ones",
    "resolve",
    "scalar",
    "runs_synchronously",
    "slices_are_copies",
    "supports_float64",
    "to_host",
    "zeros",
]
