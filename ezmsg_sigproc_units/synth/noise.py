"""Gaussian white noise driven by a clock, drawn with the chosen backend's own generator on
its device (no host-to-device copy per block, except on array-api-strict, which has no RNG).
"""

from __future__ import annotations

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


class WhiteNoiseSettings(SourceSettings):
    loc: float = 0.0
    """Mean of the noise (output units). Can change live without a reset. Default 0.0."""

    scale: float = 1.0
    """Standard deviation (output units), >= 0. Can change live without a reset. Default 1.0."""

    n_ch: int = 1
    """Number of independent channels. Default 1."""

    seed: int | None = None
    """Seed of the generator; the same seed gives the same stream on the same backend.
    None draws a fresh seed. Default None."""


    def __post_init__(self) -> None:
        check_source_settings(self)
        check_real("loc", self.loc)
        check_real("scale", self.scale, minimum=0.0)
        check_count("n_ch", self.n_ch)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or self.seed < 0):
            raise ValueError(f"seed: must be a non-negative integer or None, got {self.seed!r}")


@processor_state
class WhiteNoiseState(ClockDrivenState):
    rng: _backend.DeviceRNG | None = None
    """The backend-native generator (pickles with its position in the stream)."""


class WhiteNoiseProducer(BaseClockDrivenProducer[WhiteNoiseSettings, WhiteNoiseState]):
    """Each clock tick gives a ``(time, ch)`` block of ``loc + scale * N(0, 1)`` samples.

    A reset (first tick, or a change of any setting other than loc/scale) re-seeds the
    generator from ``seed``, so the stream restarts.
    """

    NONRESET_SETTINGS_FIELDS = frozenset({"loc", "scale"})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._target = None  # (xp, device, dtype), resolved on reset

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_target": None}

    def _prepare(self) -> None:
        self._target = resolve_target(self.settings)
        self._ch = channel_axis(self.settings.n_ch)

    def _new_rng(self) -> _backend.DeviceRNG:
        xp, device, _ = self._target
        return _backend.DeviceRNG(xp, device, self.settings.seed)

    def _reset_state(self, time_axis: LinearAxis) -> None:
        self._prepare()
        self._state.rng = self._new_rng()

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        if self._state.rng is None:
            self._state.rng = self._new_rng()
        s = self.settings
        data = self._state.rng.normal((n_samples, s.n_ch), self._target[2])
        if s.scale != 1.0:
            data = data * s.scale
        if s.loc != 0.0:
            data = data + s.loc
        return block(data, time_axis, self._ch, "white_noise")


class WhiteNoise(BaseClockDrivenUnit[WhiteNoiseSettings, WhiteNoiseProducer]):
    """Clock ticks in (``INPUT_CLOCK``), noise blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = WhiteNoiseSettings
