"""``compile_kernel(xp, fn)``: a kernel that is a pure function of arrays, compiled where the
backend has a compiler.

``g = compile_kernel(xp, fn)`` gives ``g(*arrays) == fn(xp, *arrays)``. On JAX ``g`` is
``jax.jit`` of ``fn``, on MLX ``mx.compile``: eager JAX dispatches every small array
operation separately (tens of microseconds each) and eager MLX evaluates each as its own graph
node (about 9 us each on its CPU build), and the block filter kernels are chains of a dozen
such operations; compiled, a chunk is one dispatch with its elementwise passes fused. The
price is one trace and compile (JAX: about a second) the first time a chunk shape is seen, so
a stream with a fixed chunk length pays it once. Other backends run ``fn`` eagerly (the
reference). ``fn`` takes arrays and tuples of arrays and reads every int it needs from their
shapes. ``g`` is cached per ``(fn, xp)``: looking it up is one dict access.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from array_api_compat import is_jax_namespace

from .namespace import backend_name

_CACHE: dict[tuple[Callable, Any], Callable] = {}
_COMPILES: dict[Any, bool] = {}


def compiles(xp: Any) -> bool:
    """Whether ``compile_kernel`` compiles kernels of ``xp`` (JAX, MLX): their elementwise
    passes then fuse, and the number of operations no longer sets their cost."""
    hit = _COMPILES.get(xp)
    if hit is None:
        hit = _COMPILES[xp] = is_jax_namespace(xp) or backend_name(xp) == "mlx"
    return hit


def compile_kernel(xp: Any, fn: Callable) -> Callable:
    """``fn`` with ``xp`` bound, compiled once per input shape on JAX and MLX, eager
    elsewhere."""
    g = _CACHE.get((fn, xp))
    if g is None:
        g = functools.partial(fn, xp)
        if is_jax_namespace(xp):
            import jax

            g = jax.jit(g)
        elif compiles(xp):  # MLX
            import mlx.core as mx

            g = mx.compile(g)
        _CACHE[(fn, xp)] = g
    return g
