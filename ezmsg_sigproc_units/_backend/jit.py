"""``compile_kernel(xp, fn)``: a kernel that is a pure function of arrays, compiled where the
backend gains from it.

``g = compile_kernel(xp, fn)`` gives ``g(*arrays) == fn(xp, *arrays)``. On JAX ``g`` is
``jax.jit`` of ``fn``: eager JAX dispatches every small array operation separately (tens of
microseconds each), and the block filter kernels are chains of a dozen such operations;
compiled, a chunk is one dispatch. The price is one trace and compile (about a second) the
first time a chunk shape is seen, so a stream with a fixed chunk length pays it once. Other
backends run ``fn`` eagerly. ``fn`` takes arrays and tuples of arrays and reads every int it
needs from their shapes. ``g`` is cached per ``(fn, xp)``: looking it up is one dict access.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from array_api_compat import is_jax_namespace

_CACHE: dict[tuple[Callable, Any], Callable] = {}


def compiles(xp: Any) -> bool:
    """Whether ``compile_kernel`` compiles kernels of ``xp`` (then a kernel's elementwise
    passes fuse, and the number of operations no longer sets its cost)."""
    return is_jax_namespace(xp)


def compile_kernel(xp: Any, fn: Callable) -> Callable:
    """``fn`` with ``xp`` bound, compiled once per input shape on JAX, eager elsewhere."""
    g = _CACHE.get((fn, xp))
    if g is None:
        g = functools.partial(fn, xp)
        if compiles(xp):
            import jax

            g = jax.jit(g)
        _CACHE[(fn, xp)] = g
    return g
