"""Adaptive lattice notch (second-order lattice with a gradient-tracked reflection coefficient).

Shapes: ``x`` is ``(T, C)``, time first (``T == 0`` allowed), in the compute dtype. The state
``st`` is ``(5, C)``: rows ``s[n-2], s[n-1], p, q, k`` (lattice history, the two averaged
products and the reflection coefficient). Per sample, per channel::

    s    = x - k (1 + gamma) s[n-1] - gamma s[n-2]
    y    = s + 2 k s[n-1] + s[n-2]                    (k before its update)
    p    = eta p + (1 - eta) s[n-1] (s + s[n-2])
    q    = eta q + (1 - eta) 2 s[n-1]^2
    k    = mu k + (1 - mu) clip(-p / (q + 1e-8), -1, 1)

``k`` feeds the next sample through a division and a clip, so the recursion is nonlinear and
has no exact block (associative) form: it runs sample by sample, vectorised over channels.
JAX and MLX compile it unrolled over power-of-two pieces of at most ``PIECE`` samples (a few
compiled shapes serve every chunk length); NumPy has a native loop (``lattice_notch_numpy``).
``y`` and the frequency track are computed from the recorded ``s`` and ``k`` in one vectorised
pass. ``chunkwise_lattice`` holds ``k`` fixed over the chunk and updates it once at its end
(the opt-in approximation). No function writes into its inputs.
"""

from __future__ import annotations

import math
from typing import Any

from .._backend import compile_kernel, compiles, is_numpy_namespace
from . import lattice_notch_numpy

PIECE = 16
"""Longest piece one compiled call unrolls (JAX, MLX). Measured per sample on 8 channels:
JAX 3.2 us at 4, 4.6 at 8, 78 at 32 (XLA's CPU code for long unrolled chains degrades);
MLX 38 us at 4, 24 at 16, 22 at 32. 16 is the compromise."""


def _sample_loop(xp: Any, x: Any, st: Any, coef: Any, adapt: bool = True) -> tuple:
    """Run ``x`` ``(n, C)`` from ``st``: ``(s (n, C), k_before (n, C), k_after (n, C),
    new st)``. ``coef`` ``(6,)``: gamma, 1 + gamma, eta, 1 - eta, mu, 1 - mu. ``adapt=False``
    keeps ``k`` fixed (p, q and k unchanged)."""
    g, gp1, eta, e1, mu, m1 = (coef[i] for i in range(6))
    s2, s1, p, q, k = (st[i, ...] for i in range(5))
    ss, kb, ka = [], [], []
    for n in range(x.shape[0]):
        s = x[n, ...] - k * gp1 * s1 - g * s2
        kb.append(k)
        if adapt:
            p = eta * p + e1 * (s1 * (s + s2))
            q = eta * q + e1 * (2 * (s1 * s1))
            k = mu * k + m1 * xp.clip(-p / (q + 1e-8), -1.0, 1.0)
        ka.append(k)
        ss.append(s)
        s2, s1 = s1, s
    return xp.stack(ss), xp.stack(kb), xp.stack(ka), xp.stack([s2, s1, p, q, k])


def _pieces(xp: Any, x: Any) -> list:
    """``x`` cut into whole ``PIECE``s (one ``unstack``, no per-piece slicing op) then
    descending powers of two: few compiled shapes serve every chunk length."""
    n = x.shape[0]
    nb = n // PIECE
    out = list(xp.unstack(xp.reshape(x[:nb * PIECE, ...], (nb, PIECE, x.shape[1])))) if nb else []
    a, b = nb * PIECE, PIECE
    while a < n:
        b //= 2
        if n - a >= b:
            out.append(x[a:a + b, ...])
            a += b
    return out


def _run(xp: Any, x: Any, st: Any, coef: Any, adapt: bool) -> tuple:
    if not compiles(xp):
        return _sample_loop(xp, x, st, coef, adapt)
    kernel = compile_kernel(xp, _sample_loop if adapt else _fixed_loop)
    parts: list[tuple] = []
    for piece in _pieces(xp, x):
        s, kb, ka, st = kernel(piece, st, coef)
        parts.append((s, kb, ka))
    s, kb, ka = (xp.concat([p[i] for p in parts], axis=0) for i in range(3))
    return s, kb, ka, st


def _fixed_loop(xp: Any, x: Any, st: Any, coef: Any) -> tuple:
    return _sample_loop(xp, x, st, coef, adapt=False)


def _outputs(xp: Any, x: Any, s: Any, kb: Any, st: Any) -> Any:
    """``y = s + 2 k s[n-1] + s[n-2]`` from the recorded lattice states (``st``: the state
    before the chunk)."""
    sp = xp.concat([st[0:2, ...], s], axis=0)
    n = x.shape[0]
    return s + 2 * kb * sp[1:n + 1, ...] + sp[:n, ...]


def lattice_notch(xp: Any, x: Any, st: Any, coef: Any, *, native: bool = True) -> tuple:
    """Per-sample adaptive lattice notch: ``(y (T, C), k (T, C) after each sample's update,
    new st (5, C))``. Empty ``x``: empty outputs, ``st`` unchanged. ``native=False`` runs the
    portable kernel on NumPy too (the reference of the native)."""
    if x.shape[0] == 0:
        return x, x, st
    if native and is_numpy_namespace(xp):
        return lattice_notch_numpy.lattice_notch(x, st, coef)
    s, kb, ka, st1 = _run(xp, x, st, coef, True)
    return _outputs(xp, x, s, kb, st), ka, st1


def chunkwise_lattice(xp: Any, x: Any, st: Any, coef: Any, *, native: bool = True) -> tuple:
    """The chunk filtered with each channel's ``k`` held fixed, then one update of ``p``,
    ``q`` and ``k`` from the chunk's last three lattice states: ``(y (T, C), k (C,) after the
    update, new st (5, C))``. Empty ``x``: empty ``y``, state unchanged."""
    if x.shape[0] == 0:
        return x, st[4, ...], st
    if native and is_numpy_namespace(xp):
        s = lattice_notch_numpy.fixed_lattice(x, st, coef)
    else:
        s = _run(xp, x, st, coef, False)[0]
    n = x.shape[0]
    kb = xp.broadcast_to(st[4:5, ...], s.shape)
    y = _outputs(xp, x, s, kb, st)
    sp = xp.concat([st[0:2, ...], s], axis=0)  # s[-2], s[-1], s[0], ..., s[n-1]
    g, gp1, eta, e1, mu, m1 = (coef[i] for i in range(6))
    s2, s1, s = sp[n - 1, ...], sp[n, ...], sp[n + 1, ...]
    p = eta * st[2, ...] + e1 * (s1 * (s + s2))
    q = eta * st[3, ...] + e1 * (2 * (s1 * s1))
    k = mu * st[4, ...] + m1 * xp.clip(-p / (q + 1e-8), -1.0, 1.0)
    return y, k, xp.stack([s1, s, p, q, k])


def frequency_hz(xp: Any, k: Any, fs: float) -> Any:
    """Notch frequency in Hz of reflection coefficient ``k``: ``acos(-k) fs / (2 pi)``."""
    return xp.acos(-k) * (fs / (2 * math.pi))
