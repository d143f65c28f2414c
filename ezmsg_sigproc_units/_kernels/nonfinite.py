"""Non-finite input through the block filter kernels, branch-free (pure, every backend).

The block kernels (``iir``, ``fir``) compute whole blocks with matrix products, and a
product multiplies every entry: ``0 * nan`` is ``nan``, so one NaN would also spoil the
samples of its block that come *before* it. The guards here run a kernel on its input with
the non-finite values zeroed and then mark, with masks computed on the device, exactly the
outputs that read one, as ``scipy.signal.sosfilt``/``lfilter`` reach them: as NaN (NaN,
+inf and -inf alike). No value is read back to the host, so no chunk waits for the device,
and on a compiling backend the guard is part of the kernel's one compiled call.

* IIR (``guard_iir``): an output is NaN from its channel's first non-finite input on, and so
  is the state; a NaN state then keeps the channel NaN in every later chunk (the products
  spread it over the channel), as scipy's would: the running OR along time is carried in
  the state itself.
* FIR (``guard_fir``): an output is NaN while a non-finite input is within its taps' span.
  The state (the input tail) keeps the raw inputs, so the span carries over chunks.

Shapes: ``x`` is ``(T, C)``, time first.

Where arrays run synchronously on the host (NumPy, torch on the CPU:
``_backend.runs_synchronously``) the filter kernels run unguarded and read one flag back
(``host_all_finite``): there the read waits for nothing, and it costs less than the guard's
extra passes, which eager torch cannot fuse (they had made torch-CPU 1.2-3.5x slower). Only a
chunk that fails the check runs again under the guard.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._backend import arange, compiles, device_of, is_numpy_namespace
from .linalg_numpy import all_finite

_NAN = float("nan")
_SCAN_SIZE = 8192  # eager running sums along time up to this many entries (e.g. 32 x 256)


def host_all_finite(xp: Any, a: Any) -> bool:
    """Whether every entry of ``a`` is finite, read on the host: call it only where
    ``runs_synchronously(xp, a)``. A sum of squares, one pass (it may say False for finite
    values whose squares overflow; callers then take the guarded path, which is exact).
    Complex ``a``: both parts."""
    if xp.isdtype(a.dtype, "complex floating"):
        return host_all_finite(xp, xp.real(a)) and host_all_finite(xp, xp.imag(a))
    if is_numpy_namespace(xp):
        return all_finite(a)
    v = xp.reshape(a, (-1,))
    return math.isfinite(float(v @ v))  # torch-CPU: one dot product


def zero_nonfinite(xp: Any, x: Any) -> Any:
    """``x`` with its NaN and infinite entries replaced by 0 (a new array)."""
    nan_to_num = getattr(xp, "nan_to_num", None)
    if nan_to_num is not None:  # not in the standard; NumPy, torch, JAX, MLX, CuPy have it:
        # one kernel (torch: 1.3 us at 1 x 64, against 6.2 for isfinite and where)
        return nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    return xp.where(xp.isfinite(x), x, 0.0)


def nan_from_first(xp: Any, x: Any) -> Any:
    """``(T, C)``: 0 before each channel's first non-finite entry of ``x``, NaN at and after
    it. ``d = x - x`` is NaN exactly at the non-finite entries (one operation: torch's
    ``x * 0.0`` wraps the scalar first, twice the cost). How the NaN is carried forward in
    time depends on how the backend runs (timings at 3000 x 64 float32, one thread):

    * compiled (JAX, MLX): each channel's first non-finite row, a min over time, marks the
      rows from it on; the passes fuse. (XLA's CPU running sum is a quadratic windowed sum,
      880 us; an argmax took 4x the min at 3000 x 1024.)
    * eager: a running sum of ``d``, one operation: along time for small chunks, over the
      transposed view for larger ones (torch 165 us against 540; 26 against 88 at 30 x
      1024: NumPy's and torch's running sums along the first axis are slow, worst at
      power-of-two channel counts).
    """
    d = x - x
    T = x.shape[0]
    if T == 1:
        return d
    if compiles(xp):
        idx = xp.reshape(arange(xp, 0, T, dtype=xp.int32, device=device_of(x)), (T, 1))
        first = xp.min(xp.where(xp.isnan(d), idx, T), axis=0)
        return xp.where(idx >= first, _NAN, d)
    cumsum = getattr(xp, "cumsum", None)  # NumPy's spelling: array_api_compat's
    if cumsum is None:  # cumulative_sum looks the namespace up again (torch: 2x at 30 x 64)
        cumsum = xp.cumulative_sum
    if T * x.shape[1] <= _SCAN_SIZE:
        return cumsum(d, axis=0)
    return xp.permute_dims(cumsum(xp.permute_dims(d, (1, 0)), axis=1), (1, 0))


def within(xp: Any, bad: Any, width: int, count: int | None = None) -> Any:
    """``(count, C)``: True where any of ``bad[n : n + width]`` is (an FIR output reads its
    ``width`` latest inputs); ``count`` defaults to ``T - width + 1``, the windows that fit.
    Doubling windows: ``log2(width)`` shifted ORs, no scan."""
    span = 1
    while 2 * span <= width:
        bad = bad[:-span, ...] | bad[span:, ...]  # any over windows of 2 * span
        span *= 2
    if span < width:
        rest = width - span
        bad = bad[:-rest, ...] | bad[rest:, ...]
    return bad if count is None else bad[:count, ...]


def guard_iir(kernel: Callable, xp: Any, mats: Any, x: Any, z: Any) -> tuple[Any, Any]:
    """``kernel(xp, mats, x, z) -> (y, z')`` with non-finite input handled as
    ``scipy.signal.sosfilt`` does (see the module docstring). A channel whose state ``z``
    is already NaN comes out NaN from the kernel itself."""
    y, z = kernel(xp, mats, zero_nonfinite(xp, x), z)
    p = nan_from_first(xp, x)
    return y + p, z + (p if x.shape[0] == 1 else p[-1:, ...])


def guard_fir(kernel: Callable, spans: tuple[int, ...] | None, xp: Any, table: Any,
              tail: Any, x: Any) -> tuple[Any, Any]:
    """``kernel(xp, table, tail, x) -> (y, tail')`` with non-finite input handled as
    ``scipy.signal.lfilter`` does. ``spans``: for a bank (``y`` ``(T, C, K)``) each kernel's
    length without its trailing zero taps (a shorter kernel forgets an input sooner); None
    for one filter, whose span is all its taps (``tail`` rows + 1)."""
    m, T = tail.shape[0], x.shape[0]
    e = xp.concat([tail, x], axis=0)
    bad = xp.logical_not(xp.isfinite(e))
    ec = xp.where(bad, 0.0, e)
    y, _ = kernel(xp, table, ec[:m, ...], ec[m:, ...])
    if spans is None:
        hit = within(xp, bad, m + 1)
    else:  # output t of a kernel of w taps reads e[t + m + 1 - w : t + m + 1]
        hit = xp.stack([within(xp, bad[m + 1 - w :, ...], w, T) for w in spans], axis=-1)
    return xp.where(hit, _NAN, y), e[T:, ...]
