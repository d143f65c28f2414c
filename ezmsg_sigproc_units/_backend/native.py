"""Registry of native fast paths.

A kernel asks ``native(kernel, backend)`` for an implementation that matches its portable one
exactly; it gets None when there is none and then runs the portable Array API code. Entries
are registered where they are defined (inside ``_backend`` or a kernel module) and may import
their library lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_REGISTRY: dict[tuple[str, str], Callable[..., Any]] = {}


def register_native(kernel: str, backend: str) -> Callable[[Callable], Callable]:
    """Decorator: register ``fn`` as the native ``kernel`` for ``backend``."""

    def deco(fn: Callable) -> Callable:
        _REGISTRY[(kernel, backend)] = fn
        return fn

    return deco


def native(kernel: str, backend: str) -> Callable[..., Any] | None:
    """The native implementation of ``kernel`` for ``backend``, or None."""
    return _REGISTRY.get((kernel, backend))


def native_kernels() -> dict[tuple[str, str], Callable[..., Any]]:
    """A copy of the registry (for docs and tests)."""
    return dict(_REGISTRY)
