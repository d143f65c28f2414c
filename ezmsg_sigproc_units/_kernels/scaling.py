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
