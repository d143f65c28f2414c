"""Spectrum kernels: windowed FFT of a whole chunk along one axis, then a transform.

Host design (``bins``, ``dft_tables``) runs once while building state; the device kernels
(``windowed_fft``, ``windowed_dft``, ``finish``) take ``xp`` first and never leave the device.

Shapes: ``x`` is ``(..., n, ...)`` with the samples along ``axis``; the result has the same
shape with ``n`` replaced by the number of output bins ``k``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import fft as _fft

TRANSFORMS = ("complex", "real", "imag", "power", "magnitude", "db")


def bins(nfft: int, output: str, shift: bool) -> np.ndarray:
    """FFT bin indices (host int64) of the output, in output order.

    ``output`` is ``"positive"`` (bins ``0 .. nfft//2``), ``"full"`` (all bins; in
    frequency order from ``-(nfft//2)`` when ``shift``) or ``"negative"`` (bins
    ``-(nfft//2) .. 0``, always in frequency order)."""
    if nfft == 0:
        return np.zeros(0, dtype=np.int64)
    if output == "positive":
        return np.arange(nfft // 2 + 1)
    ordered = np.fft.fftshift(np.arange(nfft))
    if output == "full":
        return ordered if shift else np.arange(nfft)
    return ordered[: nfft // 2 + 1]


def dft_tables(win: np.ndarray, idx: np.ndarray, nfft: int) -> tuple[np.ndarray, np.ndarray]:
    """``(C, S)``, each ``(n, k)`` float64, such that ``x @ C + 1j * (x @ S)`` is the FFT of
    ``x * win`` (length ``n``, zero-padded or truncated to ``nfft``) at bins ``idx``."""
    n = win.shape[0]
    j = np.arange(n)[:, None]
    phase = 2.0 * np.pi * ((j * idx[None, :]) % max(nfft, 1)) / max(nfft, 1)
    keep = (j < nfft) * win[:, None]
    return keep * np.cos(phase), -keep * np.sin(phase)


def windowed_fft(xp: Any, x: Any, *, axis: int, nfft: int, win: Any, one_sided: bool,
                 take: Any) -> Any:
    """Complex spectrum of ``x * win`` along ``axis`` (``win`` broadcastable, or None).

    ``one_sided`` uses the real FFT (real ``x``, positive output); otherwise the full FFT is
    reordered/selected with ``take`` (device int index array, or None for all bins)."""
    xw = x if win is None else x * win
    if one_sided:
        return _fft.rfft(xp, xw, n=nfft, axis=axis)
    f = _fft.fft(xp, xw, n=nfft, axis=axis)
    if take is not None and math.prod(f.shape) > 0:
        f = xp.take(f, take, axis=axis)
    elif take is not None:  # empty batch: only the shape changes
        shape = list(f.shape)
        shape[axis] = take.shape[0]
        f = xp.reshape(f, tuple(shape))
    return f


def windowed_dft(xp: Any, x: Any, *, perm: tuple[int, ...] | None,
                 inv_perm: tuple[int, ...] | None, cos_t: Any, sin_t: Any) -> tuple[Any, Any]:
    """``(real, imag)`` of the spectrum by matrix products with ``dft_tables`` (exact in the
    data's precision where the library's FFT is not). ``perm`` moves the sample axis last
    and ``inv_perm`` puts the bin axis back."""
    xt = x if perm is None else xp.permute_dims(x, perm)
    re, im = xt @ cos_t, xt @ sin_t
    if inv_perm is not None:
        re, im = xp.permute_dims(re, inv_perm), xp.permute_dims(im, inv_perm)
    return re, im


def finish(xp: Any, spec: Any, transform: str, weight: Any = None) -> Any:
    """Apply ``transform`` to a complex spectrum ``spec`` or a ``(real, imag)`` pair.

    ``power`` is ``|F|^2 * weight``, ``magnitude`` its square root (``|F|`` without a
    weight), ``db`` ``10 log10`` of the power (0 gives -inf). ``weight`` is a Python float
    or a device array broadcastable to the spectrum (e.g. one-sided doubling)."""
    pair = isinstance(spec, tuple)
    if transform == "complex":
        if not pair:
            return spec
        cdt = _fft.complex_dtype(xp, spec[0].dtype)
        return xp.astype(spec[0], cdt) + xp.astype(spec[1], cdt) * 1j
    re, im = spec if pair else (xp.real(spec), xp.imag(spec))
    if transform == "real":
        return re
    if transform == "imag":
        return im
    if transform == "magnitude" and weight is None and not pair:
        return xp.abs(spec)
    return finish_power(xp, re * re + im * im, transform, weight)


def finish_power(xp: Any, p: Any, transform: str, weight: Any = None) -> Any:
    """``power``/``magnitude``/``db`` of a power spectrum ``p`` scaled by ``weight``."""
    if weight is not None:
        p = p * weight
    if transform == "power":
        return p
    if transform == "magnitude":
        return xp.sqrt(p)
    return 10.0 * xp.log10(p)


def multitaper_fft(xp: Any, x: Any, *, axis: int, nfft: int, tabs: Any, one_sided: bool,
                   take: Any) -> Any:
    """``sum_k |FFT(x * tabs[k])|^2`` along ``axis``: ``tabs`` is ``(K, ...)`` broadcastable
    against ``x`` with one more leading dim (scale factors folded in)."""
    f = windowed_fft(xp, xp.expand_dims(x, axis=0) * tabs, axis=axis + 1, nfft=nfft,
                     win=None, one_sided=one_sided, take=take)
    re, im = xp.real(f), xp.imag(f)
    return xp.sum(re * re + im * im, axis=0)


def multitaper_dft(xp: Any, x: Any, *, perm: tuple[int, ...] | None,
                   inv_perm: tuple[int, ...] | None, cos_t: Any, sin_t: Any) -> Any:
    """As ``multitaper_fft`` by matrix products: ``cos_t``/``sin_t`` are ``dft_tables`` of
    each taper stacked as ``(K, 1, ..., 1, n, k)`` (``x.ndim - 1`` ones)."""
    xt = xp.expand_dims(x if perm is None else xp.permute_dims(x, perm), axis=-2)
    re, im = xt @ cos_t, xt @ sin_t  # (K, ..., 1, k)
    p = xp.squeeze(xp.sum(re * re + im * im, axis=0), axis=-2)
    return p if inv_perm is None else xp.permute_dims(p, inv_perm)


def power_scale(win: np.ndarray, fs: float, kind: str, scaling: str | None) -> float:
    """Host factor applied to ``|FFT(x * win)|^2``: ``kind`` ``"relative"`` gives
    ``fs / sum(win^2)`` (ezmsg-sigproc's relative power); ``scaling`` ``"density"``
    ``1 / (fs sum(win^2))`` and ``"spectrum"`` ``1 / sum(win)^2`` (scipy.signal.periodogram);
    else 1."""
    if kind == "relative":
        s2 = float(np.sum(win * win))
        return fs / s2 if s2 > 0 else 1.0
    if scaling == "density":
        return 1.0 / (fs * float(np.sum(win * win)))
    if scaling == "spectrum":
        return 1.0 / float(np.sum(win)) ** 2
    return 1.0


def one_sided_doubling(k: int, nfft: int) -> np.ndarray:
    """Host ``(k,)`` factors 2 for bins 1..nfft//2 of a one-sided spectrum, 1 for DC and
    (even ``nfft``) Nyquist, as scipy.signal.periodogram doubles them."""
    d = np.full(k, 2.0)
    d[0] = 1.0
    if nfft % 2 == 0:
        d[-1] = 1.0
    return d
