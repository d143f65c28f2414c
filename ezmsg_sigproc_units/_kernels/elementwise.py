"""Elementwise kernels (shape-preserving). Every function takes ``xp`` first and the data
``x`` (any shape); none writes into ``x``.

Float policy: except for ``absolute``, integer or boolean input is computed in the default
float of its namespace/device (float64 where available), so every backend returns the same
dtype for the same input.
"""

from __future__ import annotations

import math
from typing import Any

from .._backend import default_float, device_of

# (namespace, dtype) -> is floating. Keyed with the namespace so dtypes of different
# libraries are never compared with each other.
_IS_FLOAT: dict[tuple[Any, Any], bool] = {}


def as_float(xp: Any, x: Any) -> Any:
    """``x`` unchanged if it is real or complex floating, else cast to the default float."""
    key = (xp, x.dtype)
    ok = _IS_FLOAT.get(key)
    if ok is None:
        ok = bool(xp.isdtype(x.dtype, ("real floating", "complex floating")))
        _IS_FLOAT[key] = ok
    if ok:
        return x
    return xp.astype(x, default_float(xp, device_of(x)))


def absolute(xp: Any, x: Any) -> Any:
    return xp.abs(x)


def clip(xp: Any, x: Any, lo: float | None, hi: float | None) -> Any:
    """Limit ``x`` to ``[lo, hi]`` (either bound may be None). NaN stays NaN."""
    x = as_float(xp, x)
    if lo is not None:
        x = xp.maximum(x, lo)
    if hi is not None:
        x = xp.minimum(x, hi)
    return x


def log(xp: Any, x: Any, base: float, tiny: float | None = None) -> Any:
    """Logarithm of ``x`` in ``base``. With ``tiny`` (the dtype's smallest normal), values
    below it (zeros and negatives) are clipped to it first, so the result is finite."""
    x = as_float(xp, x)
    if tiny is not None:
        x = xp.maximum(x, tiny)
    if base == 10.0:
        return xp.log10(x)
    if base == 2.0:
        return xp.log2(x)
    if base == math.e:
        return xp.log(x)
    return xp.log(x) * (1.0 / math.log(base))


def scale(xp: Any, x: Any, factor: float) -> Any:
    return as_float(xp, x) * factor


def invert(xp: Any, x: Any) -> Any:
    """``1 / x`` (zeros give inf, as IEEE division does)."""
    return 1.0 / as_float(xp, x)


def add_const(xp: Any, x: Any, value: float) -> Any:
    return as_float(xp, x) + value


def add(xp: Any, a: Any, b: Any) -> Any:
    """``a + b`` of two same-shaped arrays, in float."""
    return as_float(xp, a) + as_float(xp, b)


def subtract(xp: Any, a: Any, b: Any) -> Any:
    """``a - b`` of two same-shaped arrays, in float."""
    return as_float(xp, a) - as_float(xp, b)


def subtract_const(xp: Any, x: Any, value: float, subtrahend: bool) -> Any:
    """``x - value`` when ``value`` is the subtrahend, else ``value - x``."""
    x = as_float(xp, x)
    return x - value if subtrahend else value - x


def power(xp: Any, x: Any, exponent: float) -> Any:
    x = as_float(xp, x)
    if exponent == 2.0:
        return x * x
    if exponent == 0.5:  # JAX and MLX give pow(-inf, 0.5) = +inf; sqrt is NaN everywhere
        return xp.sqrt(x)
    return xp.pow(x, exponent)


def anscombe(xp: Any, x: Any) -> Any:
    """Variance-stabilising transform of Poisson counts: ``2 sqrt(x + 3/8)``."""
    return 2.0 * xp.sqrt(as_float(xp, x) + 0.375)


_S32 = math.sqrt(1.5)


def inverse_anscombe(xp: Any, y: Any, method: str) -> Any:
    """Inverse of ``anscombe``.

    * ``algebraic``: ``y^2/4 - 3/8`` (the plain algebraic inverse, biased at low counts).
    * ``asymptotic``: ``y^2/4 - 1/8`` (asymptotically unbiased).
    * ``exact``: the closed-form approximation of the exact unbiased inverse
      (Makitalo & Foi 2011), clipped at 0.
    """
    y = as_float(xp, y)
    if method == "algebraic":
        return y * y * 0.25 - 0.375
    if method == "asymptotic":
        return y * y * 0.25 - 0.125
    inv = 1.0 / y
    inv2 = inv * inv
    out = 0.25 * y * y + (0.25 * _S32) * inv - 1.375 * inv2 + (0.625 * _S32) * inv2 * inv - 0.125
    # Below anscombe(0) = sqrt(3/2) the closed form is meaningless (it diverges at 0): 0 there.
    return xp.where(y < _S32, 0.0, xp.maximum(out, 0.0))
