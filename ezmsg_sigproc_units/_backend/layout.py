"""Memory layout (C or Fortran order) for the backends that expose strides.

The Array API has no notion of memory order. NumPy and CuPy arrays, and torch tensors, do, and
a downstream consumer (a C extension, a BLAS call, a DLPack hand-off) may need one. JAX, MLX and
array-api-strict manage layout themselves, so their arrays are returned unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .namespace import backend_name

ORDERS = ("C", "F")


def as_contiguous(x: Any, order: str = "C") -> Any:
    """``x`` laid out contiguously in ``order`` ("C": last index fastest, "F": first index
    fastest). Returns ``x`` itself when it already is (NumPy/CuPy/torch) or when its backend
    does not expose layout (JAX, MLX, array-api-strict). Never modifies ``x``."""
    if order not in ORDERS:
        raise ValueError(f"order: must be 'C' or 'F', got {order!r}")
    if type(x) is np.ndarray:
        return np.ascontiguousarray(x) if order == "C" else np.asfortranarray(x)
    name = backend_name(x)
    if name == "torch":
        if order == "C" or x.ndim < 2:
            return x.contiguous()
        # torch only has C-contiguity; a Fortran layout is the C layout of the reversed dims.
        rev = tuple(range(x.ndim - 1, -1, -1))
        return x.permute(rev).contiguous().permute(rev)
    if name == "cupy":
        import cupy

        return cupy.ascontiguousarray(x) if order == "C" else cupy.asfortranarray(x)
    return x


def is_contiguous(x: Any, order: str = "C") -> bool | None:
    """Whether ``x`` is contiguous in ``order``; None where the backend does not expose it."""
    if type(x) is np.ndarray or backend_name(x) == "cupy":
        return bool(x.flags["C_CONTIGUOUS" if order == "C" else "F_CONTIGUOUS"])
    if backend_name(x) == "torch":
        if order == "C" or x.ndim < 2:
            return bool(x.is_contiguous())
        return bool(x.permute(tuple(range(x.ndim - 1, -1, -1))).is_contiguous())
    return None
