"""Per-channel rates for denormalisation, and the affine map that applies them.

Shapes: ``z`` holds standard-normal draws, ``(2, n)`` for "uniform" and ``(1, n)`` for
"normal" (``n`` channels); the rates come back as ``(n,)``. ``denormalize`` takes any ``x``
and ``gains``/``offsets`` that broadcast against it. No function writes into its inputs.
"""

from __future__ import annotations

from typing import Any

from .elementwise import as_float

N_NORMALS = {"uniform": 2, "normal": 1, "constant": 0}
"""How many standard-normal rows each distribution consumes per channel."""


def uniform_from_normals(xp: Any, z: Any) -> Any:
    """Uniform(0, 1] samples from pairs of independent standard normals ``z[0], z[1]``: the
    squared radius ``r2`` of a standard bivariate normal is chi-squared with 2 degrees of
    freedom, so ``exp(-r2 / 2)`` is exactly uniform (the Box-Muller transform read backwards).
    """
    r2 = z[0, ...] * z[0, ...] + z[1, ...] * z[1, ...]
    return xp.exp(r2 * -0.5)


def rates(xp: Any, z: Any, distribution: str, low: float, high: float) -> Any:
    """``(n,)`` rates: uniform on ``[low, high]``, normal with mean ``(low + high) / 2`` and
    sd ``(high - low) / 6`` clipped to ``[low, high]``, or the midpoint ("constant"; ``z``
    then only supplies the shape, dtype and device: ``(1, n)``)."""
    mid = (low + high) / 2.0
    if distribution == "uniform":
        return uniform_from_normals(xp, z) * (high - low) + low
    if distribution == "normal":
        r = z[0, ...] * ((high - low) / 6.0) + mid
        return xp.minimum(xp.maximum(r, low), high)
    return z[0, ...] * 0.0 + mid


def denormalize(xp: Any, x: Any, gains: Any, offsets: Any) -> Any:
    """``max(x * gains + offsets, 0)`` (integer ``x``: in the default float)."""
    return xp.maximum(as_float(xp, x) * gains + offsets, 0.0)
