"""The NumPy native implementation of ``ewma.ewma_sums``: ``scipy.signal.lfilter`` along time
for few channels (its per-channel loop is cheap there), the block state-space kernel's own
NumPy path (``iir``) for many. The state is ``lfilter``'s ``zi`` ``(1, C)`` for few channels,
the block kernel's state otherwise; ``narrow(C)`` decides, for a whole stream."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import iir

NARROW_CHANNELS = 24
"""Up to this many channels ``lfilter`` beats the block products; its cost grows faster than
the channel count along axis 0 (200 samples: lfilter 9, 21 and 70 us at 8, 24 and 48
channels; the block kernel 16-21 us for all three)."""


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
    return lfilter()(b, a, x, z)


_LFILTER: list = []


def lfilter() -> Any:
    """``f(b, a, x, zi) -> (y, zf)``: ``scipy.signal.lfilter`` along axis 0, imported on first
    use. SciPy's own C routine (``_sigtools._linear_filter``, what ``lfilter`` calls after
    checking and converting its arguments) when this SciPy has it: the checks cost as much as
    the filtering at 200 x 8 (13 of 26 us), and the arguments here are already NumPy arrays of
    one float dtype with ``zi`` shaped ``(1, C)``."""
    if not _LFILTER:
        try:
            from scipy.signal._sigtools import _linear_filter as native

            def f(b: Any, a: Any, x: Any, zi: Any) -> Any:
                return native(b, a, x, 0, zi)
        except ImportError:  # another SciPy layout: the public function
            import scipy.signal

            def f(b: Any, a: Any, x: Any, zi: Any) -> Any:
                return scipy.signal.lfilter(b, a, x, axis=0, zi=zi)

        _LFILTER.append(f)
    return _LFILTER[0]
