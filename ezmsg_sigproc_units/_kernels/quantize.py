"""Mapping a real range onto an integer grid (quantize, digitize).

Shapes: ``x`` is any array; the output has its shape and an integer (or bool) dtype. The
grid is described on the host by a ``Grid``; ``to_grid`` is the device math. No function
writes into its input or synchronises with the host.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._backend import (
    asarray,
    compile_kernel,
    compiles,
    dtype_name,
    float_dtype_for,
    is_numpy_namespace,
)
from . import quantize_numpy
from .elementwise import as_float


@dataclass(frozen=True)
class Grid:
    """``y = round((clip(x, lo, hi) - lo) / (hi - lo) * span + base)`` cast to ``dtype``.

    ``dtype`` is a dtype name ("uint8", "int16", "bool", ...). ``span`` and ``base`` are
    Python ints (exact); the float math rounds them to the compute dtype."""

    lo: float
    hi: float
    span: int
    base: int
    dtype: str

    @property
    def top(self) -> int:
        """The largest integer on the grid."""
        return self.base + self.span


def top_clamp(grid: Grid, float_dtype_str: str) -> float | None:
    """The largest float of ``float_dtype_str`` below the grid's top when the top itself is
    not representable there (``2**32 - 1`` in float32 rounds up to ``2**32``, which wraps when
    cast to uint32); None when the top is exact and no value can leave the integer range."""
    t = np.asarray(float(grid.top)).astype(float_dtype_str)
    if float(t) <= grid.top:
        return None
    return float(np.nextafter(t, np.asarray(-np.inf, dtype=float_dtype_str)))


_INT_OK: dict[tuple[Any, str], bool] = {}


def integer_dtype(xp: Any, name: str, device: Any) -> Any:
    """``xp``'s integer dtype ``name``, or ValueError when the namespace cannot hold it (JAX
    without ``jax_enable_x64`` truncates 64-bit integers to 32 bits). Probed once per
    (namespace, name) with a host scalar."""
    dtype = getattr(xp, name)
    key = (xp, name)
    ok = _INT_OK.get(key)
    if ok is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe = asarray(xp, np.zeros((), dtype=name), dtype=dtype, device=device)
        ok = _INT_OK[key] = dtype_name(probe.dtype) == name
    if not ok:
        raise ValueError(f"dtype: {name} is not available in this array namespace "
                         f"(JAX needs jax_enable_x64 for 64-bit integers)")
    return dtype


def grid_plan(xp: Any, device: Any, x_dtype: Any, grid: Grid) -> tuple[Any, Any]:
    """``(out_dtype, clamp)`` for ``to_grid`` on input of ``x_dtype`` on ``device`` (host
    work and one 0-d constant moved to the device: do it once per stream layout)."""
    if grid.dtype == "bool":
        # MLX spells the standard's ``bool`` as ``bool_``.
        return (xp.bool if hasattr(xp, "bool") else xp.bool_), None
    out_dtype = integer_dtype(xp, grid.dtype, device)
    below = top_clamp(grid, dtype_name(float_dtype_for(xp, x_dtype, device)))
    if below is None:
        return out_dtype, None
    top = asarray(xp, np.asarray(grid.top, dtype=grid.dtype), dtype=out_dtype, device=device)
    return out_dtype, (below, top)


def to_grid(xp: Any, x: Any, grid: Grid, out_dtype: Any,
            clamp: tuple[float, Any] | None = None) -> Any:
    """``x`` on ``grid``, as ``out_dtype``. Computed in ``x``'s float dtype (integer input:
    the default float), in the order of the formula (so float64 input gives the bit-exact
    NumPy result). NaN has no integer (its cast is whatever the backend does).

    ``clamp``: ``(below, top)`` with ``below = top_clamp(...)`` and ``top`` a 0-d array of
    ``out_dtype`` holding ``grid.top``: rounded values past ``below`` become exactly ``top``
    instead of wrapping past the integer range."""
    x = as_float(xp, x)
    if is_numpy_namespace(xp):
        return quantize_numpy.to_grid(x, grid.lo, grid.hi, float(grid.span), float(grid.base),
                                      out_dtype, clamp)
    return portable_to_grid(xp, x, grid, out_dtype, clamp)


def portable_to_grid(xp: Any, x: Any, grid: Grid, out_dtype: Any,
                     clamp: tuple[float, Any] | None = None) -> Any:
    """``to_grid`` in standard operations (every namespace; ``x`` already float)."""
    y = xp.minimum(xp.maximum(x, grid.lo), grid.hi)
    y = (y - grid.lo) / (grid.hi - grid.lo)
    if grid.base:
        y = xp.round(y * float(grid.span) + float(grid.base))
    else:
        y = xp.round(float(grid.span) * y)
    if clamp is None:
        return xp.astype(y, out_dtype)
    below, top = clamp
    ints = xp.astype(xp.minimum(y, below), out_dtype)
    return xp.where(y > below, top, ints)


def grid_kernel(xp: Any, grid: Grid, out_dtype: Any, clamp: tuple[float, Any] | None
                ) -> Callable[[Any], Any]:
    """``x -> to_grid(xp, x, grid, out_dtype, clamp)``, compiled once per chunk shape where
    ``xp`` compiles (JAX, MLX: one fused dispatch instead of seven eager ones). Build it once
    per plan: each call makes a new compiled function."""
    if not compiles(xp):
        return lambda x: to_grid(xp, x, grid, out_dtype, clamp)

    def kernel(xp_: Any, x: Any, top: Any) -> Any:
        c = None if clamp is None else (clamp[0], top)
        return portable_to_grid(xp_, as_float(xp_, x), grid, out_dtype, c)

    fn = compile_kernel(xp, kernel)
    top = None if clamp is None else clamp[1]
    return lambda x: fn(x, top)
