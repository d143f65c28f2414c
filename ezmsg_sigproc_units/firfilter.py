"""Windowed-sinc FIR filter (``scipy.signal.firwin`` design).

Taps are designed once per sampling rate on the host in float64 and applied by the FIR kernel
(direct for short filters, FFT overlap-save for long ones) on the data's backend and device.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ._validate import (
    check_cutoff_and_pass_zero,
    check_edge,
    check_in_band,
    check_order,
    check_pass_zero,
    cutoff_edges,
    passes_nyquist,
)
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)


class FIRFilterSettings(FilterBaseSettings):
    order: int = 0
    """Number of taps (``numtaps`` of ``scipy.signal.firwin``). 0 (default) means passthrough.
    Must be odd when the response passes Nyquist (high-pass, band-stop)."""

    cutoff: float | npt.ArrayLike | None = None
    """Cut-off frequency or increasing band edges (Hz, or normalised to Nyquist when
    ``wn_hz`` is False). Required when ``order >= 1``. Default None."""

    width: float | None = None
    """Approximate transition width (same unit as ``cutoff``); when set, a Kaiser window is
    used instead of ``window``. Default None."""

    window: str | None = "hamming"
    """Window name (or scipy ``(name, parameter)`` tuple). Default 'hamming'."""

    pass_zero: bool | str = True
    """True (default): the band from 0 Hz to the first edge passes. False: it is stopped. Or
    one of 'lowpass', 'highpass', 'bandpass', 'bandstop'."""

    scale: bool = True
    """Scale the taps to unit gain at the centre of the first pass band. Default True."""

    wn_hz: bool = True
    """True (default): ``cutoff`` and ``width`` in Hz. False: fractions of Nyquist."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_order(self.order)
        check_edge("width", self.width)
        if self.window is None:
            raise ValueError("window: must be a window name such as 'hamming', got None")
        n_edges = check_cutoff_and_pass_zero(self.cutoff, self.pass_zero, self.wn_hz)
        for name in ("scale", "wn_hz"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: must be a bool, got {getattr(self, name)!r}")
        if self.order >= 1:
            if n_edges is None:
                raise ValueError("cutoff: required when order >= 1")
            if self.order % 2 == 0 and passes_nyquist(n_edges, self.pass_zero):
                raise ValueError(f"order: {self.order} taps is even, but this response passes "
                                 f"Nyquist; use an odd number of taps")


def firwin_design_fun(
    fs: float,
    order: int = 0,
    cutoff: float | npt.ArrayLike | None = None,
    width: float | None = None,
    window: str | None = "hamming",
    pass_zero: bool | str = True,
    scale: bool = True,
    wn_hz: bool = True,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(taps, array([1.0]))`` from ``scipy.signal.firwin`` with ``order`` taps at sampling
    rate ``fs`` (Hz), or None (passthrough) when ``order`` is 0. ``ValueError`` naming the
    parameter for a missing or out-of-band ``cutoff``, an unknown window, an even tap count for
    a response that passes Nyquist."""
    check_order(order)
    if order == 0:
        return None
    if cutoff is None:
        raise ValueError("cutoff: required when order >= 1")
    edges = cutoff_edges(cutoff)
    check_pass_zero(pass_zero, len(edges))
    for v in edges:
        check_in_band("cutoff", v, fs, wn_hz)
    check_edge("width", width)
    if order % 2 == 0 and passes_nyquist(len(edges), pass_zero):
        raise ValueError(f"order: {order} taps is even, but this response passes Nyquist; "
                         f"use an odd number of taps")
    import scipy.signal

    if width is None:
        try:
            scipy.signal.get_window(window, order, fftbins=False)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"window: {exc}") from None
    taps = scipy.signal.firwin(order, cutoff, width=width, window=window, pass_zero=pass_zero,
                               scale=scale, fs=fs if wn_hz else None)
    return taps, np.array([1.0])


class FIRFilterTransformer(FilterByDesignTransformer[FIRFilterSettings, Any]):
    """Streaming FIR filter along ``settings.axis`` (causal: delay ``(order - 1) / 2``
    samples for a linear-phase design); output has the input's shape, namespace, device and
    float dtype. Redesigned when the sampling rate changes."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(firwin_design_fun, order=s.order, cutoff=s.cutoff,
                                 width=s.width, window=s.window, pass_zero=s.pass_zero,
                                 scale=s.scale, wn_hz=s.wn_hz)


class FIRFilter(BaseFilterByDesignTransformerUnit[FIRFilterSettings, FIRFilterTransformer]):
    SETTINGS = FIRFilterSettings
