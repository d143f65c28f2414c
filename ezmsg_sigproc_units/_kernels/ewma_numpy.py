"""The NumPy native implementation of ``ewma.ewma_sums``: ``scipy.signal.lfilter`` along time
for few channels (its per-channel loop is cheap there), the block state-space kernel's own
NumPy path (``iir``) for many. The state is ``lfilter``'s ``zi`` ``(1, C)`` for few channels,
the block kernel's state otherwise; ``narrow(C)`` decides, for a whole stream."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import iir

NARROW_CHANNELS = 48
"""Up to this many channels ``lfilter`` beats the block products (measured at 200 samples:
lfilter 9 us at 8 channels, 36 us at 256; the block kernel 16 us and 7 us)."""


def narrow(n_channels: int) -> bool:
    return n_channels <= NARROW_CHANNELS


_COEFS: dict[tuple[float, Any], tuple[np.ndarray, np.ndarray]] = {}


def coefficients(plan: iir.IIRPlan, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """``lfilter``'s ``(b, a)`` in the data's dtype (so float32 stays float32), cached."""
    sos = plan.sos[0]
    key = (float(sos[0]), dtype)
    ba = _COEFS.get(key)
    if ba is None:
        if len(_COEFS) > 64:
            _COEFS.clear()
        ba = _COEFS[key] = (np.array([sos[0]], dtype=dtype), np.array([1.0, sos[4]], dtype=dtype))
    return ba


def zero_state(plan: iir.IIRPlan, n_channels: int) -> np.ndarray:
    return np.zeros((1, n_channels), dtype=plan.dtype)


def state_after(plan: iir.IIRPlan, prev: np.ndarray) -> np.ndarray:
    """``lfilter``'s ``zi`` after an output ``prev``: ``(1 - alpha) prev``."""
    return (-plan.sos[0, 4] * prev)[None, :].astype(plan.dtype)


def ewma_sums(xp: Any, plan: iir.IIRPlan, x: np.ndarray, z: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    if x.shape[0] == 0 or x.shape[1] == 0:
        return x, z
    if not narrow(x.shape[1]):
        return iir.iir_filter(xp, plan, x, z)
    b, a = coefficients(plan, x.dtype)
    return lfilter()(b, a, x, axis=0, zi=z)


_LFILTER: list = []


def lfilter() -> Any:
    """``scipy.signal.lfilter``, imported on first use (SciPy's import cost)."""
    if not _LFILTER:
        import scipy.signal

        _LFILTER.append(scipy.signal.lfilter)
    return _LFILTER[0]
