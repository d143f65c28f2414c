"""FIR Hilbert transformer (Remez design) and the streaming analytic-signal envelope.

``FIRHilbertFilterTransformer`` outputs the band-limited Hilbert transform of the input (the
imaginary part of the analytic signal), delayed by the FIR's group delay ``(numtaps - 1) / 2``.
``FIRHilbertEnvelopeTransformer`` delays the input by the same amount and outputs
``|x_delayed + j * hilbert(x)|``, carrying both the FIR state and the delay line across chunks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import namespace_and_device, zeros
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_edge, check_in_band, check_order
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)

NORM_BAND_POINTS = 2048
"""Frequencies at which the response is sampled over ``norm_band`` (its median is used)."""


def _check_norm_band(norm_band: Any) -> None:
    if norm_band is None:
        return
    try:
        lo, hi = (float(v) for v in norm_band)
    except (TypeError, ValueError):
        raise ValueError(
            f"norm_band: must be a (low, high) pair in Hz, got {norm_band!r}") from None
    if not 0.0 <= lo < hi:
        raise ValueError(f"norm_band: needs 0 <= low < high, got {norm_band!r}")


class FIRHilbertFilterSettings(FilterBaseSettings):
    order: int = 170
    """Filter order; the tap count is ``order + 1`` rounded up to odd (type III). 0 means
    passthrough (filter only; the envelope needs an order >= 1). Default 170."""

    f_lo: float = 1.0
    """Lower pass-band edge (Hz): the stop band is ``[0, f_lo]``, the pass band starts at
    ``f_lo + trans_lo``. Must be > 0. Default 1.0."""

    f_hi: float | None = None
    """Upper pass-band edge (Hz). None (default), or ``f_hi + trans_hi >= fs/2``: the pass
    band extends to Nyquist (a two-band design; a type III FIR is zero at Nyquist, so expect
    ripple near it)."""

    trans_lo: float = 1.0
    """Lower transition width (Hz). Default 1.0."""

    trans_hi: float = 1.0
    """Upper transition width (Hz). Default 1.0."""

    weight_pass: float = 1.0
    """Error weight of the pass band. Default 1.0."""

    weight_stop_lo: float = 1.0
    """Error weight of the lower stop band. Default 1.0."""

    weight_stop_hi: float = 1.0
    """Error weight of the upper stop band (three-band design only). Default 1.0."""

    norm_band: tuple[float, float] | None = None
    """(low, high) Hz: scale the taps so the median magnitude response over this band is 1.
    Ignored when ``norm_freq`` is set. Default None."""

    norm_freq: float | None = None
    """Hz: scale the taps so the magnitude response at this frequency is 1. Default None."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_order(self.order)
        for name in ("f_lo", "trans_lo", "trans_hi", "weight_pass", "weight_stop_lo",
                     "weight_stop_hi"):
            v = getattr(self, name)
            if v is None:
                raise ValueError(f"{name}: must be a number > 0, got None")
            check_edge(name, v)
        check_edge("f_hi", self.f_hi)
        check_edge("norm_freq", self.norm_freq)
        _check_norm_band(self.norm_band)
        if self.f_hi is not None and self.f_lo + self.trans_lo >= self.f_hi:
            raise ValueError(f"f_lo: pass band [f_lo + trans_lo, f_hi] = "
                             f"[{self.f_lo + self.trans_lo}, {self.f_hi}] is empty")


def fir_hilbert_design_fun(
    fs: float,
    order: int = 170,
    f_lo: float = 1.0,
    f_hi: float | None = None,
    trans_lo: float = 1.0,
    trans_hi: float = 1.0,
    weight_pass: float = 1.0,
    weight_stop_lo: float = 1.0,
    weight_stop_hi: float = 1.0,
    norm_band: tuple[float, float] | None = None,
    norm_freq: float | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(taps, array([1.0]))``: a type III (odd length, antisymmetric) Hilbert FIR from
    ``scipy.signal.remez(type="hilbert")`` at sampling rate ``fs`` (Hz), or None (passthrough)
    when ``order`` is 0.

    Bands: ``[0, f_lo]`` stop, ``[f_lo + trans_lo, f_hi]`` pass, ``[f_hi + trans_hi, fs/2]``
    stop; without ``f_hi`` (or when ``f_hi + trans_hi >= fs/2``) the pass band runs to fs/2.
    Then optional gain normalisation (``norm_freq`` wins over ``norm_band``).
    """
    check_order(order)
    if order == 0:
        return None
    nyq = fs / 2.0
    check_in_band("f_lo", f_lo, fs)
    for name, v in (("trans_lo", trans_lo), ("trans_hi", trans_hi), ("weight_pass", weight_pass),
                    ("weight_stop_lo", weight_stop_lo), ("weight_stop_hi", weight_stop_hi)):
        check_edge(name, v)
    if f_hi is not None:
        check_in_band("f_hi", f_hi, fs)
    if f_hi is None or f_hi + trans_hi >= nyq:
        pass_hi = nyq
        bands, desired, weight = [0.0, f_lo, f_lo + trans_lo, nyq], [0.0, 1.0], \
            [weight_stop_lo, weight_pass]
    else:
        pass_hi = f_hi
        bands = [0.0, f_lo, f_lo + trans_lo, f_hi, f_hi + trans_hi, nyq]
        desired, weight = [0.0, 1.0, 0.0], [weight_stop_lo, weight_pass, weight_stop_hi]
    if f_lo + trans_lo >= pass_hi:
        raise ValueError(f"f_lo: pass band [f_lo + trans_lo, {pass_hi}] = "
                         f"[{f_lo + trans_lo}, {pass_hi}] is empty at fs = {fs:g} Hz")
    if norm_freq is not None:
        check_in_band("norm_freq", norm_freq, fs)
    elif norm_band is not None:
        _check_norm_band(norm_band)
        if norm_band[1] > nyq:
            raise ValueError(f"norm_band: {norm_band!r} reaches above fs/2 = {nyq:g} Hz")
    import scipy.signal

    numtaps = (order + 1) | 1
    taps = scipy.signal.remez(numtaps, bands, desired, weight=weight, type="hilbert", fs=fs)
    if norm_freq is not None:
        _, h = scipy.signal.freqz(taps, worN=[norm_freq], fs=fs)
        taps = taps / np.abs(h[0])
    elif norm_band is not None:
        freqs = np.linspace(norm_band[0], norm_band[1], NORM_BAND_POINTS)
        _, h = scipy.signal.freqz(taps, worN=freqs, fs=fs)
        taps = taps / np.median(np.abs(h))
    return taps, np.array([1.0])


class FIRHilbertFilterTransformer(FilterByDesignTransformer[FIRHilbertFilterSettings, Any]):
    """Streaming FIR Hilbert transformer along ``settings.axis``; output has the input's
    shape, namespace, device and float dtype. Redesigned when the sampling rate changes."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(fir_hilbert_design_fun, order=s.order, f_lo=s.f_lo,
                                 f_hi=s.f_hi, trans_lo=s.trans_lo, trans_hi=s.trans_hi,
                                 weight_pass=s.weight_pass, weight_stop_lo=s.weight_stop_lo,
                                 weight_stop_hi=s.weight_stop_hi, norm_band=s.norm_band,
                                 norm_freq=s.norm_freq)

    def get_taps(self) -> int | None:
        """Number of taps of the current design; None before the first message (nothing
        designed yet) or for a passthrough (``order`` 0)."""
        if self._hash == -1 or self.settings.order == 0:
            return None
        return (self.settings.order + 1) | 1


class FIRHilbertFilterUnit(BaseFilterByDesignTransformerUnit[FIRHilbertFilterSettings,
                                                             FIRHilbertFilterTransformer]):
    SETTINGS = FIRHilbertFilterSettings


@processor_state
class FIRHilbertEnvelopeState:
    filter: FIRHilbertFilterTransformer | None = None
    """The inner Hilbert FIR (its own streaming state included)."""

    delay_buf: Any = None
    """The last ``dly`` input samples along the axis (data's namespace, device, float dtype);
    None until the first message (or, with ``initial_state="steady"``, the first sample)."""

    dly: int | None = None
    """Group delay of the Hilbert FIR in samples: ``(numtaps - 1) // 2``."""


class FIRHilbertEnvelopeTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[FIRHilbertFilterSettings, AxisArray, AxisArray,
                            FIRHilbertEnvelopeState]
):
    """Analytic-signal envelope ``|x[t - d] + j * hilbert(x)[t]|`` along ``settings.axis``,
    ``d = (numtaps - 1) / 2`` (the FIR's group delay, so the envelope lags the input by ``d``
    samples). Output has the input's shape, namespace, device and float dtype.

    The delay line starts at zeros (``initial_state="zero"``) or filled with the first sample
    (``"steady"``, matching the FIR's steady state, so a constant input has a flat envelope).
    """

    def _reset_state(self, message: AxisArray) -> None:
        if self.settings.order < 1:
            raise ValueError("order: the envelope needs a Hilbert FIR, order >= 1 (got 0)")
        axis_index(message, self._axis(message))
        self._state.filter = FIRHilbertFilterTransformer(self.settings)
        self._state.dly = ((self.settings.order + 1) | 1) // 2
        self._state.delay_buf = None

    def _process(self, message: AxisArray) -> AxisArray:
        ix = axis_index(message, self._axis(message))
        h = self._state.filter(message).data
        x = message.data
        xp, dev = namespace_and_device(h)
        if x.dtype != h.dtype:
            x = xp.astype(x, h.dtype)
        n = x.shape[ix]
        buf = self._state.delay_buf
        if buf is None:
            shape = list(x.shape)
            shape[ix] = self._state.dly
            if self.settings.initial_state == "steady":
                if n == 0:
                    return replace_data(message, h)
                first = x[(slice(None),) * ix + (slice(0, 1),) + (...,)]
                buf = xp.broadcast_to(first, tuple(shape))
            else:
                buf = zeros(xp, tuple(shape), dtype=h.dtype, device=dev)
        joined = xp.concat([buf, x], axis=ix)
        head = (slice(None),) * ix
        self._state.delay_buf = joined[head + (slice(n, None),) + (...,)]
        real = joined[head + (slice(0, n),) + (...,)]
        return replace_data(message, xp.sqrt(real * real + h * h))


class FIRHilbertEnvelopeUnit(TransformerUnit[FIRHilbertFilterSettings, AxisArray, AxisArray,
                                             FIRHilbertEnvelopeTransformer]):
    SETTINGS = FIRHilbertFilterSettings
