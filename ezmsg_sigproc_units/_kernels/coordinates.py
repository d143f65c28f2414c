"""Cartesian <-> polar coordinates, and complex numbers.

Pairwise functions take two same-shape real arrays (``x, y`` or ``r, theta``; angles in
radians) and return two arrays of that shape. ``*_along`` functions take one array whose
``axis`` has length 2 (the two components, in order) and return an array of the same shape.
Integer input is computed in the default float. No function writes into its inputs.
"""

from __future__ import annotations

import math
from typing import Any

from .elementwise import as_float


def hypot_scaled(xp: Any, x: Any, y: Any) -> Any:
    """``sqrt(x^2 + y^2)`` without overflow or underflow in the squares, for namespaces that
    lack ``hypot`` (MLX): ``m * sqrt(1 + (n/m)^2)`` with ``m = max(|x|,|y|)``,
    ``n = min(|x|,|y|)``. An infinite component gives inf (as IEEE ``hypot`` does)."""
    ax, ay = xp.abs(x), xp.abs(y)
    m = xp.maximum(ax, ay)
    n = xp.minimum(ax, ay)
    q = n / xp.where(m == 0.0, 1.0, m)
    r = m * xp.sqrt(1.0 + q * q)
    return xp.where(xp.isinf(ax) | xp.isinf(ay), math.inf, r)


def hypot(xp: Any, x: Any, y: Any) -> Any:
    """The namespace's ``hypot`` where it has one, else ``hypot_scaled``."""
    f = getattr(xp, "hypot", None)
    return f(x, y) if f is not None else hypot_scaled(xp, x, y)


def cart2pol(xp: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """``(r, theta)`` with ``r = hypot(x, y)`` and ``theta = atan2(y, x)`` in ``(-pi, pi]``."""
    x, y = as_float(xp, x), as_float(xp, y)
    return hypot(xp, x, y), xp.atan2(y, x)


def pol2cart(xp: Any, r: Any, theta: Any) -> tuple[Any, Any]:
    """``(x, y) = (r cos theta, r sin theta)``."""
    r, theta = as_float(xp, r), as_float(xp, theta)
    return r * xp.cos(theta), r * xp.sin(theta)


def complex_dtype_for(xp: Any, dtype: Any) -> Any:
    """complex64 for float32 (and smaller), complex128 for float64; ValueError where the
    namespace has no complex128 (MLX)."""
    if dtype != xp.float64:
        return xp.complex64
    cdt = getattr(xp, "complex128", None)
    if cdt is None:
        raise ValueError(f"dtype: {xp.__name__} has no complex128 for float64 input; "
                         f"cast to float32 first")
    return cdt


def cart2z(xp: Any, x: Any, y: Any) -> Any:
    """``x + i y`` in the complex dtype matching ``x``'s precision."""
    x, y = as_float(xp, x), as_float(xp, y)
    cdt = complex_dtype_for(xp, x.dtype)
    return xp.astype(x, cdt) + xp.astype(y, cdt) * 1j


def z2cart(xp: Any, z: Any) -> tuple[Any, Any]:
    """``(real(z), imag(z))``."""
    return xp.real(z), xp.imag(z)


def polar2z(xp: Any, r: Any, theta: Any) -> Any:
    """``r exp(i theta)``."""
    return cart2z(xp, *pol2cart(xp, r, theta))


def z2polar(xp: Any, z: Any) -> tuple[Any, Any]:
    """``(|z|, angle(z))``."""
    return cart2pol(xp, xp.real(z), xp.imag(z))


def _component(x: Any, axis: int, i: int) -> Any:
    return x[(slice(None),) * axis + (i, Ellipsis)]


def cart2pol_along(xp: Any, v: Any, axis: int) -> Any:
    """``(x, y)`` components along ``axis`` -> ``(r, theta)`` along ``axis``."""
    r, theta = cart2pol(xp, _component(v, axis, 0), _component(v, axis, 1))
    return xp.stack([r, theta], axis=axis)


def pol2cart_along(xp: Any, v: Any, axis: int) -> Any:
    """``(r, theta)`` components along ``axis`` -> ``(x, y)`` along ``axis``."""
    x, y = pol2cart(xp, _component(v, axis, 0), _component(v, axis, 1))
    return xp.stack([x, y], axis=axis)
