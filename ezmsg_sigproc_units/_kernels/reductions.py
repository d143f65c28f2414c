"""Reductions over one axis, native to the input's namespace (no NumPy on other backends).

Every function is ``f(xp, x, axis=-1, *, keepdims=False)`` and removes ``axis`` (or keeps it
with length 1). ``x`` has any shape; it is never written to.

Policy:

* Value reductions compute in float: real/complex floats are kept, integer and boolean input is
  cast to the default float of its namespace/device (as ``elementwise.as_float``).
  ``argmin``/``argmax`` return the namespace's index dtype and accept any real input.
* ``std``/``var`` are population statistics (correction 0).
* Plain reductions propagate NaN. The ``nan*`` variants ignore NaN; a lane that is all NaN
  gives NaN (``nansum``: 0), as NumPy does, without a warning.
* An empty reduction axis gives NaN (``sum``/``nansum``/``trapezoid``: 0); ``argmin``/
  ``argmax`` raise ``ValueError``. Zero-size arrays never reach the library's reduction (MLX
  refuses some of them).
* ``median``/``nanmedian`` (not in the Array API standard) sort along the axis (NaN sorts last
  on every supported backend), count the valid values and gather the middle element(s).
  On NumPy the sort is the (unstable, faster) default ``np.sort`` (``reductions_numpy``,
  chosen in ``_sort``), giving the same values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._backend import device_of, full, is_numpy_namespace
from . import reductions_numpy
from .elementwise import as_float

_NAN = float("nan")


# ----------------------------------------------------------------------------- helpers
def _norm_axis(x: Any, axis: int) -> int:
    ndim = len(x.shape)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis: {axis} is out of range for an array with {ndim} dims")
    return axis % ndim


def _reduced_shape(x: Any, axis: int, keepdims: bool) -> tuple[int, ...]:
    shape = list(x.shape)
    if keepdims:
        shape[axis] = 1
    else:
        del shape[axis]
    return tuple(shape)


def _filled(xp: Any, x: Any, axis: int, keepdims: bool, value: float) -> Any:
    """The result for zero-size input: ``value`` in the reduced shape."""
    return full(xp, _reduced_shape(x, axis, keepdims), value, dtype=x.dtype, device=device_of(x))


def _at(x: Any, axis: int, k: int, keepdims: bool) -> Any:
    """Element ``k`` along ``axis`` (a static index; a length-1 slice with ``keepdims``)."""
    where = slice(k, k + 1) if keepdims else k
    return x[(slice(None),) * axis + (where, Ellipsis)]


def index_dtype(xp: Any, x: Any) -> Any:
    """The namespace's default index dtype (int64, or int32 on JAX without x64 and on MLX)."""
    info = getattr(xp, "__array_namespace_info__", None)
    if info is None:
        return xp.int32
    return info().default_dtypes(device=device_of(x))["indexing"]


def _prepare(xp: Any, x: Any, axis: int) -> tuple[Any, int, bool]:
    """(float x, normalised axis, whether x is zero-size)."""
    x = as_float(xp, x)
    axis = _norm_axis(x, axis)
    return x, axis, math.prod(x.shape) == 0


def _empty_fill(x: Any, axis: int) -> float:
    # A zero-size array with a non-empty reduction axis has no lanes: the fill is irrelevant.
    return _NAN if x.shape[axis] == 0 else 0.0


# ----------------------------------------------------------------------------- plain
def _plain(name: str, empty_value: float | None = None) -> Callable[..., Any]:
    """The reduction ``xp.<name>`` behind the shared float cast and zero-size handling
    (``empty_value`` None: NaN for an empty reduction axis)."""

    def reduction(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
        x, axis, empty = _prepare(xp, x, axis)
        if empty:
            fill = _empty_fill(x, axis) if empty_value is None else empty_value
            return _filled(xp, x, axis, keepdims, fill)
        return getattr(xp, name)(x, axis=axis, keepdims=keepdims)

    reduction.__name__ = reduction.__qualname__ = name
    reduction.__doc__ = f"``xp.{name}`` along ``axis`` (float input; zero-size safe)."
    return reduction


mean = _plain("mean")
var = _plain("var")
std = _plain("std")
min = _plain("min")  # noqa: A001
max = _plain("max")  # noqa: A001
sum = _plain("sum", 0.0)  # noqa: A001


def median(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    """Median; NaN in a lane gives NaN (as ``np.median``)."""
    x, axis, empty = _prepare(xp, x, axis)
    if empty:
        return _filled(xp, x, axis, keepdims, _empty_fill(x, axis))
    n = x.shape[axis]
    s = _sort(xp, x, axis)  # NaN last
    mid = (_at(s, axis, (n - 1) // 2, keepdims) + _at(s, axis, n // 2, keepdims)) * 0.5
    return xp.where(xp.isnan(_at(s, axis, n - 1, keepdims)), _NAN, mid)


def argmin(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    """Index of the first minimum (NaN counts as the extremum, as in NumPy)."""
    return _arg(xp, xp.argmin, "argmin", x, axis, keepdims)


def argmax(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    """Index of the first maximum (NaN counts as the extremum, as in NumPy)."""
    return _arg(xp, xp.argmax, "argmax", x, axis, keepdims)


def _arg(xp: Any, fn: Callable, name: str, x: Any, axis: int, keepdims: bool) -> Any:
    axis = _norm_axis(x, axis)
    if x.shape[axis] == 0:
        raise ValueError(f"{name}: the reduction axis {axis} is empty")
    if math.prod(x.shape) == 0:
        shape = _reduced_shape(x, axis, keepdims)
        return full(xp, shape, 0, dtype=index_dtype(xp, x), device=device_of(x))
    return fn(x, axis=axis, keepdims=keepdims)


def trapezoid(
    xp: Any, y: Any, axis: int = -1, *, x: Any = None, dx: float = 1.0, keepdims: bool = False
) -> Any:
    """Trapezoidal integral of ``y`` along ``axis`` over the 1-D coordinates ``x`` (same
    namespace and device, length ``y.shape[axis]``) or, when ``x`` is None, spacing ``dx``.
    Fewer than two samples integrate to 0."""
    y, axis, empty = _prepare(xp, y, axis)
    n = y.shape[axis]
    if empty or n < 2:
        return _filled(xp, y, axis, keepdims, 0.0)
    lead = (slice(None),) * axis
    pairs = y[lead + (slice(1, None), Ellipsis)] + y[lead + (slice(None, n - 1), Ellipsis)]
    if x is None:
        return xp.sum(pairs, axis=axis, keepdims=keepdims) * (0.5 * dx)
    if x.dtype != y.dtype:
        x = xp.astype(x, y.dtype)
    d = x[1:] - x[: n - 1]
    d = xp.reshape(d, (1,) * axis + (n - 1,) + (1,) * (len(y.shape) - axis - 1))
    return xp.sum(pairs * d, axis=axis, keepdims=keepdims) * 0.5


# ----------------------------------------------------------------------------- nan-aware
def _valid_count(xp: Any, valid: Any, axis: int, dtype: Any) -> Any:
    return xp.sum(xp.astype(valid, dtype), axis=axis, keepdims=True)


def _squeeze(xp: Any, r: Any, axis: int, keepdims: bool) -> Any:
    return r if keepdims else xp.squeeze(r, axis=axis)


def nansum(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    x, axis, empty = _prepare(xp, x, axis)
    if empty:
        return _filled(xp, x, axis, keepdims, 0.0)
    return xp.sum(xp.where(xp.isnan(x), 0.0, x), axis=axis, keepdims=keepdims)


def _nanmean_keep(xp: Any, x: Any, axis: int) -> tuple[Any, Any, Any]:
    """(mean with kept axis, valid mask, valid count) of float ``x``."""
    valid = ~xp.isnan(x)
    count = _valid_count(xp, valid, axis, x.dtype)
    total = xp.sum(xp.where(valid, x, 0.0), axis=axis, keepdims=True)
    m = xp.where(count > 0.0, total / xp.maximum(count, 1.0), _NAN)
    return m, valid, count


def nanmean(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    x, axis, empty = _prepare(xp, x, axis)
    if empty:
        return _filled(xp, x, axis, keepdims, _empty_fill(x, axis))
    return _squeeze(xp, _nanmean_keep(xp, x, axis)[0], axis, keepdims)


def nanvar(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    x, axis, empty = _prepare(xp, x, axis)
    if empty:
        return _filled(xp, x, axis, keepdims, _empty_fill(x, axis))
    m, valid, count = _nanmean_keep(xp, x, axis)
    d = xp.where(valid, x - m, 0.0)
    ss = xp.sum(d * d, axis=axis, keepdims=True)
    v = xp.where(count > 0.0, ss / xp.maximum(count, 1.0), _NAN)
    return _squeeze(xp, v, axis, keepdims)


def nanstd(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    return xp.sqrt(nanvar(xp, x, axis, keepdims=keepdims))


def _nan_extreme(xp: Any, fn: Callable, fill: float, x: Any, axis: int, keepdims: bool) -> Any:
    x, axis, empty = _prepare(xp, x, axis)
    if empty:
        return _filled(xp, x, axis, keepdims, _empty_fill(x, axis))
    isnan = xp.isnan(x)
    r = fn(xp.where(isnan, fill, x), axis=axis, keepdims=keepdims)
    return xp.where(xp.all(isnan, axis=axis, keepdims=keepdims), _NAN, r)


def nanmin(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    return _nan_extreme(xp, xp.min, math.inf, x, axis, keepdims)


def nanmax(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    return _nan_extreme(xp, xp.max, -math.inf, x, axis, keepdims)


def nanmedian(xp: Any, x: Any, axis: int = -1, *, keepdims: bool = False) -> Any:
    """Median of the non-NaN values of each lane; an all-NaN lane gives NaN."""
    x, axis, empty = _prepare(xp, x, axis)
    if empty:
        return _filled(xp, x, axis, keepdims, _empty_fill(x, axis))
    valid = ~xp.isnan(x)
    count = _valid_count(xp, valid, axis, index_dtype(xp, x))
    s = _sort(xp, x, axis)  # NaN last
    lo = xp.take_along_axis(s, xp.maximum(count - 1, 0) // 2, axis=axis)
    hi = xp.take_along_axis(s, count // 2, axis=axis)
    m = xp.where(count == 0, _NAN, (lo + hi) * 0.5)
    return _squeeze(xp, m, axis, keepdims)


# ----------------------------------------------------------------------------- dispatch
REDUCTIONS: dict[str, Callable[..., Any]] = {
    "mean": mean,
    "median": median,
    "std": std,
    "var": var,
    "min": min,
    "max": max,
    "sum": sum,
    "nanmean": nanmean,
    "nanmedian": nanmedian,
    "nanstd": nanstd,
    "nanvar": nanvar,
    "nanmin": nanmin,
    "nanmax": nanmax,
    "nansum": nansum,
    "argmin": argmin,
    "argmax": argmax,
    "trapezoid": trapezoid,
}
"""Every reduction by name; all share the signature ``f(xp, x, axis, *, keepdims)``."""


def reduce(xp: Any, x: Any, op: str, axis: int = -1, *, keepdims: bool = False) -> Any:
    """The reduction ``op`` (a key of ``REDUCTIONS``) of ``x`` along ``axis``."""
    try:
        fn = REDUCTIONS[op]
    except KeyError:
        raise ValueError(f"op: unknown reduction {op!r}; one of {list(REDUCTIONS)}") from None
    return fn(xp, x, axis, keepdims=keepdims)


# ----------------------------------------------------------------------------- sorting
def _sort(xp: Any, x: Any, axis: int) -> Any:
    """Ascending sort along ``axis`` (NaN last). Stability is irrelevant to a median."""
    if is_numpy_namespace(xp):
        return reductions_numpy.sort_unstable(x, axis)
    return xp.sort(x, axis=axis)
