"""Largest canonical correlation between each of a batch of multichannel signals and each of a
set of reference bases (CCA, as FBCCA uses it), on every backend.

Shapes: ``x`` ``(B, T, c)`` (B signals of T samples, c channels); ``zy`` ``(F, T, r)``: per
reference, an orthonormal basis of its centred columns (zero columns allowed: a dropped
reference column), built on the host by ``reference_bases``. Output ``(B, F)``.

Method: with ``Xc`` the centred signal, ``Cxx = Xc^T Xc = V diag(w) V^T``; the whitened
signal ``Zx = Xc V diag(w^-1/2)`` (directions with ``w <= c * eps * max(w)`` dropped: zero or
collinear channels) has orthonormal columns (with more channels than samples, ``Zx`` is the
eigenvectors of ``Xc Xc^T`` instead: the same span, a T x T solve), and the canonical
correlations are the singular values of ``Zx^T Zy``; the largest is the square root of the
largest eigenvalue of the smaller Gram matrix of that product. Every step is a batched product
or a symmetric eigen-solve of a small matrix: no host synchronisation, no data-dependent
shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import dtype_name


def reference_bases(t: np.ndarray, freqs: Any, harmonics: int, tol: float = 1e-12
                    ) -> np.ndarray:
    """``(F, T, 2 * harmonics)`` float64: for each frequency, an orthonormal basis (reduced
    QR) of the centred ``sin, cos`` columns of harmonics ``1..harmonics`` at times ``t`` (s).
    Columns whose standard deviation is at most ``tol`` are dropped (a zero column in their
    place)."""
    T, r = t.shape[0], 2 * harmonics
    out = np.zeros((len(freqs), T, r))
    for i, f in enumerate(freqs):
        cols = [fn(2.0 * np.pi * k * f * t) for k in range(1, harmonics + 1)
                for fn in (np.sin, np.cos)]
        y = np.stack(cols, axis=1) if cols else np.zeros((T, 0))
        y = y - y.mean(axis=0, keepdims=True)
        y = y[:, y.std(axis=0) > tol]
        if y.shape[1] and T:
            q, _ = np.linalg.qr(y, mode="reduced")
            out[i, :, : q.shape[1]] = q
    return out


def rho_max(xp: Any, x: Any, zy: Any) -> Any:
    """``(B, F)`` largest canonical correlation of each ``x[b]`` with each basis ``zy[f]``."""
    B, T, c = x.shape
    F, _, r = zy.shape
    xc = x - xp.mean(x, axis=1, keepdims=True)
    xt = xp.permute_dims(xc, (0, 2, 1))  # (B, c, T)
    if c > T:  # more channels than samples: a basis of the span from the T x T side
        w, u = xp.linalg.eigh(xc @ xt)  # (B, T), (B, T, T)
        keep = w > xp.max(w, axis=1, keepdims=True) * (T * _eps(x.dtype))
        zxt = xp.permute_dims(xp.where(xp.reshape(keep, (B, 1, T)), u, 0.0), (0, 2, 1))
        c = T
    else:
        w, v = xp.linalg.eigh(xt @ xc)  # (B, c), (B, c, c)
        keep = w > xp.max(w, axis=1, keepdims=True) * (c * _eps(x.dtype))
        inv = xp.where(keep, 1.0 / xp.sqrt(xp.where(keep, w, 1.0)), 0.0)
        zxt = xp.permute_dims(v * xp.reshape(inv, (B, 1, c)), (0, 2, 1)) @ xt  # Zx^T
    zyf = xp.reshape(xp.permute_dims(zy, (1, 0, 2)), (T, F * r))
    m = zxt @ zyf  # (B, c, F * r) = Zx^T Zy
    m = xp.permute_dims(xp.reshape(m, (B, c, F, r)), (0, 2, 1, 3))  # (B, F, c, r)
    mt = xp.permute_dims(m, (0, 1, 3, 2))
    g = m @ mt if c <= r else mt @ m
    lam = xp.max(xp.linalg.eigvalsh(g), axis=-1)
    return xp.sqrt(xp.clip(lam, 0.0, 1.0))


def _eps(dtype: Any) -> float:
    return float(np.finfo(np.float64 if dtype_name(dtype) == "float64" else np.float32).eps)


def softmax(xp: Any, cv: Any, axis: int, beta: float = 1.0) -> Any:
    """``exp(beta * cv)`` normalised along ``axis`` (shifted by the maximum first)."""
    e = xp.exp(beta * (cv - xp.max(cv, axis=axis, keepdims=True)))
    return e / xp.sum(e, axis=axis, keepdims=True)
