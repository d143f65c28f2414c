"""Add a test sinusoid to a stream on demand: ``sin(2 pi f t)`` times a fixed random mixing
weight per channel (uniform in [-1, 1)) times the amplitude; frequency None passes the stream
unchanged. The Unit takes new frequencies and amplitudes on its own inputs, live."""

from __future__ import annotations

import math
import typing
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseAsyncTransformer, BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import arange, asarray, float_dtype_for, namespace_and_device
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_real


class SignalInjectorSettings(ez.Settings):
    time_dim: str = "time"
    """Dim of the samples; its axis gives their times in seconds. Default "time"."""

    frequency: float | None = None
    """Hz of the injected sinusoid; None (default) injects nothing."""

    amplitude: float = 1.0
    """Peak amplitude before the per-channel mixing weight. Default 1.0."""

    mixing_seed: int | None = None
    """Seed of the mixing weights (None: fresh ones at every reset). Default None."""

    def __post_init__(self) -> None:
        if not isinstance(self.time_dim, str) or not self.time_dim:
            raise ValueError(f"time_dim: must be a dim name, got {self.time_dim!r}")
        if self.frequency is not None:
            check_real("frequency", self.frequency)
        check_real("amplitude", self.amplitude)
        if self.mixing_seed is not None and (isinstance(self.mixing_seed, bool)
                                             or not isinstance(self.mixing_seed, int)):
            raise ValueError(f"mixing_seed: must be an int or None, got {self.mixing_seed!r}")


@processor_state
class SignalInjectorState:
    cur_shape: tuple[int, ...] | None = None
    """Shape of a sample (the message's shape without ``time_dim``)."""

    cur_frequency: float | None = None
    """Frequency now injected (the Unit's ``INPUT_FREQUENCY`` changes it; kept over resets)."""

    cur_amplitude: float | None = None
    """Amplitude now injected (``INPUT_AMPLITUDE`` changes it; kept over resets)."""

    mixing: Any = None
    """Per-channel weights, shaped to broadcast against the data, on its device."""


class SignalInjectorTransformer(StreamAxisMixin, BaseAsyncTransformer[
        SignalInjectorSettings, AxisArray, AxisArray, SignalInjectorState]):
    """``y = x + amplitude * mixing * sin(2 pi f t)``; the output is a new array in the input's
    namespace, device and float dtype. The phase of each message's first sample is reduced on
    the host in float64, so the sinusoid stays exact in float32 at any running time."""

    __call__ = BaseStatefulTransformer.__call__  # synchronous: no event loop per message

    def _axis(self, message: AxisArray) -> str:
        return self.settings.time_dim

    def _reset_state(self, message: AxisArray) -> None:
        if self._state.cur_frequency is None:
            self._state.cur_frequency = self.settings.frequency
        if self._state.cur_amplitude is None:
            self._state.cur_amplitude = self.settings.amplitude
        ix = axis_index(message, self.settings.time_dim, "time_dim")
        x = message.data
        xp, dev = namespace_and_device(x)
        shape = tuple(x.shape)
        self._state.cur_shape = shape[:ix] + shape[ix + 1:]
        rng = np.random.default_rng(self.settings.mixing_seed)
        weights = rng.random((1, math.prod(self._state.cur_shape))) * 2.0 - 1.0
        bshape = [1 if i == ix else n for i, n in enumerate(shape)]
        self._state.mixing = asarray(xp, weights.reshape(bshape),
                                     dtype=float_dtype_for(xp, x.dtype, dev), device=dev)

    async def _aprocess(self, message: AxisArray) -> AxisArray:
        return self._process(message)

    def _process(self, message: AxisArray) -> AxisArray:
        freq = self._state.cur_frequency
        if freq is None:
            return message
        ix = axis_index(message, self.settings.time_dim, "time_dim")
        x = message.data
        xp, dev = namespace_and_device(x)
        fdt = float_dtype_for(xp, x.dtype, dev)
        n = x.shape[ix]
        ax = message.axes.get(self.settings.time_dim)
        shape = [1] * len(x.shape)
        shape[ix] = n
        w = 2.0 * math.pi * float(freq)
        if ax is None or isinstance(ax, LinearAxis):
            gain, offset = (1.0, 0.0) if ax is None else (float(ax.gain), float(ax.offset))
            phase0 = math.fmod(w * offset, 2.0 * math.pi)
            k = arange(xp, n, dtype=fdt, device=dev)
            wave = xp.sin(k * (w * gain) + phase0)
        else:  # timestamps: host metadata, one transfer of the phases
            t = np.asarray(ax.data, dtype=np.float64)
            wave = asarray(xp, np.sin(w * t), dtype=fdt, device=dev)
        wave = xp.reshape(wave, tuple(shape))
        amp = float(self._state.cur_amplitude)
        y = x + wave * self._state.mixing * amp
        return replace_data(message, y if y.dtype == x.dtype else xp.astype(y, x.dtype))


class SignalInjector(TransformerUnit[SignalInjectorSettings, AxisArray, AxisArray,
                                     SignalInjectorTransformer]):
    """Data in and out; ``INPUT_FREQUENCY`` (Hz, or None to stop) and ``INPUT_AMPLITUDE``
    change the injection live."""

    SETTINGS = SignalInjectorSettings
    INPUT_FREQUENCY = ez.InputStream(typing.Optional[float])  # noqa: UP045 - the peer's stream type
    INPUT_AMPLITUDE = ez.InputStream(float)

    # A value of the wrong kind is dropped with one WARNING line (docs/robustness.md), so it
    # cannot make every later signal message fail.
    @ez.subscriber(INPUT_FREQUENCY)
    async def on_frequency(self, msg: float | None) -> None:
        def step(proc: SignalInjectorTransformer) -> None:
            proc.state.cur_frequency = None if msg is None else _real("frequency", msg)

        self._run_input(step, msg, axisarray=False)

    @ez.subscriber(INPUT_AMPLITUDE)
    async def on_amplitude(self, msg: float) -> None:
        def step(proc: SignalInjectorTransformer) -> None:
            proc.state.cur_amplitude = _real("amplitude", msg)

        self._run_input(step, msg, axisarray=False)


def _real(name: str, value: typing.Any) -> typing.Any:
    """``value`` when it is a finite real number (a bool is not one; a NumPy scalar is taken
    as its Python number); else ``ValueError``."""
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        value = value.item()
    check_real(name, value)
    return value
