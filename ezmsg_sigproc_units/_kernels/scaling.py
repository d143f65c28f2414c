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

from typing import Any

from . import ewma

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


def standard_scores(xp: Any, plan: Any, x: Any, z: Any) -> tuple[Any, Any]:
    """``(y, z_next)``: the scores of ``x`` ``(T, C)`` continued from ``z``."""
    mean, mean_sq, z, _ = ewma.weighted_moments(xp, plan, x, z)
    var = mean_sq - mean * mean
    ok = var > 0.0
    y = xp.where(ok, (x - mean) / xp.sqrt(xp.where(ok, var, 1.0)), 0.0)
    return xp.where(xp.isfinite(x), y, _NAN), z


# Rolling z-scores (``rollingscaler``): statistics of the last ``k`` batches.
#
# Shapes: ``x`` ``(T, C)``; a batch's statistics are rows ``(1, C)``: count ``n`` of its
# finite, non-gated samples, their mean and sum of squared deviations ``m2``. The ring holds
# the last ``k`` batches' rows (``(k, C)`` each, zero rows before ``k`` batches arrived); the
# totals are recomputed from the ring (Chan et al.'s pooled mean and M2: no subtraction of an
# evicted batch, so no drift). ``k`` None: the ring is one row of running totals.


def batch_stats(xp: Any, x: Any, keep: Any) -> tuple[Any, Any, Any]:
    """``(n, mean, m2)`` ``(1, C)`` each over the entries of ``x`` where ``keep`` (``(T, C)``
    bool). A channel with none kept has ``n = mean = m2 = 0``."""
    n = xp.sum(xp.astype(keep, x.dtype), axis=0, keepdims=True)
    nd = xp.maximum(n, 1.0)
    mean = xp.sum(xp.where(keep, x, 0.0), axis=0, keepdims=True) / nd
    d = xp.where(keep, x - mean, 0.0)
    return n, mean, xp.sum(d * d, axis=0, keepdims=True)


def pooled(xp: Any, n: Any, mean: Any, m2: Any) -> tuple[Any, Any, Any]:
    """Pool the rows of ``(k, C)`` statistics into one ``(1, C)`` row ``(n, mean, m2)``."""
    total = xp.sum(n, axis=0, keepdims=True)
    mu = xp.sum(n * mean, axis=0, keepdims=True) / xp.maximum(total, 1.0)
    d = mean - mu
    return total, mu, xp.sum(m2, axis=0, keepdims=True) + xp.sum(n * d * d, axis=0,
                                                                  keepdims=True)


def push(xp: Any, ring: tuple, row: tuple, accept: Any, bounded: bool) -> tuple:
    """The ring after batch ``row`` arrives (only where ``accept``, a device bool; None:
    always). Bounded: the oldest row leaves. Unbounded: the one row of totals absorbs it."""
    if bounded:
        new = tuple(xp.concat([r[1:, ...], b], axis=0) for r, b in zip(ring, row, strict=True))
    else:
        new = pooled(xp, *(xp.concat([r, b], axis=0) for r, b in zip(ring, row, strict=True)))
    if accept is None:
        return new
    return tuple(xp.where(accept, a, b) for a, b in zip(new, ring, strict=True))


def rolling_raw(xp: Any, x: Any, n: Any, mean: Any, m2: Any) -> tuple[Any, Any]:
    """``(z, ready_channels)``: ``(x - mean) / max(std, 1e-8)`` with the population std of
    the totals, and where those totals hold at least one sample ``(1, C)``."""
    std = xp.maximum(xp.sqrt(m2 / xp.maximum(n, 1.0)), 1e-8)
    return (x - mean) / std, n > 0.0


def gate_rows(xp: Any, z: Any, has: Any, thresh: float) -> Any:
    """``(T, 1)``: samples where any channel with statistics has ``|z| > thresh``."""
    return xp.any((xp.abs(z) > thresh) & has, axis=1, keepdims=True)


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
