"""Band power: a spectrogram, then one value per frequency band (mean or integral).

Output dims: the spectrogram's with the frequency axis reduced to one element per band,
e.g. ``(time, ch)`` -> ``(time, freq, ch)`` with ``freq`` a CoordinateAxis holding the mean
frequency of each band's bins.
"""

from __future__ import annotations

import dataclasses

import ezmsg.core as ez
from ezmsg.baseproc import CompositeProcessor
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import materialize
from ._processors import IdleOutput
from ._units import WindowedUnit
from ._validate import check_member
from .aggregate import AggregationFunction, RangedAggregateSettings, RangedAggregateTransformer
from .materialize import MaterializeMode
from .spectrogram import SpectrogramSettings, SpectrogramTransformer


def _default_bands() -> list[tuple[float, float]]:
    return [(17.0, 30.0), (70.0, 170.0)]


class BandPowerSettings(ez.Settings):
    spectrogram_settings: SpectrogramSettings = dataclasses.field(
        default_factory=SpectrogramSettings)
    """Settings of the spectrogram stage. Default: ``SpectrogramSettings()``."""

    bands: list[tuple[float, float]] | None = dataclasses.field(default_factory=_default_bands)
    """``(lo, hi)`` frequency bands in Hz, edges included; each must lie in [0, fs/2] and
    select at least one bin. Default [(17, 30), (70, 170)]."""

    aggregation: AggregationFunction = AggregationFunction.MEAN
    """Reduction over each band's bins: MEAN, or TRAPEZOID for the integral. Default MEAN."""

    materialize: MaterializeMode = MaterializeMode.ASYNC
    """How outputs of lazy backends (MLX) are materialised. Default ASYNC."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "aggregation",
                           check_member(AggregationFunction, "aggregation", self.aggregation))
        object.__setattr__(self, "materialize",
                           check_member(MaterializeMode, "materialize", self.materialize))
        for band in self.bands or ():
            if len(band) != 2 or band[0] < 0 or band[0] > band[1]:
                raise ValueError(f"bands: {band!r} must be (lo, hi) with 0 <= lo <= hi (Hz)")


class BandPowerTransformer(CompositeProcessor[BandPowerSettings, AxisArray, AxisArray]):
    """Spectrogram -> ranged aggregate over ``freq``. A band above fs/2 raises ``ValueError``
    naming ``bands`` at the first message. Messages that complete no window skip the
    aggregate stage (see ``SpectrogramTransformer``)."""

    _idle: IdleOutput | None = None
    _checked_gain: float | None = None

    @staticmethod
    def _initialize_processors(settings: BandPowerSettings) -> dict:
        return {
            "spectrogram": SpectrogramTransformer(settings=settings.spectrogram_settings),
            "aggregate": RangedAggregateTransformer(RangedAggregateSettings(
                axis="freq", bands=settings.bands, operation=settings.aggregation)),
        }

    def _check_bands(self, message: AxisArray) -> None:
        gain = getattr(message.axes.get("time"), "gain", None)
        if gain == self._checked_gain:
            return
        if self.settings.bands and gain:
            nyquist = 0.5 / gain
            high = max(hi for _, hi in self.settings.bands)
            if high > nyquist:
                raise ValueError(f"bands: {high} Hz is above the Nyquist frequency {nyquist} Hz "
                                 "of this stream")
        self._checked_gain = gain

    def _process(self, message: AxisArray) -> AxisArray | None:
        self._check_bands(message)
        spectrogram = self._procs["spectrogram"]
        spec = spectrogram(message)
        plan = spectrogram.window_plan
        if self._idle is None:
            self._idle = IdleOutput("time")
        empty = plan is not None and "time" in spec.dims and (
            spec.data.shape[spec.dims.index("time")] == 0)
        if empty:
            out = self._idle.get(plan, spec)
            if out is not None:
                return out
        result = self._post_process(self._procs["aggregate"](spec))
        if empty:
            self._idle.put(plan, result)
        return result

    async def _aprocess(self, message: AxisArray) -> AxisArray | None:
        return self._process(message)  # every stage is synchronous

    def update_settings(self, new_settings: BandPowerSettings) -> None:
        self._idle, self._checked_gain = None, None
        super().update_settings(new_settings)

    def _post_process(self, result: AxisArray | None) -> AxisArray | None:
        if result is not None:
            materialize(result.data, self.settings.materialize.value)
        return result


class BandPower(WindowedUnit[BandPowerSettings, AxisArray, AxisArray, BandPowerTransformer]):
    SETTINGS = BandPowerSettings


def bandpower(
    spectrogram_settings: SpectrogramSettings,
    bands: list[tuple[float, float]] | None = None,
    aggregation: AggregationFunction = AggregationFunction.MEAN,
    materialize: MaterializeMode = MaterializeMode.ASYNC,
) -> BandPowerTransformer:
    """A ``BandPowerTransformer`` (``bands`` None: the default bands)."""
    return BandPowerTransformer(BandPowerSettings(
        spectrogram_settings=spectrogram_settings,
        bands=_default_bands() if bands is None else bands,
        aggregation=aggregation, materialize=materialize))
