"""Decimation: an anti-alias Chebyshev type I low-pass, then keep every ``q``-th sample.

The filter is the one ``scipy.signal.decimate`` uses by default (IIR): order 8, 0.05 dB
pass-band ripple, edge at ``0.8 * (fs / 2) / q``. It runs *causally* (forward only), in
second-order sections designed in float64, so the output is ``sosfilt(sos, x)[::q]`` of the
whole stream for any chunking, with no latency beyond the filter's own group delay.
``scipy.signal.decimate`` filters with ``filtfilt`` by default (``zero_phase=True``), which
needs the whole future of the signal; its ``zero_phase=False`` form is the causal one we
match (from a filter at rest: ``initial_state="zero"``). For zero-phase decimation of a
stream, put ``butterworthzerophase`` (bounded latency) before a ``downsample``.

``Decimate`` is an ezmsg Collection (``ChebyForDecimate`` Unit -> ``Downsample`` Unit), as in
ezmsg-sigproc; ``DecimateTransformer`` does the same in one processor.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import CompositeProcessor
from ezmsg.util.messages.axisarray import AxisArray

from ._units import TransformerUnit
from .cheby import ChebyshevFilterSettings, ChebyshevFilterTransformer, cheby_design_fun
from .downsample import Downsample, DownsampleSettings, DownsampleTransformer
from .filter import BaseFilterByDesignTransformerUnit

ORDER = 8
"""Order of the anti-alias filter (``scipy.signal.decimate``'s IIR default)."""
RIPPLE_DB = 0.05
"""Pass-band ripple (dB) of the anti-alias filter."""
EDGE = 0.8
"""Filter edge as a fraction of the output Nyquist frequency."""
_PASS_ABOVE = EDGE / 2.0
"""Normalised edges above this imply a decimation factor of 1: no filter is needed."""


class ChebyForDecimateTransformer(ChebyshevFilterTransformer):
    """A Chebyshev filter that is a passthrough when its edge implies no decimation.

    An edge above ``0.4`` of the input Nyquist frequency (``0.2 fs``) is what
    ``DecimateSettings`` produces for a factor of 1 (``factor=1``, or a ``target_rate`` above
    ``fs / 2``): the stream keeps its rate, so it is passed through unfiltered. Any other
    edge is designed as ``ChebyshevFilterTransformer`` does."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(_design_for_decimate, order=s.order, ripple_tol=s.ripple_tol,
                                 Wn=s.Wn, btype=s.btype, coef_type=s.coef_type,
                                 cheby_type=s.cheby_type, wn_hz=s.wn_hz)


def _design_for_decimate(fs: float, *, Wn: Any, wn_hz: bool, **kw: Any) -> Any:  # noqa: N803
    if isinstance(Wn, (int, float)) and not isinstance(Wn, bool):
        normalised = Wn / (fs / 2.0) if wn_hz else Wn
        if normalised > _PASS_ABOVE * (1.0 + 1e-9):
            return None
    return cheby_design_fun(fs, Wn=Wn, wn_hz=wn_hz, **kw)


class ChebyForDecimate(BaseFilterByDesignTransformerUnit[ChebyshevFilterSettings,
                                                         ChebyForDecimateTransformer]):
    SETTINGS = ChebyshevFilterSettings


class DecimateSettings(DownsampleSettings):
    """``factor`` or ``target_rate`` (one is required) and ``axis``, as for ``Downsample``.
    The anti-alias edge is ``0.8 / factor`` of Nyquist, or ``0.4 * target_rate`` Hz."""


def anti_alias_settings(settings: DecimateSettings) -> ChebyshevFilterSettings:
    """The ``ChebyshevFilterSettings`` of the anti-alias stage. ``ValueError`` naming
    ``factor`` when neither ``factor`` nor ``target_rate`` is set."""
    if settings.factor is None and settings.target_rate is None:
        raise ValueError("factor: Decimate needs a factor (integer >= 1) or a target_rate")
    if settings.factor is not None:
        wn, wn_hz = EDGE / settings.factor, False
    else:
        wn, wn_hz = EDGE * settings.target_rate / 2.0, True
    return ChebyshevFilterSettings(axis=settings.axis, coef_type="sos", order=ORDER,
                                   ripple_tol=RIPPLE_DB, Wn=wn, btype="lowpass",
                                   cheby_type="cheby1", wn_hz=wn_hz)


def _downsample_settings(settings: DecimateSettings) -> DownsampleSettings:
    return DownsampleSettings(**{f.name: getattr(settings, f.name)
                                 for f in dataclasses.fields(DownsampleSettings)})


class DecimateTransformer(CompositeProcessor[DecimateSettings, AxisArray, AxisArray]):
    """Anti-alias filter, then downsample, in one processor (the ``Decimate`` Collection's
    chain). Output: ``sosfilt(cheby1(8, 0.05, 0.8 / q), x)[::q]`` of the whole stream."""

    @staticmethod
    def _initialize_processors(settings: DecimateSettings) -> dict[str, Any]:
        return {
            "filter": ChebyForDecimateTransformer(anti_alias_settings(settings)),
            "downsample": DownsampleTransformer(_downsample_settings(settings)),
        }


class DecimateUnit(TransformerUnit[DecimateSettings, AxisArray, AxisArray,
                                   DecimateTransformer]):
    """``DecimateTransformer`` as one Unit (no message hop between the two stages)."""

    SETTINGS = DecimateSettings


class Decimate(ez.Collection):
    """``ChebyForDecimate`` -> ``Downsample``, configured from ``DecimateSettings``."""

    SETTINGS = DecimateSettings

    INPUT_SIGNAL = ez.InputTopic(AxisArray)
    OUTPUT_SIGNAL = ez.OutputTopic(AxisArray)

    FILTER = ChebyForDecimate()
    DOWNSAMPLE = Downsample()

    def configure(self) -> None:
        self.FILTER.apply_settings(anti_alias_settings(self.SETTINGS))
        self.DOWNSAMPLE.apply_settings(_downsample_settings(self.SETTINGS))

    def network(self) -> Iterable[tuple[Any, Any]]:
        return (
            (self.INPUT_SIGNAL, self.FILTER.INPUT_SIGNAL),
            (self.FILTER.OUTPUT_SIGNAL, self.DOWNSAMPLE.INPUT_SIGNAL),
            (self.DOWNSAMPLE.OUTPUT_SIGNAL, self.OUTPUT_SIGNAL),
        )


def decimate(factor: int | None = None, target_rate: float | None = None,
             axis: str | None = None) -> DecimateTransformer:
    """A :class:`DecimateTransformer` (defaults as :class:`DecimateSettings`)."""
    return DecimateTransformer(DecimateSettings(target_rate=target_rate, factor=factor,
                                                axis=axis))
