"""Compilers for kernels that are pure functions of arrays (``native("jit", backend)``).

A kernel asks ``native("jit", name)`` for ``jit(xp, fn)`` returning ``g`` with
``g(*arrays) == fn(xp, *arrays)``. Only JAX registers one: eager JAX dispatches every small
array operation separately (tens of microseconds each), and the block filter kernels are
chains of a dozen such operations. ``jax.jit`` fuses them once per input shape, which made the
IIR kernel 3-10x faster on streaming chunks; the price is one trace and compile (about a
second) the first time a chunk length is seen, so a stream with a fixed chunk length pays it
once. The compiled function is cached per kernel function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .native import register_native

_CACHE: dict[Callable, Callable] = {}


@register_native("jit", "jax")
def _jax_jit(xp: Any, fn: Callable) -> Callable:
    g = _CACHE.get(fn)
    if g is None:
        import jax

        g = _CACHE[fn] = jax.jit(functools.partial(fn, xp))
    return g
