"""Sine oscillators driven by a clock, generated directly on the chosen backend and device.

Sample ``k`` (counted from the first block) of channel ``c`` is
``amp * sin(2 pi f_c k / fs + phase)``. The phase at each block start, ``p``, is host
float64 state computed from ``k`` and wrapped to ``[0, 2 pi)``. With ``th = w * arange(n)/fs``
the device evaluates ``sin(p + th) = sin(th) cos(p) + cos(th) sin(p)``: the ``sin(th)`` and
``cos(th)`` tables are computed on the host in float64 once per block length and moved to
the device once, and ``amp cos(p)``, ``amp sin(p)`` are host numbers. So a block costs two
multiplies and an add, float32 output stays accurate after any running time, and no device
transcendental is involved (MLX evaluates float64 ``sin`` only to float32 accuracy). When
every channel has the same frequency the host numbers are Python scalars and a block makes
no host-to-device transfer at all; with distinct frequencies they are one ``(2, n_ch)`` array.
"""

from __future__ import annotations

import math

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
from ._source import SourceSettings, block, channel_axis, check_source_settings, resolve_target

_TWO_PI = 2.0 * math.pi
_MAX_TABLES = 8


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


    def __post_init__(self) -> None:
        check_source_settings(self)
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
    phase: np.ndarray | None = None
    """Host float64 ``(n_ch,)``: phase of the next sample, wrapped to ``[0, 2 pi)``."""


class OscillatorProducer(BaseClockDrivenProducer[OscillatorSettings, OscillatorState]):
    """Each clock tick gives a ``(time, ch)`` block of sines on the configured backend."""

    NONRESET_SETTINGS_FIELDS = frozenset({"amp"})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._target = None  # (xp, device, dtype), resolved on reset
        self._tables: dict[int, object] = {}

    def __getstate__(self) -> dict:
        # Modules and device tables are caches: rebuilt from settings after unpickling.
        return {**self.__dict__, "_target": None, "_tables": {}}

    def _prepare(self) -> None:
        s = self.settings
        self._target = resolve_target(s)
        self._freqs = s.frequencies()
        self._step = _TWO_PI * self._freqs / s.fs  # rad per sample, float64
        self._ch = channel_axis(self._freqs.shape[0])
        self._uniform = bool(np.all(self._freqs == self._freqs[0]))
        self._tables = {}

    def _phase_at(self, k: int) -> np.ndarray:
        """Phase of sample ``k``, computed from ``k`` directly (no accumulated rounding)."""
        s = self.settings
        cycles = np.mod(self._freqs * k, s.fs) / s.fs
        return np.mod(_TWO_PI * cycles + s.phase, _TWO_PI)

    def _reset_state(self, time_axis: LinearAxis) -> None:
        self._prepare()
        self._state.phase = self._phase_at(self._state.counter)

    def _table(self, n: int) -> tuple:
        """``(sin(th), cos(th))``, ``th = w * arange(n) / fs``, each ``(n, n_ch)`` on the
        device; built once per block length ``n``."""
        table = self._tables.get(n)
        if table is None:
            xp, device, dtype = self._target
            th = np.arange(n, dtype=np.float64)[:, None] * self._step[None, :]
            table = tuple(_backend.asarray(xp, h, dtype=dtype, device=device)
                          for h in (np.sin(th), np.cos(th)))
            if len(self._tables) >= _MAX_TABLES:
                self._tables.pop(next(iter(self._tables)))
            self._tables[n] = table
        return table

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        st = self._state
        if st.phase is None:
            st.phase = self._phase_at(st.counter)
        xp, device, dtype = self._target
        amp = self.settings.amp
        if self._uniform:  # host float64 state, not data: Python scalars, no transfer
            p = float(st.phase[0])
            a_cos, a_sin = amp * math.cos(p), amp * math.sin(p)
        else:
            host = amp * np.stack([np.cos(st.phase), np.sin(st.phase)])[:, None, :]
            both = _backend.asarray(xp, host, dtype=dtype, device=device)
            a_cos, a_sin = both[0, ...], both[1, ...]
        sin_th, cos_th = self._table(n_samples)
        data = sin_th * a_cos + cos_th * a_sin
        st.phase = self._phase_at(st.counter + n_samples)  # the base then advances counter
        return block(data, time_axis, self._ch, "oscillator")


class Oscillator(BaseClockDrivenUnit[OscillatorSettings, OscillatorProducer]):
    """Clock ticks in (``INPUT_CLOCK``), sine blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = OscillatorSettings
