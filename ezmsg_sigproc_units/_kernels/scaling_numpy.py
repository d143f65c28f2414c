"""NumPy natives of ``scaling``: the rolling scaler's batch sums written into one row with
``out=`` reductions, skipping the masking when every entry is kept (a host check, free on
NumPy): 2-3x faster than the portable concat-and-sum at 200 x 8 and 30 x 256."""

from __future__ import annotations

from typing import Any

import numpy as np


def batch_row(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``scaling.batch_row``: ``(1, 3 C)`` ``[n, sum x, sum x^2]`` over the kept entries."""
    T, C = x.shape
    out = np.empty((1, 3 * C), dtype=x.dtype)
    if keep.all():
        out[0, :C] = T
        xv = x
    else:
        np.add.reduce(keep, axis=0, out=out[0, :C], dtype=x.dtype)
        xv = np.where(keep, x, 0.0).astype(x.dtype, copy=False)
    np.add.reduce(xv, axis=0, out=out[0, C : 2 * C])
    np.einsum("tc,tc->c", xv, xv, out=out[0, 2 * C :])
    return out


_POWERS: dict[tuple[float, int, str], tuple[np.ndarray, np.ndarray]] = {}


def _powers(beta: float, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """``(1 - beta^t, beta^(t-1))`` for ``t = 1 .. n``, ``(n, 1)`` each, cached."""
    key = (beta, n, dtype.str)
    got = _POWERS.get(key)
    if got is None:
        if len(_POWERS) > 64:
            _POWERS.clear()
        t = np.arange(n, dtype=np.float64)[:, None]
        q = np.exp(t * np.log(beta)) if beta > 0 else (t == 0).astype(np.float64)
        got = _POWERS[key] = ((1.0 - q * beta).astype(dtype), q.astype(dtype))
    return got


def standard_scores(lfilter: Any, b: np.ndarray, a: np.ndarray, x: np.ndarray,
                    z: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scaling.standard_scores`` for finite ``x`` ``(T, C)`` with ``lfilter``'s state
    ``z`` ``(1, 3 C)``: only the sums of ``x - shift`` and its square are filtered; the
    weight of the samples (all finite) follows in closed form,
    ``w_t = 1 - beta^t + beta^(t-1) z_w``."""
    T, C = x.shape
    buf = np.empty((T, 2 * C), dtype=x.dtype)
    xs = buf[:, :C]
    np.subtract(x, shift, out=xs)
    np.multiply(xs, xs, out=buf[:, C:])
    s, zs = lfilter(b, a, buf, z[:, : 2 * C])
    beta = float(-a[1])
    one_minus, q = _powers(beta, T, x.dtype)
    w = q * z[:, 2 * C :]
    w += one_minus
    z_next = np.empty((1, 3 * C), dtype=x.dtype)
    z_next[:, : 2 * C] = zs
    np.multiply(w[-1:], beta, out=z_next[:, 2 * C :])
    np.reciprocal(w, out=w)
    mean = s[:, :C] * w
    var = s[:, C:] * w
    np.multiply(mean, mean, out=w)  # w is spent: no temporary
    var -= w
    np.subtract(xs, mean, out=mean)
    ok = var > 0.0
    if ok.all():  # the usual case: no masked passes
        np.sqrt(var, out=var)
        return np.divide(mean, var, out=mean), z_next
    np.sqrt(var, out=var, where=ok)
    y = np.zeros_like(x)
    np.divide(mean, var, out=y, where=ok)
    return y, z_next


def rolling_scores(raw: np.ndarray, shift: np.ndarray, n: np.ndarray, mean: np.ndarray,
                   std: np.ndarray, lim: float, min_n: float) -> tuple[Any, ...]:
    """``scaling.rolling_scores`` in place: the masks are applied only where some entry
    needs them (host checks, free on NumPy), 1.5x faster at 30 x 256."""
    x = raw - shift
    z = x - mean
    z /= std
    has = n > 0.0
    y = np.clip(z, -lim, lim) if lim != np.inf else z.copy()
    fin = np.isfinite(z)
    if not fin.all():
        y[~fin] = 0.0
    ready = has & (n >= min_n)
    if not ready.all():
        np.copyto(y, raw, where=~ready)
    return y, x, z, has
