"""The update-window walk of ``adaptive_lnc``: a chunk cut at the window grid (carried across
chunks in the state), each segment one call of a ``_kernels.lnc`` step (compiled per segment
length and flags where ``_backend`` compiles)."""

from __future__ import annotations

from typing import Any

from ._kernels import lnc


def walk(xp: Any, x: Any, st: Any, gains: Any, *, subtract: bool, tracking: bool) -> Any:
    """Filter ``x`` ``(T, C)`` (``T >= 1``) from ``st`` (an ``AdaptiveLNCState``, updated in
    place): the output ``(T, C)``."""
    a = st.arrays
    L, T = st.block_len, x.shape[0]
    out = []
    pos = 0
    while pos < T:
        r = min(L - st.samples_in_block, T - pos)
        if not (subtract or tracking):  # frozen notch at a tracked omega: no window grid
            r = min(L, T - pos)
        seg = x[pos:pos + r, ...]
        close = st.samples_in_block + r >= L
        first = not st.has_prev
        if not (subtract or tracking):
            fn = lnc.step(xp, "notch_step", close=False, first=first, track=False)
            y, a["zi"], a["acc"], a["prev"], a["scal"] = fn(
                seg, a["zi"], a["acc"], a["prev"], a["scal"], gains, a["consts"])
            out.append(y)
            pos += r
            continue
        if subtract:
            fn = lnc.step(xp, "subtract_step", close=close, first=first,
                              committed=st.committed, smoothed=st.committed,
                              tracking=tracking)
            y, a["est"], a["theta"], a["acc"], a["prev"], a["scal"] = fn(
                seg, a["est"], a["theta"], a["acc"], a["prev"], a["scal"], gains,
                a["consts"])
            if close:
                st.committed = True
                st.has_prev = st.has_prev or tracking
        else:
            fn = lnc.step(xp, "notch_step", close=close, first=first)
            y, a["zi"], a["acc"], a["prev"], a["scal"] = fn(
                seg, a["zi"], a["acc"], a["prev"], a["scal"], gains, a["consts"])
            st.has_prev = st.has_prev or close
        if close and tracking:
            st.omega_fixed = None  # the FLL has run: omega lives on the device now
        out.append(y)
        pos += r
        st.samples_in_block = 0 if close else st.samples_in_block + r
    return out[0] if len(out) == 1 else xp.concat(out, axis=0)
