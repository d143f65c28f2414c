"""Spike trains driven by a clock: Poisson spikes from the backend's own generator, or a
regular impulse train at exact sample positions.

Poisson (``regular=False``): each sample of channel ``c`` holds a spike (``amp``) with
probability ``p_c = rate_c / fs``, independently, so the mean rate is exactly ``rate_c`` (a
Bernoulli process, the discrete-time Poisson process with at most one spike per sample). The
draw is ``x < Phi^-1(p_c)`` with ``x`` standard normal from ``_stream.NormalStream`` (the
device generator in fixed batches): no per-block transfer, and the same spikes for a given
seed whatever the block sizes. Very small ``p`` (below ~1e-6) rely on the far tail of the
backend's float32 normal generator; use dtype float64 there.

Regular (``regular=True``): spike ``m = 0, 1, 2, ...`` of channel ``c`` is at sample
``floor(m fs / rate_c + 1/2)`` (the nearest sample, half up), computed on the host in float64
from ``m`` (no accumulated rounding). When every channel has the same rate and a block holds
at most 16 spikes, the device compares a cached sample-index table with each position (Python
integers: no transfer); otherwise the block's spike positions (a small ``(1, n_ch, q)`` array,
never the samples) move to the device once per block.
"""

from __future__ import annotations

import math
from statistics import NormalDist
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
from ._source import (
    SourceMixin,
    SourceSettings,
    block,
    channel_axis,
    check_seed,
    check_source_settings,
    per_channel,
)
from ._stream import NormalStream

_MAX_SCALAR_SPIKES = 16
_MAX_TABLES = 8


class SpikeTrainSettings(SourceSettings):
    rate: float | list[float] = 10.0
    """Mean spike rate (Hz) in ``[0, fs]``; a list gives one channel per rate. Default 10.0."""

    amp: float = 1.0
    """Spike amplitude (output units). Can change live without a reset. Default 1.0."""

    n_ch: int = 1
    """Number of channels when ``rate`` is a scalar (with a list it must be 1 or the list's
    length). Default 1."""

    regular: bool = False
    """False: Poisson (random) spikes; True: a regular impulse train, first spike at the
    first sample. Default False."""

    seed: int | None = None
    """Seed of the generator (Poisson mode); the same seed gives the same spikes on the same
    backend, whatever the block sizes. None draws a fresh seed. Default None."""

    def __post_init__(self) -> None:
        check_source_settings(self)
        check_count("n_ch", self.n_ch)
        per_channel("rate", self.rate, self.n_ch, minimum=0.0)
        if max(self.rates()) > self.fs:
            raise ValueError(f"rate: must be <= fs ({self.fs} Hz): at most one spike per sample")
        check_real("amp", self.amp)
        if not isinstance(self.regular, bool):
            raise ValueError(f"regular: must be a bool, got {self.regular!r}")
        check_seed(self.seed)

    def rates(self) -> np.ndarray:
        """Per-channel rates in Hz (host float64, shape ``(n_ch,)``)."""
        return per_channel("rate", self.rate, self.n_ch, minimum=0.0)


@processor_state
class SpikeTrainState(ClockDrivenState):
    noise: NormalStream | None = None
    """Poisson mode: the backend-native generator cut into blocks."""


class SpikeTrainProducer(SourceMixin,
                         BaseClockDrivenProducer[SpikeTrainSettings, SpikeTrainState]):
    """Each clock tick gives a ``(time, ch)`` block: ``amp`` at spikes, 0 elsewhere."""

    NONRESET_SETTINGS_FIELDS = frozenset({"amp"})
    _CACHES = ("_threshold", "_tables", "_ones")

    def _prepare(self) -> None:
        super()._prepare()
        xp, device, dtype = self._target
        rates = self.settings.rates()
        self._rates = rates
        self._uniform = bool(np.all(rates == rates[0]))
        self._ch = channel_axis(rates.shape[0])
        self._tables = {}
        self._ones = _backend.ones(xp, (1, rates.shape[0]), dtype=dtype, device=device)
        z = [_threshold(r / self.settings.fs) for r in rates]
        if self._uniform:
            self._threshold = z[0]
        else:
            host = np.asarray(z, dtype=np.float64)[None, :]
            self._threshold = _backend.asarray(xp, host, dtype=dtype, device=device)

    def _start(self) -> None:
        if self.settings.regular:  # no random draws
            return
        xp, device, dtype = self._target
        rng = _backend.DeviceRNG(xp, device, self.settings.seed)
        self._state.noise = NormalStream(rng, self._rates.shape[0], dtype)

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        xp, _, dtype = self._target
        if self.settings.regular:
            data = self._regular(n_samples)
        else:
            if self._state.noise is None:
                self._start()
            draw = self._state.noise.take(n_samples)
            data = xp.astype(draw < self._threshold, dtype) * self.settings.amp
        return block(data, time_axis, self._ch, "spikes")

    def _offsets(self, rate: float, k0: int, n: int) -> np.ndarray:
        """Spike positions of one channel in ``[k0, k0 + n)``, relative to ``k0`` (host)."""
        if rate <= 0.0:
            return np.zeros(0, dtype=np.int64)
        period = self.settings.fs / rate
        m0 = max(0, math.floor((k0 - 0.5) / period) - 1)
        m = np.arange(m0, m0 + math.ceil(n / period) + 3, dtype=np.float64)
        k = np.floor(m * self.settings.fs / rate + 0.5).astype(np.int64) - k0
        return k[(k >= 0) & (k < n)]

    def _index(self, n: int) -> Any:
        """``arange(n)`` as an ``(n, 1)`` device table, built once per ``n``."""
        table = self._tables.get(n)
        if table is None:
            xp, device, dtype = self._target
            table = xp.reshape(_backend.arange(xp, n, dtype=dtype, device=device), (n, 1))
            if len(self._tables) >= _MAX_TABLES:
                self._tables.pop(next(iter(self._tables)))
            self._tables[n] = table
        return table

    def _regular(self, n: int) -> Any:
        xp, device, dtype = self._target
        k0, amp, n_ch = self._state.counter, self.settings.amp, self._rates.shape[0]
        j = self._index(n)
        if self._uniform:
            offsets = self._offsets(float(self._rates[0]), k0, n)
            if offsets.shape[0] == 0:
                return _backend.zeros(xp, (n, n_ch), dtype=dtype, device=device)
            if offsets.shape[0] <= _MAX_SCALAR_SPIKES:
                col = xp.astype(j == float(offsets[0]), dtype)
                for o in offsets[1:]:
                    col = col + xp.astype(j == float(o), dtype)
                return (col * amp) * self._ones
        per = [self._offsets(float(r), k0, n) for r in self._rates]
        q = max(1, max(o.shape[0] for o in per))
        host = np.full((1, n_ch, q), -1.0)
        for c, o in enumerate(per):
            host[0, c, : o.shape[0]] = o
        pos = _backend.asarray(xp, host, dtype=dtype, device=device)
        hit = xp.any(xp.reshape(j, (n, 1, 1)) == pos, axis=2)
        return xp.astype(hit, dtype) * amp


def _threshold(p: float) -> float:
    """``z`` with ``P(N(0, 1) < z) = p`` (host float64; +-inf at 0 and 1)."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return NormalDist().inv_cdf(p)


class SpikeTrain(BaseClockDrivenUnit[SpikeTrainSettings, SpikeTrainProducer]):
    """Clock ticks in (``INPUT_CLOCK``), spike blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = SpikeTrainSettings
