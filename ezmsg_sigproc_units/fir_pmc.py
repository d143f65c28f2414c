"""Equiripple FIR filter (Parks-McClellan / Remez exchange, ``scipy.signal.remez``).

Low-pass, high-pass, band-pass or band-stop from ``cuton``/``cutoff`` exactly as the Butterworth
settings read them, with a transition band of ``transition`` Hz on each edge. Designed once per
sampling rate on the host in float64, applied by the FIR kernel on the data's backend/device.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validate import butter_specs, check_edge, check_in_band, check_order
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)


class ParksMcClellanFIRSettings(FilterBaseSettings):
    order: int = 0
    """Filter order; the tap count is ``order + 1``, rounded up to odd. 0 (default) means
    passthrough."""

    cuton: float | None = None
    """Cut-on frequency (Hz), the high-pass edge. With ``cutoff`` too: band-pass if
    ``cuton < cutoff``, band-stop if ``cuton > cutoff``. Default None."""

    cutoff: float | None = None
    """Cut-off frequency (Hz), the low-pass edge. Default None. Neither edge: passthrough."""

    transition: float = 10.0
    """Width (Hz) of each transition band, outside a pass band's edges (inside a stop band's).
    Default 10.0."""

    weight_pass: float = 1.0
    """Error weight of the pass band(s). Default 1.0."""

    weight_stop_lo: float = 1.0
    """Error weight of the stop band below the pass band (high-pass, band-pass). Default 1.0."""

    weight_stop_hi: float = 1.0
    """Error weight of the stop band above the pass band (low-pass, band-pass) and of the stop
    band of a band-stop filter. Default 1.0."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_order(self.order)
        check_edge("cuton", self.cuton)
        check_edge("cutoff", self.cutoff)
        butter_specs(self.cuton, self.cutoff)  # cuton == cutoff raises
        for name in ("transition", "weight_pass", "weight_stop_lo", "weight_stop_hi"):
            v = getattr(self, name)
            if v is None:
                raise ValueError(f"{name}: must be a number > 0, got None")
            check_edge(name, v)
        if self.cuton is not None and self.cutoff is not None and self.cuton > self.cutoff \
                and self.cutoff + self.transition >= self.cuton - self.transition:
            raise ValueError(f"transition: {self.transition} Hz on both edges leaves no stop "
                             f"band between {self.cutoff} and {self.cuton} Hz")

    def filter_specs(self) -> tuple[str, tuple[float, float] | float] | None:
        """``(btype, edges)`` as for Butterworth, or None when no edge is set."""
        return butter_specs(self.cuton, self.cutoff)


def parks_mcclellan_design_fun(
    fs: float,
    order: int = 0,
    cuton: float | None = None,
    cutoff: float | None = None,
    transition: float = 10.0,
    weight_pass: float = 1.0,
    weight_stop_lo: float = 1.0,
    weight_stop_hi: float = 1.0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(taps, array([1.0]))`` from ``scipy.signal.remez`` at sampling rate ``fs`` (Hz), or
    None (passthrough) when ``order`` is 0 or no edge is set.

    Bands (Hz; transition edges clipped to [0, fs/2]): low-pass ``[0, fc] [fc+t, nyq]``;
    high-pass ``[0, fc-t] [fc, nyq]``; band-pass ``[0, lo-t] [lo, hi] [hi+t, nyq]``; band-stop
    ``[0, lo] [lo+t, hi-t] [hi, nyq]`` (its stop band weighted by ``weight_stop_hi``).
    """
    check_order(order)
    specs = butter_specs(cuton, cutoff)
    if order == 0 or specs is None:
        return None
    for name, v in (("cuton", cuton), ("cutoff", cutoff)):
        if v is not None:
            check_in_band(name, v, fs)
    check_edge("transition", transition)
    nyq = fs / 2.0
    t = transition
    btype, wn = specs
    if btype == "lowpass":
        bands = [0.0, wn, min(wn + t, nyq), nyq]
        desired, weight = [1.0, 0.0], [weight_pass, weight_stop_hi]
    elif btype == "highpass":
        bands = [0.0, max(wn - t, 0.0), wn, nyq]
        desired, weight = [0.0, 1.0], [weight_stop_lo, weight_pass]
    elif btype == "bandpass":
        lo, hi = wn
        bands = [0.0, max(lo - t, 0.0), lo, hi, min(hi + t, nyq), nyq]
        desired, weight = [0.0, 1.0, 0.0], [weight_stop_lo, weight_pass, weight_stop_hi]
    else:
        lo, hi = wn
        if lo + t >= hi - t:
            raise ValueError(f"transition: {t} Hz on both edges leaves no stop band between "
                             f"{lo} and {hi} Hz")
        bands = [0.0, lo, lo + t, hi - t, hi, nyq]
        desired, weight = [1.0, 0.0, 1.0], [weight_pass, weight_stop_hi, weight_pass]
    import scipy.signal

    numtaps = (order + 1) | 1  # odd (type I): any band may pass, Nyquist included
    taps = scipy.signal.remez(numtaps, bands, desired, weight=weight, fs=fs)
    return taps, np.array([1.0])


class ParksMcClellanFIRTransformer(FilterByDesignTransformer[ParksMcClellanFIRSettings, Any]):
    """Streaming equiripple FIR filter along ``settings.axis`` (causal, linear phase); output
    has the input's shape, namespace, device and float dtype. Redesigned on a new rate."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(parks_mcclellan_design_fun, order=s.order, cuton=s.cuton,
                                 cutoff=s.cutoff, transition=s.transition,
                                 weight_pass=s.weight_pass, weight_stop_lo=s.weight_stop_lo,
                                 weight_stop_hi=s.weight_stop_hi)


class ParksMcClellanFIR(BaseFilterByDesignTransformerUnit[ParksMcClellanFIRSettings,
                                                          ParksMcClellanFIRTransformer]):
    SETTINGS = ParksMcClellanFIRSettings
