"""Adaptive line-noise cancellation: the notch cascade and the frequency-locked loop, per
update window, with the line frequency kept on the data's device.

Shapes: ``x`` ``(r, C)`` is one segment, time first, ``1 <= r <= L`` (``L`` the update window
in samples, one line period), in the compute dtype. ``K`` harmonics. Device state:

* ``zi`` ``(K, 2, C)``: the transposed-direct-form-II state of each notch section (scipy's
  ``sosfilt`` ``zi`` layout);
* ``acc`` ``(2K, C)``: the window's demodulation sums (cos rows, then sin rows);
* ``prev`` ``(2, C)``: the previous window's fundamental phasor (real, imaginary rows);
* ``scal`` ``(2,)``: the line's angular frequency ``omega`` (rad/sample) and the oscillator
  phase (rad, kept in ``[0, 2 pi)``);
* ``est`` ``(3K, C)`` (subtract): the smoothed phasors (real, imaginary) and the committed
  amplitudes; ``theta`` ``(K,)`` the committed phases.

``gains`` ``(7,)``: ``mu``, ``beta``, ``omega_min``, ``omega_max``, ``alpha``, ``2 / L``, ``L``.
The notch of harmonic ``k`` is ``(1, -2 c, 1) / (1, -(2 - mu) c, 1 - mu)``,
``c = cos(k omega)``; ``omega`` changes only at window ends, so each segment is filtered as
a linear block (``y = H x + O z``, ``z' = A^r z + S x``) whose matrices come from ``omega``
on the device (powers of each section's 2x2 transition matrix by doubling). No host
synchronisation: the loop's decisions (``cross != 0``, bounds) are ``where``/``clip``. Every
function returns new arrays and never writes into its inputs.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .._backend import asarray, compile_kernel, eye, is_numpy_namespace
from . import lnc_numpy

TWO_PI = 2.0 * math.pi


def constants(xp: Any, L: int, K: int, *, dtype: Any, device: Any) -> tuple:
    """Device constants of a window length ``L`` and ``K`` harmonics: ``(toeplitz index
    (L * L,), reversed index (L,), arange (L,) float, harmonic numbers (K,) float, I2)``."""
    i, j = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    tidx = np.where(i >= j, i - j + 1, 0).reshape(-1)
    ints = xp.int32  # every backend has it (JAX without x64 has no int64)
    return (asarray(xp, tidx, dtype=ints, device=device),
            asarray(xp, np.arange(L - 1, -1, -1), dtype=ints, device=device),
            asarray(xp, np.arange(L, dtype=np.float64), dtype=dtype, device=device),
            asarray(xp, np.arange(1, K + 1, dtype=np.float64), dtype=dtype, device=device),
            eye(xp, 2, dtype=dtype, device=device))


def window_mats(xp: Any, omega: Any, mu: Any, consts: tuple) -> tuple:
    """Block matrices of the notch cascade at ``omega``: ``(H (L, L, K), O (L + 1, K, 2),
    AB (L + 1, K, 2), P (L + 1, K, 2, 2))`` with ``P[t] = A^t``, ``O[t] = C A^t``,
    ``AB[t] = A^t B`` and ``H[i, j] = h[i - j]`` (the impulse response, 0 above the
    diagonal)."""
    tidx, _, ar, karr, i2 = consts
    L, K = ar.shape[0], karr.shape[0]
    c = xp.cos(karr * omega)
    z = xp.zeros_like(c)
    one = z + 1
    a = xp.reshape(xp.stack([(2 - mu) * c, one, -(1 - mu) * one, z], axis=1), (K, 2, 2))
    b = xp.reshape(xp.stack([-mu * c, mu * one], axis=1), (K, 2, 1))
    p = xp.reshape(i2, (1, 1, 2, 2)) + xp.reshape(z, (1, K, 1, 1))
    ap = xp.reshape(a, (1, K, 2, 2))
    while p.shape[0] < L + 1:
        p = xp.concat([p, ap @ p], axis=0)
        ap = ap @ ap
    p = p[: L + 1, ...]
    ab = (p @ xp.reshape(b, (1, K, 2, 1)))[..., 0]
    hpad = xp.concat([xp.reshape(z, (1, K)), xp.reshape(one, (1, K)),
                      ab[: L - 1, :, 0]], axis=0)
    h = xp.reshape(xp.take(hpad, tidx, axis=0), (L, L, K))
    return h, p[:, :, 0, :], ab, p


def notch_segment(xp: Any, x: Any, zi: Any, mats: tuple, consts: tuple) -> tuple:
    """``x`` ``(r, C)`` through the cascade: ``(y (r, C), zi')``."""
    h, o, ab, p = mats
    rev = consts[1]
    r, L = x.shape[0], h.shape[0]
    idx = rev[L - r:]
    zs = []
    for k in range(zi.shape[0]):
        z = zi[k, ...]
        s = xp.take(ab[:, k, :], idx, axis=0)  # (r, 2): rows A^(r-1-j) B
        y = h[:r, :r, k] @ x + o[:r, k, :] @ z
        zs.append(p[r, k, ...] @ z + xp.permute_dims(s, (1, 0)) @ x)
        x = y
    return x, xp.stack(zs)


def _demod(xp: Any, x: Any, scal: Any, consts: tuple, harmonics: int) -> tuple:
    """``(cos, sin)`` rows ``(harmonics, r)`` of the oscillator over the segment, and the
    segment's base phase ``(r,)``."""
    ar, karr = consts[2], consts[3]
    base = scal[1] + scal[0] * ar[: x.shape[0]]
    arg = xp.reshape(karr[:harmonics], (harmonics, 1)) * xp.reshape(base, (1, base.shape[0]))
    return xp.cos(arg), xp.sin(arg), base


def advance_phase(xp: Any, scal: Any, r: int) -> Any:
    """``scal`` with the phase moved on by ``r`` samples at ``omega`` (wrapped to 2 pi)."""
    ph = scal[1] + scal[0] * r
    return xp.stack([scal[0], ph - TWO_PI * xp.floor(ph / TWO_PI)])


def fll(xp: Any, scal: Any, prev: Any, zr: Any, zi: Any, gains: Any, first: bool) -> Any:
    """``scal`` with ``omega`` nudged by the pooled rotation of the phasor ``zr + j zi``
    ``(C,)`` since ``prev`` (unchanged on the first window or a zero cross product), then
    clipped to ``[omega_min, omega_max]``."""
    if first:
        return scal
    cr = xp.sum(zr * prev[0, ...] + zi * prev[1, ...])
    ci = xp.sum(zi * prev[0, ...] - zr * prev[1, ...])
    new = xp.clip(scal[0] + gains[1] * xp.atan2(ci, cr) / gains[6], gains[2], gains[3])
    moved = (cr != 0) | (ci != 0)
    return xp.stack([xp.where(moved, new, scal[0]), scal[1]])


def notch_step(xp: Any, x: Any, zi: Any, acc: Any, prev: Any, scal: Any, gains: Any,
               consts: tuple, *, close: bool, first: bool, track: bool = True) -> tuple:
    """One segment in notch mode: ``(y, zi', acc', prev', scal')``. ``close``: the segment
    ends the window (the FLL steps, the sums restart); ``first``: no previous window yet;
    ``track=False``: filter only (frozen frequency)."""
    mats = window_mats(xp, scal[0], gains[0], consts)
    y, zi = notch_segment(xp, x, zi, mats, consts)
    if not track:
        return y, zi, acc, prev, advance_phase(xp, scal, x.shape[0])
    cs, sn, _ = _demod(xp, x, scal, consts, 1)
    removed = x - y
    acc = acc + xp.concat([cs @ removed, sn @ removed], axis=0)
    scal = advance_phase(xp, scal, x.shape[0])
    if close:
        zr, zim = acc[0, ...], -acc[1, ...]
        scal = fll(xp, scal, prev, zr, zim, gains, first)
        prev, acc = xp.stack([zr, zim]), acc * 0
    return y, zi, acc, prev, scal


def subtract_step(xp: Any, x: Any, est: Any, theta: Any, acc: Any, prev: Any, scal: Any,
                  gains: Any, consts: tuple, *, close: bool, first: bool, committed: bool,
                  smoothed: bool, tracking: bool) -> tuple:
    """One segment in subtract mode: ``(y, est', theta', acc', prev', scal')``. The line
    committed at the last window end (``committed``) is reconstructed and subtracted; the
    input is demodulated at every harmonic. At a window end the phasors are smoothed
    (``smoothed``: an earlier estimate exists), the common-mode phase and per-channel
    amplitudes committed, and (``tracking``) the FLL steps on the raw fundamental."""
    K = theta.shape[0]
    cs, sn, base = _demod(xp, x, scal, consts, K)
    y = x
    if committed:
        karr = xp.reshape(consts[3][:K], (K, 1))
        line = xp.cos(karr * xp.reshape(base, (1, base.shape[0])) + xp.reshape(theta, (K, 1)))
        y = x - xp.permute_dims(line, (1, 0)) @ est[2 * K:, ...]
    acc = acc + xp.concat([cs @ x, sn @ x], axis=0)
    scal = advance_phase(xp, scal, x.shape[0])
    if not close:
        return y, est, theta, acc, prev, scal
    zr, zi = gains[5] * acc[:K, ...], -gains[5] * acc[K:, ...]
    z0r, z0i = zr[0, ...], zi[0, ...]
    if smoothed:
        alpha = gains[4]
        zr = (1 - alpha) * est[:K, ...] + alpha * zr
        zi = (1 - alpha) * est[K:2 * K, ...] + alpha * zi
    mag = xp.sqrt(zr * zr + zi * zi)
    sr, si = xp.sum(zr * mag, axis=1), xp.sum(zi * mag, axis=1)
    theta = xp.where((sr == 0) & (si == 0), xp.zeros_like(sr), xp.atan2(si, sr))
    amp = zr * xp.reshape(xp.cos(theta), (K, 1)) + zi * xp.reshape(xp.sin(theta), (K, 1))
    amp = xp.where(amp > 0, amp, xp.zeros_like(amp))
    if tracking:
        scal = fll(xp, scal, prev, z0r, z0i, gains, first)
        prev = xp.stack([z0r, z0i])
    return y, xp.concat([zr, zi, amp], axis=0), theta, acc * 0, prev, scal


def step(xp: Any, name: str, **flags: bool) -> Any:
    """The segment step ``name`` (``"notch_step"``, ``"subtract_step"``) with its static
    flags bound: NumPy's native one (``lnc_numpy``), else the portable one compiled where
    ``_backend`` compiles."""
    if is_numpy_namespace(xp):
        return functools.partial(getattr(lnc_numpy, name), **flags)
    return compiled(xp, globals()[name], **flags)


def compiled(xp: Any, fn: Any, **flags: bool) -> Any:
    """``fn`` with its static flags bound, compiled where ``_backend`` compiles (one stable
    function object per flag combination, so the compiler's cache holds)."""
    key = (fn, tuple(sorted(flags.items())))
    part = _PARTIALS.get(key)
    if part is None:
        part = _PARTIALS[key] = functools.partial(_call, fn, tuple(sorted(flags.items())))
    return compile_kernel(xp, part)


def _call(fn: Any, flags: tuple, xp: Any, *arrays: Any) -> Any:
    return fn(xp, *arrays, **dict(flags))


_PARTIALS: dict = {}
