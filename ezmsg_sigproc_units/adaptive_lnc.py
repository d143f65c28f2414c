"""Adaptive line-noise cancellation (LNC): removes a mains line (and optionally its
harmonics) whose exact frequency drifts.

A fixed-frequency quadrature-LMS canceller with step ``mu`` is exactly a second-order notch
(``design_lnc_sos``); one section per harmonic ``k`` at ``k x omega``. A frequency-locked
loop (FLL) moves ``omega`` once per update window (one line period, on a grid carried across
chunks) by the pooled rotation of the demodulated line phasor, so the output does not depend
on the chunking. ``CancelMethod.SUBTRACT`` instead subtracts a reconstructed common-mode line
(global phase, per-channel amplitude) committed at each window end.

Gains come from time constants: ``mu = 2 / (adapt_time_constant fs)``; FLL step
``beta = 1 - exp(-(L / fs) / freq_time_constant)``; subtract smoothing
``alpha = 1 - exp(-(L / fs) / adapt_time_constant)``.
"""

from __future__ import annotations

import enum
import math
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import asarray, default_float, namespace_and_device, zeros
from ._kernels import iir, lnc
from ._lnc_common import restore, time_channels
from ._lnc_walk import walk
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_count, check_member, check_real

__all__ = ["AdaptiveLNC", "AdaptiveLNCSettings", "AdaptiveLNCState", "AdaptiveLNCTransformer",
           "CancelMethod", "design_lnc_sos"]


class CancelMethod(str, enum.Enum):
    """How ``AdaptiveLNCTransformer`` removes the line."""

    NOTCH = "notch"
    """The notch cascade: a null at every harmonic (removes any signal there too)."""

    SUBTRACT = "subtract"
    """Subtract the common-mode line estimated at each window end (global phase, per-channel
    amplitude); keeps in-band signal that is independent across channels."""

    PASSTHROUGH = "passthrough"
    """Return the input message unchanged (no cancellation, no tracking)."""


def _optional_real(name: str, value: Any, minimum: float | None = None) -> None:
    if value is not None:
        check_real(name, value, minimum=minimum)


class AdaptiveLNCSettings(ez.Settings):
    line_freq: float = 60.0
    """Nominal line frequency in Hz (> 0): seeds the oscillator and sets the update window
    (``round(fs / line_freq)`` samples). Default 60."""

    num_harmonics: int = 1
    """Harmonics cancelled, fundamental included (>= 1). Default 1."""

    adapt_time_constant: float = 0.1
    """Settling time in seconds (> 0) of the amplitude/phase adaptation (notch width). Must
    exceed one sample period (``mu < 2``). Read live. Default 0.1."""

    freq_time_constant: float | None = 0.5
    """Settling time in seconds of the frequency tracker; None or <= 0 freezes the frequency
    at ``line_freq``. Read live. Default 0.5."""

    max_freq_deviation: float | None = 2.0
    """Largest tracked distance from ``line_freq`` in Hz (>= 0); None: unbounded (clipped to
    [0, fs / 2] otherwise). Default 2."""

    cancel_method: CancelMethod = CancelMethod.NOTCH
    """``CancelMethod`` (member, value or name). Default NOTCH."""

    axis: str | None = None
    """Dim to filter along. None (default) follows the message's ``stream_dim``, else
    ``"time"``."""

    def __post_init__(self) -> None:
        check_real("line_freq", self.line_freq, minimum=0.0)
        if self.line_freq == 0:
            raise ValueError("line_freq: must be > 0 Hz, got 0")
        check_count("num_harmonics", self.num_harmonics)
        check_real("adapt_time_constant", self.adapt_time_constant, minimum=0.0)
        if self.adapt_time_constant == 0:
            raise ValueError("adapt_time_constant: must be > 0 seconds, got 0")
        _optional_real("freq_time_constant", self.freq_time_constant)
        _optional_real("max_freq_deviation", self.max_freq_deviation, minimum=0.0)
        check_member(CancelMethod, "cancel_method", self.cancel_method)
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")


@processor_state
class AdaptiveLNCState:
    fs: float = 1.0
    """Sampling rate (Hz)."""

    block_len: int = 1
    """Update window ``L`` in samples (one line period)."""

    samples_in_block: int = 0
    """Samples of the current window seen so far (the window grid spans chunks)."""

    omega_fixed: float | None = None
    """``omega`` as a host float while the FLL has never run (fixed-frequency fast path)."""

    has_prev: bool = False
    """A previous window's phasor exists (the FLL can measure a rotation)."""

    committed: bool = False
    """Subtract mode: a line estimate has been committed."""

    arrays: dict | None = None
    """Device state (see ``_kernels.lnc``): ``zi``, ``acc``, ``prev``, ``scal``, ``est``,
    ``theta`` and the window ``consts``."""

    gains: Any = None
    """``(7,)`` device gains (``_kernels.lnc``), rebuilt when ``gains_key`` changes."""

    gains_key: tuple | None = None

    plan: Any = None
    """Block IIR plan of the fixed-frequency cascade, with ``plan_key`` (omega, mu)."""

    plan_key: tuple | None = None


class AdaptiveLNCTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[AdaptiveLNCSettings, AxisArray, AxisArray, AdaptiveLNCState],
):
    """Quadrature-LMS line canceller as its exact notch-cascade equivalent, with frequency
    tracking; output in the input's layout, dtype and device (computed in float64 where the
    device has it). ``adapt_time_constant`` and ``freq_time_constant`` are read live; other
    changes reset, and the state resets by the shared rule (``StreamAxisMixin``)."""

    NONRESET_SETTINGS_FIELDS = frozenset({"adapt_time_constant", "freq_time_constant"})

    def _reset_state(self, message: AxisArray) -> None:
        axis = self._axis(message)
        ix = axis_index(message, axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        s, st = self.settings, self._state
        st.fs = fs = 1.0 / message.axes[axis].gain
        st.block_len = L = max(1, int(round(fs / s.line_freq)))
        st.samples_in_block, st.has_prev, st.committed = 0, False, False
        omega = 2.0 * math.pi * s.line_freq / fs
        st.omega_fixed = omega
        K, C = s.num_harmonics, math.prod(x.shape[:ix] + x.shape[ix + 1:])
        dt = default_float(xp, dev)
        st.arrays = {
            "zi": zeros(xp, (K, 2, C), dtype=dt, device=dev),
            "acc": zeros(xp, (2 * (K if s.cancel_method == CancelMethod.SUBTRACT else 1), C),
                         dtype=dt, device=dev),
            "prev": zeros(xp, (2, C), dtype=dt, device=dev),
            "scal": asarray(xp, np.array([omega, 0.0]), dtype=dt, device=dev),
            "est": zeros(xp, (3 * K, C), dtype=dt, device=dev),
            "theta": zeros(xp, (K,), dtype=dt, device=dev),
            "consts": lnc.constants(xp, L, K, dtype=dt, device=dev),
        }
        st.gains = st.gains_key = st.plan = st.plan_key = None

    def _gains(self, xp: Any, dev: Any) -> Any:
        s, st = self.settings, self._state
        key = (s.adapt_time_constant, s.freq_time_constant)
        if st.gains_key != key:
            L, fs = st.block_len, st.fs
            mu = 2.0 / (s.adapt_time_constant * fs)
            if mu >= 2.0:
                raise ValueError(f"adapt_time_constant: must exceed one sample period "
                                 f"(1/fs = {1 / fs:g} s) for a stable notch, got "
                                 f"{s.adapt_time_constant!r}")
            tau = s.freq_time_constant
            beta = 1.0 - math.exp(-(L / fs) / tau) if self._tracking() else 0.0
            dev_hz = s.max_freq_deviation
            lo, hi = -math.inf, math.inf
            if dev_hz is not None:
                lo = 2.0 * math.pi * max(0.0, s.line_freq - dev_hz) / fs
                hi = 2.0 * math.pi * min(fs / 2.0, s.line_freq + dev_hz) / fs
            alpha = 1.0 - math.exp(-(L / fs) / s.adapt_time_constant)
            vals = np.array([mu, beta, lo, hi, alpha, 2.0 / L, float(L)])
            st.gains = asarray(xp, vals, dtype=st.arrays["scal"].dtype, device=dev)
            st.gains_key = key
        return st.gains

    def _tracking(self) -> bool:
        tau = self.settings.freq_time_constant
        return tau is not None and tau > 0

    def _fixed_notch(self, xp: Any, x: Any) -> Any:
        """Frozen frequency, never tracked: the whole chunk through one block IIR plan."""
        s, st, a = self.settings, self._state, self._state.arrays
        mu = 2.0 / (s.adapt_time_constant * st.fs)
        key = (st.omega_fixed, mu)
        if st.plan_key != key:
            sos = design_lnc_sos(st.omega_fixed, mu, s.num_harmonics)
            st.plan = iir.iir_plan(xp, sos, dtype=x.dtype, device=namespace_and_device(x)[1])
            st.plan_key = key
        z = iir.zi_from_scipy(xp, st.plan, a["zi"])
        y, z = iir.iir_filter(xp, st.plan, x, z)
        a["zi"] = iir.zi_to_scipy(xp, st.plan, z)
        a["scal"] = lnc.advance_phase(xp, a["scal"], x.shape[0])
        return y

    def _process(self, message: AxisArray) -> AxisArray:
        method = self.settings.cancel_method
        if method == CancelMethod.PASSTHROUGH:
            return message
        xp, dev = namespace_and_device(message.data)
        st = self._state
        x2, layout = time_channels(xp, dev, message, self._axis(message),
                                   st.arrays["scal"].dtype)
        gains = self._gains(xp, dev)
        if x2.shape[0] == 0:
            y = x2
        elif method == CancelMethod.NOTCH and not self._tracking() and (
                st.omega_fixed is not None):
            y = self._fixed_notch(xp, x2)
        else:
            y = walk(xp, x2, st, gains, subtract=method == CancelMethod.SUBTRACT,
                     tracking=self._tracking())
        return replace_data(message, restore(xp, y, layout))


class AdaptiveLNC(
    TransformerUnit[AdaptiveLNCSettings, AxisArray, AxisArray, AdaptiveLNCTransformer]
):
    SETTINGS = AdaptiveLNCSettings


def design_lnc_sos(omega: float, mu: float, num_harmonics: int = 1) -> np.ndarray:
    """Second-order sections ``(num_harmonics, 6)`` (float64, ``[b0 b1 b2 a0 a1 a2]``) of the
    notch cascade equivalent to a quadrature-LMS canceller with step ``mu`` at ``omega``
    rad/sample: section ``k`` is ``(1, -2 c, 1) / (1, -(2 - mu) c, 1 - mu)`` with
    ``c = cos(k omega)``, zeros on the unit circle at ``e^(+-j k omega)``, poles at radius
    ``sqrt(1 - mu)``. ``num_harmonics`` below 1 counts as 1."""
    k = np.arange(1, max(1, int(num_harmonics)) + 1, dtype=np.float64)
    c = np.cos(k * float(omega))
    one = np.ones_like(c)
    return np.stack([one, -2.0 * c, one, one, -(2.0 - mu) * c, (1.0 - mu) * one], axis=1)
