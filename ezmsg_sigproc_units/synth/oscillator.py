"""Oscillators (sine, square, sawtooth, triangle) driven by a clock, generated directly on the
chosen backend and device.

Sample ``k`` (counted from the first block) of channel ``c`` is ``amp * w(2 pi f_c k / fs +
phase)`` with ``w`` = ``sin`` or ``scipy.signal.square`` (duty 0.5), ``scipy.signal.sawtooth``
(rising, width 1) or ``sawtooth(., 0.5)`` (triangle).

Sine: the phase at each block start, ``p``, is a host float64 number computed from ``k`` and
wrapped to ``[0, 2 pi)``. With ``th = w * arange(n)/fs`` the device evaluates ``sin(p + th) =
sin(th) cos(p) + cos(th) sin(p)``: the ``sin(th)`` and ``cos(th)`` tables are computed on the
host in float64 once per block length and moved to the device once, and ``amp cos(p)``, ``amp
sin(p)`` are host numbers. So a block costs two multiplies and an add, float32 output stays
accurate after any running time, and no device transcendental is involved (MLX evaluates
float64 ``sin`` only to float32 accuracy). When every channel has the same frequency the host
numbers are Python scalars and a block makes no host-to-device transfer at all; with distinct
frequencies they are one ``(2, n_ch)`` array.

Square, sawtooth, triangle: the fraction of a cycle at each block start, ``u0``, is a host
float64 number computed from ``k`` the same way; a table of ``frac(f_c t / fs)``, ``t = 0 .. n -
1`` (host float64, moved once per block length) plus ``u0``, wrapped to ``[0, 1)``, is the
cycle fraction ``u`` of each sample, and the waveform is piecewise linear in ``u`` (square
``+amp`` for ``u < 0.5``; sawtooth ``amp (2 u - 1)``; triangle ``amp (1 - 4 |u - 1/2|)``). The
error is a float rounding of ``u`` (about 1e-7 in float32), whatever the running time; at a
jump (square, sawtooth) a sample within that rounding of the edge may take either side.
``u0`` is a Python number when all channels share a frequency, else one ``(1, n_ch)`` array
per block.
"""

from __future__ import annotations

import math
from typing import Any

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

_TWO_PI = 2.0 * math.pi
_MAX_TABLES = 8
WAVEFORMS = ("sine", "square", "sawtooth", "triangle")


class OscillatorSettings(SourceSettings):
    freq: float | list[float] = 10.0
    """Frequency in Hz, in ``[0, fs/2)``. A list gives one channel per frequency. Default 10.0."""

    amp: float = 1.0
    """Peak amplitude (output units). Can change live without a reset. Default 1.0."""

    phase: float = 0.0
    """Phase at the first sample, in radians. Default 0.0."""

    n_ch: int = 1
    """Number of identical channels when ``freq`` is a scalar (with a list it must be 1 or
    the list's length). Default 1."""

    waveform: str = "sine"
    """Wave shape: "sine", "square" (duty 0.5, +amp first), "sawtooth" (rising from -amp to
    amp) or "triangle" (from -amp up to amp at half a cycle and back). Default "sine"."""

    def __post_init__(self) -> None:
        check_source_settings(self)
        if self.waveform not in WAVEFORMS:
            raise ValueError(f"waveform: must be one of {', '.join(WAVEFORMS)}, got "
                             f"{self.waveform!r}")
        freqs = self.freq if isinstance(self.freq, (list, tuple)) else [self.freq]
        if not freqs:
            raise ValueError("freq: the list of frequencies is empty")
        for f in freqs:
            check_real("freq", f, minimum=0.0)
            if f >= self.fs / 2.0:
                raise ValueError(
                    f"freq: {f} Hz is not below the Nyquist frequency {self.fs / 2} Hz"
                )
        check_real("amp", self.amp)
        check_real("phase", self.phase)
        check_count("n_ch", self.n_ch)
        if isinstance(self.freq, (list, tuple)) and self.n_ch not in (1, len(self.freq)):
            raise ValueError(
                f"n_ch: {self.n_ch} does not match the {len(self.freq)} frequencies given in freq"
            )

    def frequencies(self) -> np.ndarray:
        """Per-channel frequencies in Hz (host float64, shape ``(n_ch,)``)."""
        if isinstance(self.freq, (list, tuple)):
            return np.asarray(self.freq, dtype=np.float64)
        return np.full(self.n_ch, float(self.freq), dtype=np.float64)


@processor_state
class OscillatorState(ClockDrivenState):
    """Only the sample counter: every phase is a function of it (``_phase_at``)."""


class OscillatorProducer(SourceMixin,
                         BaseClockDrivenProducer[OscillatorSettings, OscillatorState]):
    """Each clock tick gives a ``(time, ch)`` block of the waveform on the configured
    backend."""

    NONRESET_SETTINGS_FIELDS = frozenset({"amp"})
    _CACHES = ("_tables",)

    def _prepare(self) -> None:
        super()._prepare()
        s = self.settings
        self._freqs = s.frequencies()
        self._step = _TWO_PI * self._freqs / s.fs  # rad per sample, float64
        self._ch = channel_axis(self._freqs.shape[0])
        self._uniform = bool(np.all(self._freqs == self._freqs[0]))
        self._tables = {}

    def _cycles_at(self, k: int) -> Any:
        """Fraction of a cycle of sample ``k`` in ``[0, 1)``, from ``k`` directly: a float
        when the channels share a frequency (a 64-channel array op costs ~1 us, a float op
        ~50 ns, and this runs every block), else a ``(n_ch,)`` array."""
        s = self.settings
        if self._uniform:
            return ((float(self._freqs[0]) * k) % s.fs / s.fs + s.phase / _TWO_PI) % 1.0
        return np.mod(np.mod(self._freqs * k, s.fs) / s.fs + s.phase / _TWO_PI, 1.0)

    def _phase_at(self, k: int) -> Any:
        """Phase of sample ``k`` in ``[0, 2 pi)``, computed from ``k`` directly (no
        accumulated rounding); a float or a ``(n_ch,)`` array as ``_cycles_at``."""
        s = self.settings
        if self._uniform:
            return (_TWO_PI * ((float(self._freqs[0]) * k) % s.fs / s.fs) + s.phase) % _TWO_PI
        cycles = np.mod(self._freqs * k, s.fs) / s.fs
        return np.mod(_TWO_PI * cycles + s.phase, _TWO_PI)

    def _table(self, n: int) -> tuple:
        """Device tables for block length ``n``, each ``(n, n_ch)``, built once per ``n``:
        ``(sin(th), cos(th))``, ``th = w * arange(n) / fs``, for the sine; else
        ``(frac(f arange(n) / fs),)``."""
        table = self._tables.get(n)
        if table is None:
            xp, device, dtype = self._target
            t = np.arange(n, dtype=np.float64)[:, None]
            if self.settings.waveform == "sine":
                th = t * self._step[None, :]
                host = (np.sin(th), np.cos(th))
            else:
                host = (np.mod(t * self._freqs[None, :], self.settings.fs) / self.settings.fs,)
            table = tuple(_backend.asarray(xp, h, dtype=dtype, device=device) for h in host)
            if len(self._tables) >= _MAX_TABLES:
                self._tables.pop(next(iter(self._tables)))
            self._tables[n] = table
        return table

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        if self.settings.waveform == "sine":
            data = self._sine(n_samples)
        else:
            data = self._piecewise(n_samples)
        return block(data, time_axis, self._ch, "oscillator")  # the base advances counter

    def _sine(self, n: int) -> Any:
        xp, device, dtype = self._target
        amp = self.settings.amp
        phase = self._phase_at(self._state.counter)
        if self._uniform:  # host float64 numbers, not data: Python scalars, no transfer
            a_cos, a_sin = amp * math.cos(phase), amp * math.sin(phase)
        else:
            host = amp * np.stack([np.cos(phase), np.sin(phase)])[:, None, :]
            both = _backend.asarray(xp, host, dtype=dtype, device=device)
            a_cos, a_sin = both[0, ...], both[1, ...]
        sin_th, cos_th = self._table(n)
        return sin_th * a_cos + cos_th * a_sin

    def _piecewise(self, n: int) -> Any:
        xp, device, dtype = self._target
        amp, wave = self.settings.amp, self.settings.waveform
        u0 = self._cycles_at(self._state.counter)
        if not self._uniform:
            u0 = _backend.asarray(xp, u0[None, :], dtype=dtype, device=device)
        u = self._table(n)[0] + u0
        u = u - xp.floor(u)  # [0, 1)
        if wave == "sawtooth":
            return u * (2.0 * amp) - amp
        if wave == "triangle":
            return amp - xp.abs(u - 0.5) * (4.0 * amp)
        return xp.astype(u < 0.5, dtype) * (2.0 * amp) - amp  # square


class Oscillator(BaseClockDrivenUnit[OscillatorSettings, OscillatorProducer]):
    """Clock ticks in (``INPUT_CLOCK``), waveform blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = OscillatorSettings
