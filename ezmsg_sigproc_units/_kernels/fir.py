"""Streaming FIR filtering (every backend): Toeplitz block products for short filters, FFT
overlap-save for long ones.

Shapes: ``x`` is ``(T, C)`` with time first (``T == 0`` allowed); ``taps`` ``(ntaps,)`` gives
``y`` ``(T, C)``, a bank ``(ntaps, K)`` gives ``y`` ``(T, C, K)`` (every channel through every
kernel). The state ``tail`` holds the last ``ntaps - 1`` inputs, ``(ntaps - 1, C)``, oldest
first; zeros are a filter at rest, repeated ``x[0]`` a filter in steady state on a constant.
Any chunking gives ``scipy.signal.lfilter(b, [1.0], x, axis=0)`` of the whole signal.
Channels are the columns of every product (a NaN stays in its channel). Products with zero
coefficients would spread a non-finite input over its whole block or frame; ``fir_filter``
runs the kernel under ``nonfinite.guard_fir``, so it reaches exactly the outputs whose taps
read it, as NaN. The plan pickles as its taps; the device table is rebuilt on first use.

* direct (``ntaps < fft_min_taps``): with ``e = [tail; x]``, outputs come in blocks of ``L``
  (``L >= ntaps - 1``): ``y_k = Ta e_k + Tb e_k+1[:ntaps-1]`` (two batched products over
  all blocks, ``[Ta Tb]`` the banded Toeplitz matrix of the taps); a tail of ``r < L`` outputs
  uses ``[Ta Tb][:r, :r + ntaps - 1]``. Exact to float rounding; used for every float64 MLX
  plan too (MLX's FFT computes in complex64).
* fft: frames of ``N`` samples overlapping by ``ntaps - 1``, ``irfft(rfft(frame) rfft(b))``,
  keeping the last ``N - ntaps + 1`` samples of each frame.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._backend import (
    asarray,
    compile_kernel,
    device_of,
    dtype_from_name,
    dtype_name,
    is_numpy_namespace,
    runs_synchronously,
    zeros,
)
from .._backend import fft as _fft
from . import fir_numpy
from .linalg import matmul
from .nonfinite import guard_fir, host_all_finite


class FIRPlan:
    """One set of taps for one compute dtype. Pickles as what cannot be recomputed (the taps
    and the choices below); the device table is rebuilt on first use (``on(xp, like)``).

    ``taps`` ``(ntaps, K)`` float64 host (K = 1 for one filter); ``bank`` K for a filter bank
    (output ``(T, C, K)``), None for one filter (``(T, C)``); ``method`` ``"direct"``,
    ``"fft"`` or ``"gain"`` (one tap); ``block`` direct: outputs per block ``L``, fft: new
    outputs per frame ``N - ntaps + 1``; ``nfft`` the FFT frame length (0 for direct);
    ``dtype`` / ``complex_dtype`` names of the data dtype and (fft) the spectrum's (MLX dtypes
    do not pickle); ``spans`` a bank's kernel lengths without trailing zero taps (how long a
    non-finite input stays in each kernel's outputs), None for one filter (all its taps)."""

    def __init__(self, taps: np.ndarray, bank: int | None, method: str, block: int,
                 nfft: int, dtype: str, complex_dtype: str | None) -> None:
        self.taps, self.ntaps, self.bank = taps, taps.shape[0], bank
        self.method, self.block, self.nfft = method, block, nfft
        self.dtype, self.complex_dtype = dtype, complex_dtype
        self.spans = None if bank is None else tuple(
            int(np.flatnonzero(col)[-1]) + 1 if col.any() else 1 for col in (taps != 0.0).T)
        self._table: Any = None

    def on(self, xp: Any, like: Any = None) -> Any:
        """The device table, built on ``like``'s device when there is none yet: direct
        ``[Ta Tb]`` per kernel ``(K, L, L + ntaps - 1)``; fft the taps' spectrum
        ``(N // 2 + 1, 1, K)``; gain ``(1, K)``."""
        if self._table is None:
            if like is None:
                raise ValueError("like: the plan has no device table yet (it was unpickled); "
                                 "pass an array on the target device")
            self.build(xp, device_of(like))
        return self._table

    def build(self, xp: Any, device: Any) -> FIRPlan:
        """Build the device table now, on ``device`` (returns the plan)."""
        b2, L = self.taps, self.block
        if self.method == "gain":
            host, dt = b2, self.dtype
        elif self.method == "fft":
            host, dt = np.fft.rfft(b2, n=self.nfft, axis=0)[:, None, :], self.complex_dtype
        else:
            ntaps = self.ntaps
            i, c = np.arange(L)[:, None], np.arange(L + ntaps - 1)[None, :]
            j = i + ntaps - 1 - c  # tap index feeding output i from window row c
            host = np.where((j >= 0) & (j < ntaps),
                            b2[np.clip(j, 0, ntaps - 1)].transpose(2, 0, 1), 0.0)
            dt = self.dtype
        self._table = asarray(xp, host, dtype=dtype_from_name(xp, dt), device=device)
        return self

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_table"] = None
        return state


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def fir_plan(xp: Any, taps: np.ndarray, *, dtype: Any, device: Any,
             fft_min_taps: int = 64) -> FIRPlan:
    """Plan for ``taps`` (``(ntaps,)`` or ``(ntaps, K)`` float64 host) in ``dtype`` on
    ``device`` (its table built there now): FFT overlap-save when ``ntaps >= fft_min_taps``
    (and the backend's FFT keeps ``dtype``'s precision), else direct."""
    b = np.asarray(taps, dtype=np.float64)
    if b.ndim not in (1, 2) or b.shape[0] < 1 or (b.ndim == 2 and b.shape[1] < 1):
        raise ValueError(f"taps: expected shape (ntaps,) or (ntaps, K), got {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("taps: must be finite")
    bank = b.shape[1] if b.ndim == 2 else None
    b2 = np.array(b.reshape(b.shape[0], -1))  # (ntaps, K), our own copy
    ntaps, name = b2.shape[0], dtype_name(dtype)
    if ntaps == 1:
        plan = FIRPlan(b2, bank, "gain", 0, 0, name, None)
    elif ntaps >= fft_min_taps and _fft.fft_keeps_precision(xp, dtype):
        nfft = max(64, _next_pow2(4 * (ntaps - 1)))
        plan = FIRPlan(b2, bank, "fft", nfft - ntaps + 1, nfft, name,
                       dtype_name(_fft.complex_dtype(xp, dtype)))
    else:
        plan = FIRPlan(b2, bank, "direct", max(32, ntaps - 1), 0, name, None)
    return plan.build(xp, device)


def fir_zero_state(xp: Any, plan: FIRPlan, n_channels: int, like: Any = None) -> Any:
    """Zeros ``(ntaps - 1, C)`` (a filter at rest), on the plan's device (or ``like``'s)."""
    return zeros(xp, (plan.ntaps - 1, n_channels), dtype=dtype_from_name(xp, plan.dtype),
                 device=device_of(plan.on(xp, like)))


def fir_initial_state(xp: Any, plan: FIRPlan, x0: Any) -> Any:
    """State of a filter that has seen the constant ``x0`` (``(C,)``) forever."""
    return zeros(xp, (plan.ntaps - 1, x0.shape[0]), dtype=x0.dtype,
                 device=device_of(x0)) + xp.reshape(x0, (1, x0.shape[0]))


def fir_filter(xp: Any, plan: FIRPlan, x: Any, tail: Any) -> tuple[Any, Any]:
    """Filter ``x`` ``(T, C)`` after the inputs ``tail``: ``(y, new_tail)``, non-finite
    input included (``nonfinite.guard_fir``; a one-tap gain multiplies it through). Compiled
    once per chunk shape where ``_backend`` has a compiler, guard included."""
    table = plan.on(xp, x)
    if plan.method == "gain":
        return _gain(xp, plan, table, x), tail
    if x.shape[0] == 0 or x.shape[1] == 0:  # torch's FFT rejects empty batches
        return _empty(xp, plan, x), tail
    kernel = _KERNELS[(plan.method, plan.bank is not None)]
    if runs_synchronously(xp, x):
        # NumPy and torch-CPU: a host check waits for nothing, so the guard's extra passes
        # run only for a chunk whose output is not finite.
        if (plan.method == "direct" and is_numpy_namespace(xp)
                and fir_numpy.prefers_convolve(plan.ntaps, x.shape[1] * (plan.bank or 1))):
            y, new_tail = fir_numpy.convolve_bank(plan.taps, tail, x)
            if plan.bank is None:
                y = np.reshape(y, (y.shape[0], y.shape[1]))
        else:
            y, new_tail = kernel(xp, table, tail, x)
        if host_all_finite(xp, y):
            return y, new_tail
    return compile_kernel(xp, _guarded(kernel, plan.spans))(table, tail, x)


@functools.cache
def _guarded(kernel: Any, spans: tuple[int, ...] | None) -> Any:
    """``kernel`` under the non-finite guard (one object per kernel and spans: the compiler
    caches per function)."""
    return functools.partial(guard_fir, kernel, spans)


def _gain(xp: Any, plan: FIRPlan, table: Any, x: Any) -> Any:
    if plan.bank is None:
        return x * table[0, 0]
    return xp.reshape(x, (x.shape[0], x.shape[1], 1)) * table


def _empty(xp: Any, plan: FIRPlan, x: Any) -> Any:
    if plan.bank is None:
        return x
    return zeros(xp, (*x.shape, plan.bank), dtype=x.dtype, device=device_of(x))


def _blocks_of(xp: Any, e: Any, count: int, size: int) -> Any:
    """``(count + 1, size, C)``: ``e`` cut into blocks, zero-padded at the end as needed."""
    need = (count + 1) * size - e.shape[0]
    if need > 0:
        e = xp.concat([e, zeros(xp, (need, e.shape[1]), dtype=e.dtype, device=device_of(e))],
                      axis=0)
    return xp.reshape(e[: (count + 1) * size, ...], (count + 1, size, e.shape[1]))


def _direct_bank(xp: Any, table: Any, tail: Any, x: Any) -> tuple[Any, Any]:
    """``table`` ``(K, L, W)``; ``y`` ``(T, C, K)``."""
    K, L, W = table.shape
    m, (T, C) = W - L, x.shape
    e = xp.concat([tail, x], axis=0)  # (T + m, C)
    flat = xp.reshape(table, (K * L, W))
    nb = T // L
    parts = []
    if nb:
        E = _blocks_of(xp, e, nb, L)
        y = matmul(xp, flat[:, :L], E[:nb, ...]) + matmul(xp, flat[:, L:], E[1:, :m, :])
        parts.append(xp.reshape(xp.permute_dims(xp.reshape(y, (nb, K, L, C)), (0, 2, 3, 1)),
                                (nb * L, C, K)))
    r = T - nb * L
    if r:
        g = xp.reshape(table[:, :r, : r + m], (K * r, r + m))
        y = xp.reshape(matmul(xp, g, e[nb * L :, ...]), (K, r, C))
        parts.append(xp.permute_dims(y, (1, 2, 0)))
    y = parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
    return y, e[T:, ...]


def _direct(xp: Any, table: Any, tail: Any, x: Any) -> tuple[Any, Any]:
    y, tail = _direct_bank(xp, table, tail, x)
    return xp.reshape(y, (y.shape[0], y.shape[1])), tail


def _overlap_save_bank(xp: Any, spec: Any, tail: Any, x: Any) -> tuple[Any, Any]:
    """``spec`` ``(N // 2 + 1, 1, K)``; ``y`` ``(T, C, K)``. Complex ``x``: the real and
    imaginary parts are filtered as ``2 C`` real channels (the taps are real)."""
    if xp.isdtype(x.dtype, "complex floating"):
        return _overlap_save_complex(xp, spec, tail, x)
    N, m, (T, C) = 2 * (spec.shape[0] - 1), tail.shape[0], x.shape
    M = N - m  # new outputs per frame
    e = xp.concat([tail, x], axis=0)
    nf = -(-T // M)
    E = _blocks_of(xp, e, nf, M)
    frames = xp.concat([E[:nf, ...], E[1:, :m, :]], axis=1)  # (nf, N, C)
    f = xp.reshape(_fft.rfft(xp, frames, n=N, axis=1), (nf, N // 2 + 1, C, 1)) * spec
    y = xp.reshape(xp.fft.irfft(f, n=N, axis=1)[:, m:, ...], (nf * M, C, spec.shape[2]))
    y = y[:T, ...]
    return (y if y.dtype == x.dtype else xp.astype(y, x.dtype)), e[T:, ...]


def _overlap_save_complex(xp: Any, spec: Any, tail: Any, x: Any) -> tuple[Any, Any]:
    C = x.shape[1]
    parts = xp.concat([xp.real(x), xp.imag(x)], axis=1)
    past = xp.concat([xp.real(tail), xp.imag(tail)], axis=1)
    y, _ = _overlap_save_bank(xp, spec, past, parts)  # (T, 2C, K) real
    re, im = (xp.astype(y[:, sl, ...], x.dtype) for sl in (slice(None, C), slice(C, None)))
    return re + im * 1j, xp.concat([tail, x], axis=0)[x.shape[0]:, ...]


def _overlap_save(xp: Any, spec: Any, tail: Any, x: Any) -> tuple[Any, Any]:
    """``spec`` ``(N // 2 + 1, 1)``; ``y`` ``(T, C)``."""
    y, tail = _overlap_save_bank(xp, xp.reshape(spec, (spec.shape[0], 1, 1)), tail, x)
    return xp.reshape(y, (y.shape[0], y.shape[1])), tail


_KERNELS = {("direct", False): _direct, ("direct", True): _direct_bank,
            ("fft", False): _overlap_save, ("fft", True): _overlap_save_bank}
