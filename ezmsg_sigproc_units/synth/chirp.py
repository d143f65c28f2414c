"""Frequency sweeps driven by a clock: ``amp * cos(phi(t) + phase)``, the same signal as
``scipy.signal.chirp(t, f0, t1, f1, method, phi=degrees(phase))`` of the sample times ``t =
k / fs`` during the sweep, then holding ``f1`` (``period=None``) or restarting every
``period`` seconds.

Accuracy after any running time: the position in the sweep is exact (sample counts as
fractions), the phase at the start of each piece of at most ``M`` samples (64 in float32,
1024 in float64) is host float64, wrapped to one cycle, and the device only evaluates the
phase relative to that start (a polynomial in the sample index ``j``, or ``K expm1(l j)``
for the logarithmic sweep, whose table is cached on the device). So float32 output stays
within ~3e-5 of the float64 reference. Host numbers per piece are Python scalars: no
host-to-device transfer per block. A block costs a few element-wise operations per piece.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from ezmsg.baseproc import (
    BaseClockDrivenProducer,
    BaseClockDrivenUnit,
    ClockDrivenState,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from .. import _backend
from .._validate import check_count, check_real
from ._source import SourceMixin, SourceSettings, block, channel_axis, check_source_settings

METHODS = ("linear", "quadratic", "logarithmic")
_TWO_PI = 2.0 * math.pi
_PIECE = {"float32": 64, "float64": 1024}


class ChirpSettings(SourceSettings):
    f0: float = 1.0
    """Frequency at the start of the sweep (Hz), in ``[0, fs/2)`` (> 0 for logarithmic).
    Default 1.0."""

    f1: float = 10.0
    """Frequency at the end of the sweep, ``t1`` seconds later (Hz), in ``[0, fs/2)`` (> 0
    for logarithmic). Default 10.0."""

    t1: float = 1.0
    """Duration of the sweep (s), > 0. Default 1.0."""

    method: str = "linear"
    """How the frequency goes from f0 to f1: "linear", "quadratic" (``f0 + (f1 - f0)
    (t / t1)**2``, vertex at 0) or "logarithmic" (geometric). Default "linear"."""

    period: float | None = None
    """Restart the sweep (phase included) every ``period`` seconds, >= t1; between t1 and
    ``period`` the frequency holds at f1. Restarts fall on the samples where the count of
    ``period * fs`` (which may be fractional) is reached. None: sweep once, then hold f1 for
    ever. Default None."""

    amp: float = 1.0
    """Peak amplitude (output units). Can change live without a reset. Default 1.0."""

    phase: float = 0.0
    """Phase at the start of each sweep, in radians (scipy's ``phi`` is in degrees). Default
    0.0."""

    n_ch: int = 1
    """Number of identical channels. Default 1."""

    def __post_init__(self) -> None:
        check_source_settings(self)
        for name in ("f0", "f1"):
            f = getattr(self, name)
            check_real(name, f, minimum=0.0)
            if f >= self.fs / 2.0:
                raise ValueError(f"{name}: {f} Hz is not below the Nyquist frequency "
                                 f"{self.fs / 2} Hz")
        check_real("t1", self.t1)
        if self.t1 <= 0:
            raise ValueError(f"t1: must be > 0 s, got {self.t1!r}")
        if self.method not in METHODS:
            raise ValueError(f"method: must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.method == "logarithmic" and (self.f0 <= 0 or self.f1 <= 0):
            raise ValueError("method: 'logarithmic' needs f0 > 0 and f1 > 0")
        if self.period is not None:
            check_real("period", self.period)
            if self.period < self.t1:
                raise ValueError(f"period: must be >= t1 ({self.t1} s), got {self.period!r}")
        check_real("amp", self.amp)
        check_real("phase", self.phase)
        check_count("n_ch", self.n_ch)


@processor_state
class ChirpState(ClockDrivenState):
    """Only the sample counter of the base class: the signal is a function of it."""


class ChirpProducer(SourceMixin, BaseClockDrivenProducer[ChirpSettings, ChirpState]):
    """Each clock tick gives a ``(time, ch)`` block of the sweep on the configured backend."""

    NONRESET_SETTINGS_FIELDS = frozenset({"amp"})
    _CACHES = ("_j", "_g", "_ones")

    # ------------------------------------------------------------------ host (float64)
    def _prepare(self) -> None:
        super()._prepare()
        s = self.settings
        xp, device, dtype = self._target
        self._ch = channel_axis(s.n_ch)
        self._m = _PIECE[s.dtype]
        j = np.arange(self._m, dtype=np.float64)[:, None]
        self._j = _backend.asarray(xp, j, dtype=dtype, device=device)
        self._log = s.method == "logarithmic" and s.f0 != s.f1
        self._g = None
        if self._log:
            self._lnr = math.log(s.f1 / s.f0)
            host = np.expm1(j * self._lnr / (s.t1 * s.fs))
            self._g = _backend.asarray(xp, host, dtype=dtype, device=device)
        self._ones = _backend.ones(xp, (1, s.n_ch), dtype=dtype, device=device)
        self._T1 = Fraction(s.t1 * s.fs)  # sweep length in samples (the float64 product)
        self._N = None if s.period is None else Fraction(s.period * s.fs)
        self._c1 = self._cycles(s.t1)

    def _cycles(self, tau: float) -> float:
        """Cycles of the sweep at ``tau`` s (``0 <= tau <= t1``) from its start."""
        s = self.settings
        if s.method == "linear":
            return s.f0 * tau + 0.5 * (s.f1 - s.f0) / s.t1 * tau * tau
        if s.method == "quadratic":
            return s.f0 * tau + (s.f1 - s.f0) / (3.0 * s.t1 * s.t1) * tau ** 3
        if not self._log:
            return s.f0 * tau
        return s.t1 * s.f0 / self._lnr * math.expm1(self._lnr * tau / s.t1)

    def _freq(self, tau: float) -> float:
        s = self.settings
        if s.method == "linear":
            return s.f0 + (s.f1 - s.f0) * tau / s.t1
        if s.method == "quadratic":
            return s.f0 + (s.f1 - s.f0) * (tau / s.t1) ** 2
        return s.f0 * math.exp(self._lnr * tau / s.t1) if self._log else s.f0

    def _pieces(self, k0: int, n: int) -> list[tuple]:
        """Split samples ``k0 .. k0 + n - 1`` into pieces of one kind (sweep or hold, within
        one period) of at most ``M`` samples: ``(length, start phase in radians, coefs)``,
        coefs ``("poly", A, B, C)`` for ``th = j (A + j (B + j C))`` or ``("log", K)``."""
        s, fs, T1, N = self.settings, self.settings.fs, self._T1, self._N
        out, pos = [], 0
        while pos < n:
            k = k0 + pos
            ts = Fraction(k) if N is None else k - math.floor(k / N) * N  # samples into period
            left = math.inf if N is None else math.ceil(N - ts)  # samples before a restart
            tau = float(ts) / fs
            if ts <= T1:  # sweeping
                length = min(math.floor(T1 - ts) + 1, left)
                cycles = self._cycles(tau)
                f = self._freq(tau)
                if self._log:
                    b = s.t1 / self._lnr
                    coefs = ("log", _TWO_PI * b * f)
                elif s.method == "quadratic":
                    beta = (s.f1 - s.f0) / (s.t1 * s.t1)
                    coefs = ("poly", _TWO_PI * f / fs, _TWO_PI * beta * tau / fs ** 2,
                             _TWO_PI * beta / (3.0 * fs ** 3))
                else:
                    beta = (s.f1 - s.f0) / s.t1 if s.method == "linear" else 0.0
                    coefs = ("poly", _TWO_PI * f / fs, math.pi * beta / fs ** 2, 0.0)
            else:  # holding f1 since t1: cycles = c(t1) + f1 (ts - T1) / fs, exactly wrapped
                length = left
                cycles = self._c1 + float((Fraction(s.f1) * (ts - T1) / Fraction(fs)) % 1)
                coefs = ("poly", _TWO_PI * s.f1 / fs, 0.0, 0.0)
            length = int(min(length, n - pos, self._m))
            p = _TWO_PI * (cycles % 1.0) + s.phase
            out.append((length, p, coefs))
            pos += length
        return out

    # ------------------------------------------------------------------ device
    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        xp = self._target[0]
        amp = self.settings.amp
        parts = []
        for length, p, coefs in self._pieces(self._state.counter, n_samples):
            if coefs[0] == "log":
                th = self._g[:length, ...] * coefs[1]
            else:
                _, a, b, c = coefs
                j = self._j[:length, ...]
                if c != 0.0:
                    th = j * (a + j * (b + j * c))
                elif b != 0.0:
                    th = j * (a + j * b)
                else:
                    th = j * a
            parts.append(xp.cos(th) * (amp * math.cos(p)) - xp.sin(th) * (amp * math.sin(p)))
        data = parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
        if self.settings.n_ch > 1:
            data = data * self._ones
        return block(data, time_axis, self._ch, "chirp")


class Chirp(BaseClockDrivenUnit[ChirpSettings, ChirpProducer]):
    """Clock ticks in (``INPUT_CLOCK``), sweep blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = ChirpSettings
