"""NumPy implementation of the ``lnc`` segment steps: the line frequency and phase as host
floats, each segment through ``scipy.signal.lfilter`` once per section (C loop; measured
~9 us per 17 x 8 segment against ~45 us for ``sosfilt``, whose axis handling dominates) instead
of the block matrices rebuilt from ``omega`` at every window (about 25 small array
operations). Same arguments and results as ``lnc.notch_step`` / ``lnc.subtract_step``."""

from __future__ import annotations

import math

import numpy as np

TWO_PI = 2.0 * math.pi
_CONJ = np.array([[1.0], [-1.0]])


def _cascade(x: np.ndarray, zi: np.ndarray, omega: float, mu: float) -> tuple:
    """``x`` through the notch of every harmonic, transposed direct form II per section."""
    import scipy.signal  # lazily (import cost); a dict lookup once imported

    out = np.empty_like(zi)
    for k in range(zi.shape[0]):
        c = math.cos((k + 1) * omega)
        b = np.array([1.0, -2.0 * c, 1.0])
        a = np.array([1.0, -(2.0 - mu) * c, 1.0 - mu])
        x, out[k] = scipy.signal.lfilter(b, a, x, axis=0, zi=zi[k])
    return x, out


def _advance(omega: float, phase: float, r: int) -> np.ndarray:
    ph = phase + omega * r
    return np.array([omega, ph - TWO_PI * math.floor(ph / TWO_PI)])


def _fll(omega: float, prev: np.ndarray, zr: np.ndarray, zi: np.ndarray, g: list,
         first: bool) -> float:
    if first:
        return omega
    cr = float(zr @ prev[0] + zi @ prev[1])
    ci = float(zi @ prev[0] - zr @ prev[1])
    if cr == 0 and ci == 0:
        return omega
    return min(max(omega + g[1] * math.atan2(ci, cr) / g[6], g[2]), g[3])


def _trig(ph: np.ndarray) -> np.ndarray:
    """``[cos(ph); sin(ph)]``: ``(2, r)`` for ``(r,)``, ``(2K, r)`` for ``(K, r)``."""
    ph2 = ph.reshape(-1, ph.shape[-1])
    n = ph2.shape[0]
    out = np.empty((2 * n, ph.shape[-1]))
    np.cos(ph2, out=out[:n])
    np.sin(ph2, out=out[n:])
    return out


def notch_step(x, zi, acc, prev, scal, gains, consts, *, close, first, track=True):
    omega, phase = scal.tolist()
    g = gains.tolist()
    y, zi = _cascade(x, zi, omega, g[0])
    r = x.shape[0]
    if not track:
        return y, zi, acc, prev, _advance(omega, phase, r)
    acc = acc + _trig(phase + omega * consts[2][:r]) @ (x - y)
    scal = _advance(omega, phase, r)
    if close:
        z = acc * _CONJ  # the phasor: real, imaginary rows
        scal[0] = _fll(omega, prev, z[0], z[1], g, first)
        prev, acc = z, np.zeros_like(acc)
    return y, zi, acc, prev, scal


def subtract_step(x, est, theta, acc, prev, scal, gains, consts, *, close, first, committed,
                  smoothed, tracking):
    omega, phase = scal.tolist()
    g = gains.tolist()
    K, r = theta.shape[0], x.shape[0]
    arg = np.multiply.outer(consts[3][:K], phase + omega * consts[2][:r])
    y = x
    if committed:
        y = x - np.cos(arg + theta[:, None]).T @ est[2 * K:]
    acc = acc + _trig(arg) @ x
    scal = _advance(omega, phase, r)
    if not close:
        return y, est, theta, acc, prev, scal
    zr, zi = g[5] * acc[:K], -g[5] * acc[K:]
    z0r, z0i = zr[0], zi[0]
    if smoothed:
        zr = (1 - g[4]) * est[:K] + g[4] * zr
        zi = (1 - g[4]) * est[K:2 * K] + g[4] * zi
    mag = np.sqrt(zr * zr + zi * zi)
    theta = np.arctan2(np.sum(zi * mag, axis=1), np.sum(zr * mag, axis=1))
    amp = np.maximum(zr * np.cos(theta)[:, None] + zi * np.sin(theta)[:, None], 0.0)
    if tracking:
        scal[0] = _fll(omega, prev, z0r, z0i, g, first)
        prev = np.stack([z0r, z0i])
    return y, np.concatenate([zr, zi, amp]), theta, np.zeros_like(acc), prev, scal
