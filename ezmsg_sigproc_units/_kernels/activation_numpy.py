"""NumPy natives of ``activation``: the ``scipy.special`` ufuncs (one pass each, no warnings),
imported on first use."""

from __future__ import annotations

from typing import Any

_UFUNCS: dict[str, Any] = {}


def special(name: str, x: Any) -> Any:
    f = _UFUNCS.get(name)
    if f is None:
        import scipy.special

        f = _UFUNCS[name] = getattr(scipy.special, name)
    return f(x)
