"""Elementwise activation functions (shape-preserving; integer input computed in the default
float). Each is written to stay finite where its value is: no ``exp`` of a large positive
argument.

* ``expit(x) = 1 / (1 + exp(-x))``: from ``e = exp(-|x|)``, ``1 / (1 + e)`` for ``x >= 0``
  and ``e / (1 + e)`` below.
* ``logit(p) = log(p) - log1p(-p)``: -inf at 0, +inf at 1, NaN outside [0, 1].
* ``log_expit(x) = min(x, 0) - log1p(exp(-|x|))``.

NumPy runs the plain formulas in place (``activation_numpy``) for expit and logit, in a
visible branch; both paths give the same numbers to float rounding.
"""

from __future__ import annotations

from typing import Any

from .._backend import is_numpy_namespace
from . import activation_numpy
from .elementwise import as_float


def identity(xp: Any, x: Any) -> Any:
    return x


def expit(xp: Any, x: Any) -> Any:
    x = as_float(xp, x)
    if is_numpy_namespace(xp):
        return activation_numpy.expit(x)
    e = xp.exp(-xp.abs(x))
    r = 1.0 / (1.0 + e)
    return xp.where(x >= 0.0, r, e * r)


def logit(xp: Any, x: Any) -> Any:
    x = as_float(xp, x)
    if is_numpy_namespace(xp):
        return activation_numpy.logit(x)
    return xp.log(x) - xp.log1p(-x)


def log_expit(xp: Any, x: Any) -> Any:
    x = as_float(xp, x)
    return xp.minimum(x, 0.0) - xp.log1p(xp.exp(-xp.abs(x)))
