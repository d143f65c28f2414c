"""Streaming continuous wavelet transform as a FIR bank (every backend); the taps come from
``_cwt_design`` (PyWavelets, on the host).

The transform at scale ``s`` is ``-sqrt(s) * diff(lfilter(k_s, [1], x))`` with ``k_s`` the
integrated wavelet resampled to the scale and reversed (``pywt.cwt``'s construction, taken
causally: no centring, since a stream has no future). The difference is folded into the taps
(``d_s = -sqrt(s) * ([k_s, 0] - [0, k_s])``), so the whole transform is one FIR bank. A complex
wavelet gives two real columns per scale (real and imaginary taps), joined after filtering.

Shapes: ``x`` ``(T, C)`` time first; the scales run in groups of similar kernel length, each
``(m_g + 1, kk)`` taps (kk = its scales, twice that for a complex wavelet); ``tail`` the last
``m`` inputs ``(m, C)`` (m the longest ``m_g``); output ``(C, K, T)``, complex for a complex
wavelet. Each group runs each chunk as one FFT frame of ``N >= T + m_g`` samples
(``fft_size``: short frames for short chunks); the taps' spectrum per ``N`` is computed on the
device once (``bank_spectrum``) and kept by the caller.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._backend import arange, compile_kernel, device_of, runs_synchronously, zeros
from .._backend import fft as _fft
from .linalg import matmul
from .nonfinite import host_all_finite, within

_NAN = float("nan")


@functools.lru_cache(maxsize=256)
def fft_size(need: int) -> int:
    """The smallest even ``2**a 3**b 5**c`` (a >= 1) of at least ``need`` (and 16)."""
    return 2 * _smooth(-(-need // 2))


def _smooth(need: int) -> int:
    need, best = max(need, 16), 1 << (max(need, 16) - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            n = p35 * (1 << max(0, (-(-need // p35) - 1).bit_length()))
            best = min(best, n)
            p35 *= 3
        p5 *= 5
    return best


def groups(taps: np.ndarray, n_scales: int, cplx: bool, ratio: float = 0.6
           ) -> list[tuple[int, int, int]]:
    """Contiguous scale ranges ``(start, stop, m_g)`` sharing one frame length: a new group
    starts where a scale's kernel is shorter than ``ratio`` of its group's longest. ``m_g + 1``
    taps cover the group (its longest kernel)."""
    length = [max(w for w in (spans(taps[:, [i, n_scales + i]] if cplx else taps[:, [i]])))
              for i in range(n_scales)]
    out: list[list[int]] = []
    for i, n in enumerate(length):
        if out and n >= ratio * out[-1][2]:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1, n])
        out[-1][2] = max(out[-1][2], n)
    return [(a, b, max(n - 1, 0)) for a, b, n in out]


def group_taps(taps: np.ndarray, n_scales: int, cplx: bool, a: int, b: int, mg: int
               ) -> np.ndarray:
    """``(mg + 1, kk)`` taps of scales ``a:b`` (real columns, then imaginary ones)."""
    cols = list(range(a, b)) + (list(range(n_scales + a, n_scales + b)) if cplx else [])
    return np.array(taps[: mg + 1, cols])


def bank_spectrum(xp: Any, taps: Any, n: int) -> Any:
    """``(kk, n // 2 + 1)``: the group taps' spectrum for frames of ``n`` (on their
    device)."""
    return xp.permute_dims(_fft.rfft(xp, taps, n=n, axis=0), (1, 0))


def spans(taps: np.ndarray) -> tuple[int, ...]:
    """Each column's length without trailing zero taps (for the non-finite guard)."""
    return tuple(int(np.flatnonzero(c)[-1]) + 1 if c.any() else 1 for c in (taps != 0.0).T)


def cwt_bank(xp: Any, tables: tuple, tail: Any, x: Any, *, direct: bool,
             ms: tuple[int, ...], span: tuple[tuple[int, ...], ...], n_cplx: tuple[int, ...]
             ) -> tuple[Any, Any]:
    """``(y (C, K, T), new_tail)``: ``x`` ``(T, C)`` through every group. ``tables``: per
    group the spectrum ``(kk, N // 2 + 1)`` for one frame of this chunk (``N >= T + m_g``),
    or (``direct``) the taps ``(m_g + 1, kk)``; ``ms`` each group's ``m_g``; ``span`` each
    group's column spans; ``n_cplx`` per group the number of scales whose real and imaginary
    columns are joined (0: real). Non-finite input reaches exactly the outputs whose taps
    read it."""
    T, C = x.shape
    if T == 0 or C == 0:
        K = sum(t.shape[0 if not direct else 1] - n for t, n in zip(tables, n_cplx, strict=True))
        dt = _fft.complex_dtype(xp, x.dtype) if any(n_cplx) else x.dtype
        return zeros(xp, (C, K, T), dtype=dt, device=device_of(x)), tail
    if runs_synchronously(xp, x):
        ys, new_tail = _bank(direct, ms, xp, tables, tail, x)
        if all(host_all_finite(xp, y) for y in ys):
            return _join(xp, ys, n_cplx), new_tail
    ys, new_tail = compile_kernel(xp, _guarded(direct, ms, span))(tables, tail, x)
    return _join(xp, ys, n_cplx), new_tail


def _bank(direct: bool, ms: tuple[int, ...], xp: Any, tables: tuple, tail: Any, x: Any
          ) -> tuple[list, Any]:
    m, T = tail.shape[0], x.shape[0]
    e = xp.concat([tail, x], axis=0)  # (T + m, C)
    et = None if direct else xp.permute_dims(e, (1, 0))
    ys = []
    for mg, tab in zip(ms, tables, strict=True):
        if direct:
            y = xp.permute_dims(_direct_windows(xp, tab, e[m - mg :, ...], T), (1, 2, 0))
        else:
            N = 2 * (tab.shape[1] - 1)
            f = _fft.rfft(xp, et[:, m - mg :], n=N, axis=1)
            f = xp.reshape(f, (f.shape[0], 1, f.shape[1])) * tab
            y = xp.fft.irfft(f, n=N, axis=2)[..., mg : mg + T]
            y = y if y.dtype == x.dtype else xp.astype(y, x.dtype)
        ys.append(y)
    return ys, e[T:, ...]


@functools.cache
def _guarded(direct: bool, ms: tuple[int, ...], span: tuple[tuple[int, ...], ...]) -> Any:
    return functools.partial(_guard, direct, ms, span)


def _guard(direct: bool, ms: tuple[int, ...], span: tuple[tuple[int, ...], ...], xp: Any,
           tables: tuple, tail: Any, x: Any) -> tuple[list, Any]:
    m, T = tail.shape[0], x.shape[0]
    e = xp.concat([tail, x], axis=0)
    bad = xp.logical_not(xp.isfinite(e))
    ec = xp.where(bad, 0.0, e)
    ys, _ = _bank(direct, ms, xp, tables, ec[:m, ...], ec[m:, ...])
    out = []
    for y, sp in zip(ys, span, strict=True):  # output t reads e[t + m + 1 - w : t + m + 1]
        hit = xp.stack([within(xp, bad[m + 1 - w :, ...], w, T) for w in sp], axis=-1)
        out.append(xp.where(xp.permute_dims(hit, (1, 2, 0)), _NAN, y))
    return out, e[T:, ...]


def _join(xp: Any, ys: list, n_cplx: tuple[int, ...]) -> Any:
    parts = [y if not k else join_complex(xp, y, k) for y, k in zip(ys, n_cplx, strict=True)]
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=1)


def _direct_windows(xp: Any, taps: Any, e: Any, T: int, budget: int = 1 << 22) -> Any:
    """``(T, C, kk)`` direct convolution: ``y[t] = sum_j taps[j] e[t + mg - j]``, in blocks of
    outputs whose gathered windows stay under ``budget`` elements."""
    mg, C = taps.shape[0] - 1, e.shape[1]
    dev = device_of(e)
    step = max(1, budget // ((mg + 1) * max(C, 1)))
    j = xp.reshape(arange(xp, mg + 1, dtype=xp.int32, device=dev), (1, mg + 1))
    parts = []
    for a in range(0, T, step):
        n = min(step, T - a)
        t = xp.reshape(arange(xp, a, a + n, dtype=xp.int32, device=dev), (n, 1))
        idx = xp.reshape(t + mg - j, (n * (mg + 1),))
        w = xp.reshape(xp.take(e, idx, axis=0), (n, mg + 1, C))
        parts.append(matmul(xp, xp.permute_dims(w, (0, 2, 1)), taps))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def join_complex(xp: Any, y: Any, k: int) -> Any:
    """``y[:, :k] + 1j * y[:, k:]`` in the complex dtype matching ``y``'s precision."""
    cdt = _fft.complex_dtype(xp, y.dtype)
    return xp.astype(y[:, :k, ...], cdt) + xp.astype(y[:, k:, ...], cdt) * 1j
