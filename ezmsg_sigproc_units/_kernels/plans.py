"""Filter coefficients as the kernels take them (``normalise``: validated float64 SOS or FIR
taps), their kernel plans, and carrying a running state from one plan to the next. Host
work, done when coefficients change; never per chunk.

A design reaches a plan along one path: coefficients -> ``normalise`` (once: a ``"ba"`` IIR
design is converted to sections here, and only here) -> ``make_plan``. ``check`` validates
without converting (settings call it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import fir as _fir
from . import iir as _iir


def check(coefs: Any, coef_type: str) -> tuple[str, Any] | None:
    """``("sos", sos)``, ``("fir", b)`` or ``("ba", (b, a))`` (float64 host, validated, a
    ``"ba"`` IIR not yet converted), or None for passthrough. ``ValueError`` naming
    ``coefs`` for malformed input."""
    if coefs is None:
        return None
    if coef_type == "sos":
        sos = np.asarray(coefs, dtype=np.float64) if not isinstance(coefs, tuple) else None
        if sos is None or sos.ndim != 2 or sos.shape[1] != 6 or sos.shape[0] < 1:
            raise ValueError(f"coefs: coef_type 'sos' needs an (n_sections, 6) array, got "
                             f"{getattr(sos, 'shape', type(coefs).__name__)}")
        if not np.all(np.isfinite(sos)) or np.any(sos[:, 3] == 0.0):
            raise ValueError("coefs: sections must be finite with a0 != 0")
        return "sos", sos
    if hasattr(coefs, "b") and hasattr(coefs, "a"):  # FilterCoefficients
        coefs = (coefs.b, coefs.a)
    if not isinstance(coefs, (tuple, list)) or len(coefs) != 2:
        raise ValueError(f"coefs: coef_type 'ba' needs (b, a) or FilterCoefficients, got "
                         f"{type(coefs).__name__}")
    b, a = (np.atleast_1d(np.asarray(c, dtype=np.float64)) for c in coefs)
    if b.ndim != 1 or a.ndim != 1 or b.size == 0 or a.size == 0:
        raise ValueError(f"coefs: b and a must be non-empty 1-D, got {b.shape} and {a.shape}")
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(a))) or a[0] == 0.0:
        raise ValueError("coefs: b and a must be finite with a[0] != 0")
    if np.trim_zeros(a, "b").size == 1:
        return "fir", b / a[0]
    return "ba", (b, a)


def normalise(coefs: Any, coef_type: str) -> tuple[str, np.ndarray] | None:
    """``("sos", sos)`` or ``("fir", b)`` (float64 host), or None for passthrough: ``check``,
    then a ``"ba"`` IIR to second-order sections (``scipy.signal.tf2sos``)."""
    checked = check(coefs, coef_type)
    if checked is None or checked[0] != "ba":
        return checked
    from scipy.signal import tf2sos

    return "sos", tf2sos(*checked[1])


def design_coef_type(coefs: Any, coef_type: str) -> str:
    """The form to read a filter design's ``coefs`` in: a ``(b, a)`` pair (every FIR design
    returns taps and ``[1.0]``) is read as ``"ba"`` even when ``coef_type`` is ``"sos"``. Taps
    then run as taps, the same linear filter as their second-order sections without an
    ill-conditioned ``tf2sos`` factorisation; an IIR pair becomes sections in ``normalise``."""
    if (hasattr(coefs, "b") and hasattr(coefs, "a")) or (isinstance(coefs, tuple)
                                                         and len(coefs) == 2):
        return "ba"
    return coef_type


def make_plan(xp: Any, coefs: tuple | None, dtype: Any, device: Any, fft_min_taps: int):
    """The kernel plan for normalised ``coefs`` (None for passthrough)."""
    if coefs is None:
        return None
    if coefs[0] == "sos":
        return _iir.iir_plan(xp, coefs[1], dtype=dtype, device=device)
    return _fir.fir_plan(xp, coefs[1], dtype=dtype, device=device, fft_min_taps=fft_min_taps)


def carry_state(xp: Any, old: Any, new: Any, z: Any) -> Any:
    """``z`` of ``old`` as a state of ``new`` when both have the same state layout, else None."""
    if z is None:
        return None
    if isinstance(old, _iir.IIRPlan) and isinstance(new, _iir.IIRPlan):
        if (old.n, old.n_sections) == (new.n, new.n_sections):
            return _iir.zi_from_scipy(xp, new, _iir.zi_to_scipy(xp, old, z))
    elif isinstance(old, _fir.FIRPlan) and isinstance(new, _fir.FIRPlan):
        if old.ntaps == new.ntaps:
            return z
    return None
