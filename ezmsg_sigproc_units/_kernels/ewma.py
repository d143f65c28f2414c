"""Exponentially weighted moving sums and moments, streaming along time (every backend).

Shapes: ``x`` is ``(T, C)``, time first (``_kernels.axes.to_time_major``), ``T == 0``
allowed. The recurrence is the first-order IIR section ``s[t] = alpha x[t] + (1 - alpha)
s[t-1]`` (``scipy.signal.lfilter([alpha], [1, alpha - 1], x)``), run by the block
state-space kernel (``iir``): no loop over samples. The state ``z`` is opaque, made by
``zero_state`` or ``state_after`` for one channel count; its layout depends only on the
namespace and that count, both of which reset a processor's state when they change.

* ``ewma_sums``: the zero-initialised sums; ``bias_correction`` gives the divisor
  ``1 - (1 - alpha)^t`` that turns them into the exponentially weighted mean of the samples
  seen so far (the first output equals the first sample).
* ``weighted_moments``: mean and mean square of the *finite* samples only: sums of ``x v``,
  ``x^2 v`` and ``v`` (``v`` = 1 where ``x`` is finite, else 0), the mean being their ratio.
  A non-finite sample neither enters the statistics nor spoils later ones, and with every
  sample finite the mean equals the bias-corrected ``ewma_sums``.

Non-finite input to ``ewma_sums`` behaves as in ``lfilter``: NaN from there on, per channel.
Float32 rounding accumulates over about ``1 / alpha`` samples (relative error ~``eps / alpha``).
NumPy runs ``ewma_numpy`` (``lfilter`` for few channels) in a visible branch; both paths give
the same numbers to float rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import compile_kernel, is_numpy_namespace
from . import ewma_numpy, iir

_TINY = 1e-30  # far below any weight a finite sample gives, a normal float32

BLOCK = 32
"""Block length of the state-space kernel (samples per matrix product)."""


def alpha_from_tau(tau: float, dt: float) -> float:
    """Smoothing factor for a time constant ``tau`` at sample period ``dt`` (both seconds):
    ``1 - exp(-dt / tau)``; a unit step reaches ``1 - 1/e`` of its height after ``tau``."""
    return -math.expm1(-dt / tau)


def tau_from_alpha(alpha: float, dt: float) -> float:
    """Inverse of ``alpha_from_tau``."""
    return -dt / math.log1p(-alpha)


def ewma_plan(xp: Any, alpha: float, *, dtype: Any, device: Any) -> iir.IIRPlan:
    """The filter ``alpha / (1 - (1 - alpha) z^-1)`` in ``dtype`` on ``device``."""
    sos = np.array([[alpha, 0.0, 0.0, 1.0, alpha - 1.0, 0.0]])
    return iir.iir_plan(xp, sos, dtype=dtype, device=device, block=BLOCK)


def zero_state(xp: Any, plan: iir.IIRPlan, n_channels: int, like: Any) -> Any:
    """The state of ``n_channels`` sums that start from zero (``like``: an array on the
    target device)."""
    if is_numpy_namespace(xp) and ewma_numpy.narrow(n_channels):
        return ewma_numpy.zero_state(plan, n_channels)
    return iir.iir_zero_state(xp, plan, n_channels, like=like)


def state_after(xp: Any, plan: iir.IIRPlan, prev: Any) -> Any:
    """The state in which the previous output was ``prev`` (``(C,)``): the next sample ``x``
    gives ``alpha x + (1 - alpha) prev``."""
    if is_numpy_namespace(xp) and ewma_numpy.narrow(prev.shape[0]):
        return ewma_numpy.state_after(plan, prev)
    return iir.iir_initial_state(xp, plan, prev)


def ewma_sums(xp: Any, plan: iir.IIRPlan, x: Any, z: Any) -> tuple[Any, Any]:
    """``(s, z_next)``: the sums of ``x`` ``(T, C)`` continued from ``z``. An empty ``x``
    leaves ``z`` as it is; ``z_next`` is a fresh array."""
    if is_numpy_namespace(xp):
        return ewma_numpy.ewma_sums(xp, plan, x, z)
    return iir.iir_filter(xp, plan, x, z)


def bias_correction(alpha: float, n_seen: int, n: int) -> np.ndarray:
    """Host ``(n, 1)`` float64 divisors ``1 - (1 - alpha)^t`` for cumulative sample counts
    ``t = n_seen + 1 .. n_seen + n``."""
    t = np.arange(n_seen + 1, n_seen + n + 1, dtype=np.float64)
    return -np.expm1(t * math.log1p(-alpha))[:, None]


def settle_count(alpha: float, eps: float) -> float:
    """Cumulative sample count from which ``bias_correction`` rounds to exactly 1.0 in a
    dtype of machine epsilon ``eps`` (``(1 - alpha)^t < eps / 4``, below half the spacing of
    floats under 1): the division can be skipped from then on."""
    if not 0.0 < alpha < 1.0:
        return 0.0 if alpha >= 1.0 else math.inf
    return math.log(0.25 * eps) / math.log1p(-alpha)


def stack_moments(xp: Any, x: Any) -> Any:
    """``(T, 3C)``: ``[x v, x^2 v, v]`` with ``v`` 1.0 where ``x`` is finite, else 0.0."""
    v = xp.isfinite(x)
    xv = xp.where(v, x, 0.0)
    return xp.concat([xv, xv * xv, xp.astype(v, x.dtype)], axis=1)


def moments_from_sums(xp: Any, s: Any) -> tuple[Any, Any]:
    """``(mean, mean_sq)`` ``(T, C)`` from the sums ``s`` ``(T, 3 C)`` of ``stack_moments``:
    ratios to the summed weight (0 where no finite sample has arrived yet)."""
    C = s.shape[1] // 3
    wd = s[:, 2 * C :] + _TINY  # a weight of 0 gives 0, not 0 / 0, and no warning
    return s[:, :C] / wd, s[:, C : 2 * C] / wd


def weighted_moments(xp: Any, plan: iir.IIRPlan, x: Any, z: Any
                     ) -> tuple[Any, Any, Any, Any]:
    """``(mean, mean_sq, z_next, weight)`` of ``x`` ``(T, C)`` over its finite samples, each
    ``(T, C)``, continued from ``z`` (a state of ``3 C`` sums). ``weight`` is the summed
    weight of the finite samples so far; where it is 0 (before a channel's first finite
    sample) the moments are 0. The elementwise steps are compiled where ``_backend`` has a
    compiler (one dispatch each on JAX and MLX)."""
    s, z = ewma_sums(xp, plan, compile_kernel(xp, stack_moments)(x), z)
    mean, mean_sq = compile_kernel(xp, moments_from_sums)(s)
    return mean, mean_sq, z, s[:, 2 * x.shape[1] :]
