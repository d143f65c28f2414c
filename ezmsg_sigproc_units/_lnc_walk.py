"""The update-window walk of ``adaptive_lnc``: a chunk cut at the window grid (carried across
chunks in the state), each segment one call of a ``_kernels.lnc`` step. Where ``_backend``
compiles (JAX, MLX: one compile per segment length and flags), a partial window is cut
further into powers of two, so a handful of shapes serve every chunking (one per length
otherwise: about a second of JAX compile for each of up to ``L`` lengths)."""

from __future__ import annotations

from typing import Any

from ._backend import compiles
from ._kernels import lnc


def _lengths(r: int, L: int, split: bool) -> list[int]:
    if not split or r == L:
        return [r]
    out, b = [], 1 << r.bit_length()
    while r:
        b //= 2
        if r >= b:
            out.append(b)
            r -= b
    return out


def walk(xp: Any, x: Any, st: Any, gains: Any, *, subtract: bool, tracking: bool) -> Any:
    """Filter ``x`` ``(T, C)`` (``T >= 1``) from ``st`` (an ``AdaptiveLNCState``, updated in
    place): the output ``(T, C)``."""
    a = st.arrays
    L, T = st.block_len, x.shape[0]
    frozen = not (subtract or tracking)  # a frozen notch at a tracked omega: no window grid
    split = compiles(xp)
    out = []
    pos = 0
    while pos < T:
        left = L if frozen else L - st.samples_in_block
        for r in _lengths(min(left, T - pos), L, split):
            seg = x[pos:pos + r, ...]
            close = not frozen and st.samples_in_block + r >= L
            first = not st.has_prev
            if subtract:
                fn = lnc.step(xp, "subtract_step", close=close, first=first,
                              committed=st.committed, smoothed=st.committed,
                              tracking=tracking)
                y, a["est"], a["theta"], a["acc"], a["prev"], a["scal"] = fn(
                    seg, a["est"], a["theta"], a["acc"], a["prev"], a["scal"], gains,
                    a["consts"])
                st.committed = st.committed or close
                st.has_prev = st.has_prev or (close and tracking)
            else:
                fn = lnc.step(xp, "notch_step", close=close, first=first, track=not frozen)
                y, a["zi"], a["acc"], a["prev"], a["scal"] = fn(
                    seg, a["zi"], a["acc"], a["prev"], a["scal"], gains, a["consts"])
                st.has_prev = st.has_prev or close
            if close and tracking:
                st.omega_fixed = None  # the FLL has run: omega lives on the device now
            out.append(y)
            pos += r
            if not frozen:
                st.samples_in_block = 0 if close else st.samples_in_block + r
    return out[0] if len(out) == 1 else xp.concat(out, axis=0)
