"""Streaming rational (polyphase) resampling and streaming linear interpolation.

Shapes: time axis FIRST, data 2-D ``(T, C)``; outputs ``(M, C)``. Nothing is written in place.

Polyphase: the output is ``scipy.signal.resample_poly(x, up, down, axis=0)`` of the whole
stream (same filter, same centring: output ``n`` lies at input time ``n * down / up``), emitted
causally: output ``n`` leaves as soon as input ``floor((n * down + half_len) / up)`` has
arrived, so the declared latency is at most ``half_len / up`` input samples. The trailing
outputs whose filter reaches past the last input (``resample_poly`` zero-pads there) are held
until more input comes. The state is the last ``K - 1`` inputs (``K = ceil(ntaps / up)``, the
taps per phase), zeros at the start (``resample_poly`` zero-pads the front too).

Per chunk the work is matrix products with constant matrices built on the host from the
design and moved to the device once per ``(design, phase, offset, T, backend, device, dtype)``
(cached; a steady stream of equal chunks cycles through at most ``down`` entries):

* ``ext = concat(state, x)``; a dense ``(M, W)`` matrix applied to a slice of ``ext``, or for
  long chunks
* blocks of ``k * up`` outputs that consume ``k * down`` inputs each share one matrix; their
  overlapping input windows are gathered with one ``xp.take`` and multiplied in one batched
  ``xp.matmul`` (the remainder uses a dense matrix).

Linear: ``linear_weights`` (host timestamps in, device arrays out) gives the bracketing rows
and weights for output times; ``linear_interp`` applies them on the device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._backend import asarray, zeros
from .reductions import index_dtype

_CACHE: dict[tuple, PolyphasePlan] = {}
_CACHE_MAX = 512


@dataclass(frozen=True, eq=False)
class PolyphaseDesign:
    """Host description of a polyphase resampler (float64 NumPy; picklable)."""

    up: int
    down: int
    half_len: int
    """Index of the filter's centre tap: output ``n`` is centred on input ``n * down / up``."""
    n_phase_taps: int
    """``K = ceil(ntaps / up)``: inputs each output depends on."""
    phase_taps: np.ndarray
    """``(up, K)``: row ``p`` applied to ``K`` consecutive inputs, oldest first."""
    key: tuple
    """Hashable identity of the design (for the plan cache)."""


def design_polyphase(up: int, down: int, window: Any = ("kaiser", 5.0)) -> PolyphaseDesign:
    """The filter ``scipy.signal.resample_poly(x, up, down, window=window)`` uses: ``firwin``
    of ``20 * max(up, down) + 1`` taps, cutoff ``1 / max(up, down)``, times ``up``; or
    ``window`` itself when it is a 1-D sequence of taps (not a window spec such as
    ``"hamming"`` or ``("kaiser", 5.0)``). ``up``/``down`` are reduced first."""
    g = math.gcd(up, down)
    up, down = up // g, down // g
    spec = isinstance(window, str) or (isinstance(window, tuple) and len(window) > 0
                                       and isinstance(window[0], str))
    if not spec:
        h = np.asarray(window, dtype=np.float64)
        if h.ndim != 1 or h.shape[0] == 0:
            raise ValueError("window: custom taps must be a non-empty 1-D sequence")
        half_len = (h.shape[0] - 1) // 2
    else:
        from scipy.signal import firwin

        max_rate = max(up, down)
        half_len = 10 * max_rate
        h = firwin(2 * half_len + 1, 1.0 / max_rate, window=window)
    h = h * up
    k = -(-h.shape[0] // up)
    hp = np.zeros(k * up)
    hp[: h.shape[0]] = h
    # row p, column t: tap for the input (K - 1 - t) steps before the newest one
    taps = hp[np.arange(up)[:, None] + (k - 1 - np.arange(k))[None, :] * up]
    return PolyphaseDesign(up, down, half_len, k, taps,
                           (up, down, half_len, hash(taps.tobytes())))


def emitted_count(d: PolyphaseDesign, n_in: int) -> int:
    """How many outputs depend only on the first ``n_in`` inputs."""
    v = n_in * d.up - 1 - d.half_len
    return v // d.down + 1 if v >= 0 else 0


def latency_samples(d: PolyphaseDesign) -> float:
    """Upper bound, in input samples, of how late an output leaves after its centre time."""
    return d.half_len / d.up


@dataclass(frozen=True)
class PolyphasePlan:
    """Device matrices for one chunk shape (see the module docstring)."""

    n_out: int
    n_blocks: int
    block_out: int
    block_width: int
    block: Any  # (block_out, block_width) or None
    block_index: Any  # (n_blocks * block_width,) or None
    rem_start: int
    rem: Any  # (n_out - n_blocks * block_out, rem_width) or None
    keep: int  # rows of ext kept as the next state (K - 1)


def _rows(d: PolyphaseDesign, ph0: int, n: int) -> np.ndarray:
    """``(n, W)`` matrix of outputs ``0..n-1`` of a run whose first output has phase ``ph0``
    and whose first input window starts at column 0."""
    v = np.arange(n) * d.down + ph0
    q, p = v // d.up, v % d.up
    width = int(q[-1]) + d.n_phase_taps
    out = np.zeros((n, width))
    out[np.arange(n)[:, None], q[:, None] + np.arange(d.n_phase_taps)[None, :]] = d.phase_taps[p]
    return out


def polyphase_plan(xp: Any, d: PolyphaseDesign, n_in: int, n_out: int, t: int, *, dtype: Any,
                   device: Any, dense_max: int = 160) -> PolyphasePlan:
    """Plan for a chunk of ``t`` inputs after ``n_in`` inputs and ``n_out`` outputs
    (``n_out >= emitted_count(d, n_in)``; outputs before ``n_out`` are skipped). Cached;
    host work only on a cache miss."""
    v = n_out * d.down + d.half_len
    ph0, d0 = v % d.up, v // d.up - n_in  # phase of the next output, its window start in ext
    key = (d.key, ph0, d0, t, xp, str(device), dtype, dense_max)
    plan = _CACHE.get(key)
    if plan is not None:
        return plan
    m = max(0, emitted_count(d, n_in + t) - n_out)  # n_out may run ahead (extrapolated)
    kblk = max(1, -(-max(d.n_phase_taps, 32) // d.down))
    bo = kblk * d.up
    nb = m // bo if t > dense_max else 0
    block = index = rem = None
    bw = 0
    if nb:
        host = _rows(d, ph0, bo)
        bw = host.shape[1]
        block = asarray(xp, host, dtype=dtype, device=device)
        starts = d0 + np.arange(nb) * (kblk * d.down)
        idx = (starts[:, None] + np.arange(bw)[None, :]).reshape(-1)
        index = asarray(xp, idx, dtype=index_dtype(xp, block), device=device)
    m_rem = m - nb * bo
    if m_rem:
        rem = asarray(xp, _rows(d, ph0, m_rem), dtype=dtype, device=device)
    plan = PolyphasePlan(m, nb, bo, bw, block, index, d0 + nb * kblk * d.down, rem,
                         d.n_phase_taps - 1)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = plan
    return plan


def polyphase_zero_state(xp: Any, d: PolyphaseDesign, n_channels: int, *, dtype: Any,
                         device: Any) -> Any:
    """The state before the first input: ``K - 1`` zero rows, ``(K - 1, C)``."""
    return zeros(xp, (d.n_phase_taps - 1, n_channels), dtype=dtype, device=device)


def polyphase_filter(xp: Any, plan: PolyphasePlan, x: Any, state: Any) -> tuple[Any, Any]:
    """``(y, state)``: the ``plan.n_out`` outputs ``(M, C)`` this chunk ``x`` ``(T, C)``
    completes, and the new state (the last ``K - 1`` inputs)."""
    if x.shape[0] == 0:
        return state[0:0, ...], state
    ext = xp.concat((state, x), axis=0)
    n_ch = x.shape[1]
    parts = []
    if plan.n_blocks:
        g = xp.take(ext, plan.block_index, axis=0)
        g = xp.reshape(g, (plan.n_blocks, plan.block_width, n_ch))
        y = xp.matmul(plan.block, g)
        parts.append(xp.reshape(y, (plan.n_blocks * plan.block_out, n_ch)))
    if plan.rem is not None:
        s = plan.rem_start
        parts.append(xp.matmul(plan.rem, ext[s : s + plan.rem.shape[1], ...]))
    n = ext.shape[0]
    new_state = ext[n - plan.keep :, ...]
    if not parts:
        return ext[0:0, ...], new_state
    return (parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)), new_state


def linear_weights(xp: Any, t_ext: np.ndarray, tau: np.ndarray, *, dtype: Any,
                   device: Any) -> tuple[Any, Any, Any]:
    """Host timestamps -> device ``(i0, i1, w)``: rows ``i0 <= i1`` of ``t_ext`` bracket each
    output time ``tau`` (all within ``[t_ext[0], t_ext[-1]]``) and ``w`` ``(M, 1)`` is the
    weight of row ``i1``."""
    last = t_ext.shape[0] - 1
    i0 = np.clip(np.searchsorted(t_ext, tau, side="right") - 1, 0, last)
    i1 = np.minimum(i0 + 1, last)
    dt = t_ext[i1] - t_ext[i0]
    w = np.where(dt > 0, (tau - t_ext[i0]) / np.where(dt > 0, dt, 1.0), 0.0)
    w = asarray(xp, w[:, None], dtype=dtype, device=device)
    idt = index_dtype(xp, w)
    return (asarray(xp, i0, dtype=idt, device=device), asarray(xp, i1, dtype=idt, device=device),
            w)


def linear_interp(xp: Any, ext: Any, i0: Any, i1: Any, w: Any) -> Any:
    """``ext[i0] + (ext[i1] - ext[i0]) * w`` (rows of ``ext`` ``(E, C)``; ``w`` ``(M, 1)``)."""
    a = xp.take(ext, i0, axis=0)
    return a + (xp.take(ext, i1, axis=0) - a) * w


def reference_weights(t_src: np.ndarray, tau: np.ndarray, fill_value: Any
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None,
                                 np.ndarray]:
    """Host ``(i0, i1, w, outside, fill)`` for linear interpolation of inputs at times ``t_src``
    (increasing, at least 2) onto output times ``tau``: rows ``i0, i1 = i0 + 1`` and the
    weight ``w`` of row ``i1``. Times outside ``[t_src[0], t_src[-1]]`` follow ``fill_value``
    as ``scipy.interpolate.interp1d``: ``"extrapolate"`` (the line of the two nearest rows),
    ``"last"`` (the nearest row), else a number or a ``(below, above)`` pair: ``outside`` (a
    mask, None when no time is outside) selects the outputs that take ``fill`` (per output)."""
    i0 = np.clip(np.searchsorted(t_src, tau, side="right") - 1, 0, t_src.shape[0] - 2)
    i1 = i0 + 1
    w = (tau - t_src[i0]) / (t_src[i1] - t_src[i0])
    below, above = tau < t_src[0], tau > t_src[-1]
    if isinstance(fill_value, str):
        if fill_value == "last":
            w = np.where(below, 0.0, np.where(above, 1.0, w))
        return i0, i1, w, None, np.zeros(0)
    lo, hi = fill_value if isinstance(fill_value, (tuple, list)) else (fill_value, fill_value)
    outside = below | above
    fill = np.where(below, float(lo), float(hi))
    return i0, i1, w, (outside if outside.any() else None), fill
