"""Adaptive standard scores: ``(x - mean) / std`` against exponentially weighted moments of
the finite samples so far (``ewma.weighted_moments``), streaming along time.

Shapes: ``x`` ``(T, C)`` time first; the state is an ``ewma`` state of ``3 C`` sums
(``x v``, ``x^2 v``, ``v``; ``v`` = 1 for a finite sample). Rules, per channel and sample:

* the statistics include the sample itself (update, then scale);
* variance ``E[x^2] - E[x]^2``; where it is not > 0 (one distinct value so far) the score
  is 0;
* a non-finite sample (NaN, +-inf) scores NaN and is left out of the statistics, so the
  samples after it are scaled as if it had not arrived.

Conditioning: scores do not change when a constant is subtracted from a channel, so the
processors subtract the stream's first finite-or-zero sample (``shift_of``) first.
``E[x^2] - E[x]^2`` then cancels far less in float32 when the channel's offset is large
against its spread, and a channel that has only repeated one value has variance exactly 0.
"""

from __future__ import annotations

import functools
from typing import Any

from .._backend import compile_kernel, is_numpy_namespace
from . import elementwise, ewma, ewma_numpy, scaling_numpy
from .linalg_numpy import all_finite

_NAN = float("nan")


def shift_of(xp: Any, x0: Any) -> Any:
    """``(C,)``: ``x0`` with its non-finite entries replaced by 0 (a fresh array)."""
    return xp.where(xp.isfinite(x0), x0, 0.0)


def first_sample_state(xp: Any, plan: Any, x0: Any) -> Any:
    """State of ``3 C`` sums in which ``x0`` ``(C,)`` was seen with full weight (river's
    convention: the first sample initialises the averages). A non-finite ``x0`` leaves its
    channel empty (weight 0) until its first finite sample."""
    v = xp.isfinite(x0)
    xv = xp.where(v, x0, 0.0)
    return ewma.state_after(xp, plan, xp.concat([xv, xv * xv, xp.astype(v, x0.dtype)]))


def _shifted_moments(xp: Any, x: Any, shift: Any) -> Any:
    return ewma.stack_moments(xp, x - shift)


def _scores_from_sums(xp: Any, s: Any, x: Any, shift: Any) -> Any:
    mean, mean_sq = ewma.moments_from_sums(xp, s)
    var = mean_sq - mean * mean
    ok = var > 0.0
    y = xp.where(ok, (x - shift - mean) / xp.sqrt(xp.where(ok, var, 1.0)), 0.0)
    return xp.where(xp.isfinite(x), y, _NAN)


def standard_scores(xp: Any, plan: Any, x: Any, z: Any, shift: Any) -> tuple[Any, Any]:
    """``(y, z_next)``: the scores of ``x`` ``(T, C)`` continued from ``z``, the moments
    taken of ``x - shift`` (``shift`` ``(C,)``, see ``shift_of``). The elementwise steps
    before and after the sums are compiled where ``_backend`` has a compiler."""
    if is_numpy_namespace(xp) and ewma_numpy.narrow(3 * x.shape[1]) and all_finite(x):
        return scaling_numpy.standard_scores(ewma_numpy.lfilter(), *ewma_numpy.coefficients(
            plan, x.dtype), x, z, shift)
    s, z = ewma.ewma_sums(xp, plan, compile_kernel(xp, _shifted_moments)(x, shift), z)
    return compile_kernel(xp, _scores_from_sums)(s, x, shift), z


# Rolling z-scores (``rollingscaler``): statistics of the last ``k`` batches.
#
# Shapes: ``x`` ``(T, C)``, already shifted by the stream's first sample (``shift_of``: the
# sums below then cancel little in float32). A batch is one row ``(1, 3 C)`` of sums over its
# kept samples: ``[n, sum x, sum x^2]`` per channel. The ring holds the last ``k`` rows
# (``(k, 3 C)``, zero rows before ``k`` batches arrived); the statistics are recomputed from
# the ring at every update (one sum, no subtraction of an evicted batch, so no drift). ``k``
# None: the ring is one row of running sums.


def batch_row(xp: Any, x: Any, keep: Any) -> Any:
    """``(1, 3 C)``: ``[n, sum x, sum x^2]`` over the entries of ``x`` where ``keep``."""
    if is_numpy_namespace(xp):
        return scaling_numpy.batch_row(x, keep)
    xv = xp.where(keep, x, 0.0)
    stacked = xp.concat([xp.astype(keep, x.dtype), xv, xv * xv], axis=1)
    return xp.sum(stacked, axis=0, keepdims=True)


def push(xp: Any, ring: Any, row: Any, accept: Any, bounded: bool) -> Any:
    """The ring after batch ``row`` arrives (only where ``accept``, a device bool; None:
    always). Bounded: the oldest row leaves. Unbounded: the one row of sums absorbs it."""
    new = xp.concat([ring[1:, ...], row], axis=0) if bounded else ring + row
    return new if accept is None else xp.where(accept, new, ring)


def rolling_stats(xp: Any, ring: Any) -> tuple[Any, Any, Any]:
    """``(n, mean, std)`` ``(1, C)`` pooled from the ring: population std floored at 1e-8
    (a channel without samples: mean 0, std 1e-8)."""
    tot = xp.sum(ring, axis=0, keepdims=True)
    C = tot.shape[1] // 3
    n = tot[:, :C]
    nd = xp.maximum(n, 1.0)
    mean = tot[:, C : 2 * C] / nd
    var = xp.maximum(tot[:, 2 * C :] / nd - mean * mean, 0.0)
    return n, mean, xp.maximum(xp.sqrt(var), 1e-8)


def gate_rows(xp: Any, z: Any, has: Any, thresh: float) -> Any:
    """``(T, 1)``: samples where any channel with statistics has ``|z| > thresh``."""
    return xp.any((xp.abs(z) > thresh) & has, axis=1, keepdims=True)


def rolling_scores(xp: Any, raw: Any, shift: Any, n: Any, mean: Any, std: Any, lim: float,
                   min_n: float) -> tuple[Any, Any, Any, Any]:
    """``(y, x, z, has)`` for the chunk ``raw`` ``(T, C)``: ``x = raw - shift``, the scores
    ``z`` against the statistics ``(n, mean, std)`` (of shifted data), ``has`` the channels
    with statistics, and the output ``y``: ``z`` with non-finite values 0, clipped to
    ``[-lim, lim]`` (``inf``: no clip), ``raw`` where fewer than ``min_n`` samples pooled."""
    if is_numpy_namespace(xp):
        return scaling_numpy.rolling_scores(raw, shift, n, mean, std, lim, min_n)
    x = raw - shift
    z = (x - mean) / std
    has = n > 0.0
    y = elementwise.clip(xp, xp.where(xp.isfinite(z), z, 0.0), -lim, lim)
    return xp.where(has & (n >= min_n), y, raw), x, z, has


def rolling_update(xp: Any, x: Any, z: Any, has: Any, ring: Any, thresh: float, *,
                   bounded: bool, gated: bool) -> tuple[Any, Any, Any, Any]:
    """``(ring, n, mean, std)`` after the batch ``x`` (shifted, ``(T, C)``); ``gated``: its
    samples with a channel's ``|z| > thresh`` are left out (``z``, ``has`` as from
    ``rolling_scores``; unused otherwise), and a batch left empty is not pushed."""
    keep = xp.isfinite(x)
    accept = None
    if gated:
        out = gate_rows(xp, z, has, thresh)
        keep = keep & ~out
        accept = xp.any(~out)
    ring = push(xp, ring, batch_row(xp, x, keep), accept, bounded)
    return (ring, *rolling_stats(xp, ring))


ROLLING_UPDATES = {(b, g): functools.partial(rolling_update, bounded=b, gated=g)
                   for b in (False, True) for g in (False, True)}
"""``rolling_update`` per ``(bounded, gated)``: stable objects to compile (one per variant)."""


def ewm_scores(xp: Any, plan: Any, x: Any, zero_offset: bool) -> Any:
    """``ewmfilter``'s standardisation of a buffer ``x`` ``(T, C)`` (stateless): the EWMA
    mean, the EWMA of squared deviations from it, ``(x - mean) / max(std, 1e-4)``. Averages
    start from zero (``zero_offset``) or from the buffer's first row."""
    def smooth(a: Any) -> Any:
        z = (ewma.zero_state(xp, plan, a.shape[1], like=a) if zero_offset
             else ewma.state_after(xp, plan, a[0, ...]))
        return ewma.ewma_sums(xp, plan, a, z)[0]

    d = x - smooth(x)
    return d / xp.maximum(xp.sqrt(smooth(d * d)), 1e-4)
