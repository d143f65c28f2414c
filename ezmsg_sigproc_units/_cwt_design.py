"""Host-side wavelet tables for the streaming CWT (``wavelets``): PyWavelets, imported
lazily, builds each scale's kernel as ``pywt.cwt`` does; the difference and ``-sqrt(scale)``
are folded into the taps, so the transform is one FIR bank (``_kernels.cwt``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PRECISION = 10
"""``pywt.integrate_wavelet`` / ``frequency2scale`` precision (2**10 points)."""


def wavelet_object(wavelet: Any) -> Any:
    """A PyWavelets wavelet object from a name or an object (ValueError for an unknown
    name)."""
    import pywt

    if isinstance(wavelet, (pywt.ContinuousWavelet, pywt.Wavelet)):
        return wavelet
    if not isinstance(wavelet, str):
        raise ValueError(f"wavelet: expected a name or a pywt wavelet, got {wavelet!r}")
    try:
        return pywt.DiscreteContinuousWavelet(wavelet)
    except ValueError as exc:
        raise ValueError(f"wavelet: {exc}") from None


def is_complex(wavelet: Any) -> bool:
    return bool(getattr(wavelet_object(wavelet), "complex_cwt", False))


def design(wavelet: Any, frequencies: Any, scales: Any, gain: float, single: bool,
           min_phase: str | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(taps (m + 1, K2) float64, freqs (K,) Hz, complex)`` for the scales (given, sorted
    largest first) or the frequencies (sorted smallest first; scales from
    ``pywt.frequency2scale`` at the sampling period ``gain``). ``single``: the wavelet grid is
    rounded to float32 first, as a float32 stream's resampling indices are computed.
    ``min_phase``: ``"hilbert"`` or ``"homomorphic"`` converts each (real) scale kernel by
    ``scipy.signal.minimum_phase`` before the difference is folded in."""
    import pywt

    w = wavelet_object(wavelet)
    out = pywt.integrate_wavelet(w, precision=PRECISION)
    if len(out) != 2:
        raise ValueError(f"wavelet: {w.name} is biorthogonal; give a continuous wavelet")
    int_psi, grid = np.asarray(out[0]), np.asarray(out[1])
    cplx = bool(getattr(w, "complex_cwt", False))
    if cplx:
        int_psi = np.conj(int_psi)
    if frequencies is not None:
        f = np.sort(np.asarray(frequencies, dtype=np.float64))
        sc = np.asarray(pywt.frequency2scale(w, f * gain, precision=PRECISION), dtype=float)
    else:
        sc = np.sort(np.asarray(scales, dtype=np.float64))[::-1]
    grid = grid.astype(np.float32 if single else np.float64)
    span, step = grid[-1] - grid[0], grid[1] - grid[0]
    kernels = []
    for s in sc:
        ix = (np.arange(s * span + 1) / (s * step)).astype(int)
        kernels.append(int_psi[ix[ix < int_psi.size]][::-1])
    if min_phase is not None:
        import scipy.signal

        kernels = [scipy.signal.minimum_phase(np.real(k), method=min_phase) for k in kernels]
    freqs = np.asarray(pywt.scale2frequency(w, sc, PRECISION), dtype=float) / gain
    return _diff_taps(kernels, sc, cplx), freqs, cplx


def _diff_taps(kernels: list[np.ndarray], scales: np.ndarray, cplx: bool) -> np.ndarray:
    m = max(k.shape[0] for k in kernels)
    K = len(kernels)
    taps = np.zeros((m + 1, 2 * K if cplx else K))
    for i, (k, s) in enumerate(zip(kernels, scales, strict=True)):
        d = np.zeros(m + 1, dtype=complex)
        d[: k.shape[0]] += k
        d[1 : k.shape[0] + 1] -= k
        d *= -math.sqrt(s)
        taps[:, i] = d.real
        if cplx:
            taps[:, K + i] = d.imag
    return taps


