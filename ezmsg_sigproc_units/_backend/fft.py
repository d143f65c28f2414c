"""FFT calls that behave the same on every backend.

* array-api-strict's ``fft`` accepts only complex input: real input is cast first.
* torch's CPU FFT rejects a zero-size batch (MKL error) and MLX's is not asked either: a
  zero-size input gives zeros of the output shape without calling the library.
* MLX's ``fft`` has no ``norm=`` keyword, so these helpers compute the unnormalised
  ("backward") transform only; callers fold any normalisation into their window table.
* MLX computes FFTs in complex64 only (float64 input silently loses precision):
  ``fft_keeps_precision`` says when a caller must use an exact alternative (a DFT matrix).
* NumPy arrays go through ``scipy.fft`` (the same pocketfft algorithm, same dtypes): on the
  windows a spectrogram sees (500 x 64 float32) it took half the time of ``numpy.fft``.
"""

from __future__ import annotations

import math
from typing import Any

from .creation import zeros
from .namespace import backend_name, device_of


def complex_dtype(xp: Any, dtype: Any) -> Any:
    """The complex dtype matching a real or complex float ``dtype`` of ``xp``."""
    if xp.isdtype(dtype, "complex floating"):
        return dtype
    if dtype == xp.float64:  # MLX has no complex128: its float64 spectra come back complex64
        return getattr(xp, "complex128", xp.complex64)
    return xp.complex64


def fft_keeps_precision(xp: Any, dtype: Any) -> bool:
    """Whether ``xp``'s FFT computes ``dtype`` input at its own precision."""
    if backend_name(xp) == "mlx":
        return dtype in (xp.float32, xp.complex64, xp.float16, xp.bfloat16)
    return True


def _out_shape(x: Any, n: int, axis: int) -> tuple[int, ...]:
    shape = list(x.shape)
    shape[axis] = n
    return tuple(shape)


_SCIPY_FFT: list[Any] = []


def _host_fft(xp: Any) -> Any:
    """``scipy.fft`` for NumPy arrays (imported on first use), else ``xp.fft``."""
    if backend_name(xp) != "numpy":
        return xp.fft
    if not _SCIPY_FFT:
        import scipy.fft

        _SCIPY_FFT.append(scipy.fft)
    return _SCIPY_FFT[0]


def fft(xp: Any, x: Any, *, n: int, axis: int) -> Any:
    """Unnormalised complex FFT of ``x`` along ``axis``, zero-padded or truncated to ``n``."""
    cdt = complex_dtype(xp, x.dtype)
    if math.prod(x.shape) == 0 or n == 0:
        return zeros(xp, _out_shape(x, n, axis), dtype=cdt, device=device_of(x))
    name = backend_name(xp)
    if name == "numpy":
        return _host_fft(xp).fft(x, n=n, axis=axis)
    if name == "array_api_strict" and x.dtype != cdt:
        x = xp.astype(x, cdt)
    return xp.fft.fft(x, n=n, axis=axis)


def rfft(xp: Any, x: Any, *, n: int, axis: int) -> Any:
    """Unnormalised FFT of real ``x`` along ``axis`` (``n // 2 + 1`` bins)."""
    if math.prod(x.shape) == 0 or n == 0:
        return zeros(xp, _out_shape(x, n // 2 + 1 if n else 0, axis),
                     dtype=complex_dtype(xp, x.dtype), device=device_of(x))
    return _host_fft(xp).rfft(x, n=n, axis=axis)
