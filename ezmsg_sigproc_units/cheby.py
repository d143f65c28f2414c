"""Chebyshev type I / type II IIR filter (``scipy.signal.cheby1`` / ``cheby2`` design).

Designed once per sampling rate on the host in float64 and applied as second-order sections by
:class:`~ezmsg_sigproc_units.filter.FilterTransformer` on the data's backend and device.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validate import IIR_COEF_TYPES, check_edge, check_in_band, check_order
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)

CHEBY_TYPES = ("cheby1", "cheby2")

_BTYPES = {
    **dict.fromkeys(("lowpass", "low", "lp", "l"), "lowpass"),
    **dict.fromkeys(("highpass", "high", "hp", "h"), "highpass"),
    **dict.fromkeys(("bandpass", "band", "pass", "bp"), "bandpass"),
    **dict.fromkeys(("bandstop", "stop", "bands", "bs"), "bandstop"),
}
"""scipy's accepted band-type spellings and what each means."""


def _btype(value: Any) -> str:
    try:
        return _BTYPES[value]
    except (KeyError, TypeError):
        raise ValueError(f"btype: must be one of 'lowpass', 'highpass', 'bandpass', 'bandstop' "
                         f"(or a scipy alias), got {value!r}") from None


def _edges(wn: Any, btype: str) -> tuple[float, ...]:
    """``Wn`` as a tuple of edges; one for low/high-pass, two increasing for band types."""
    edges = tuple(wn) if isinstance(wn, (tuple, list, np.ndarray)) else (wn,)
    want = 2 if btype in ("bandpass", "bandstop") else 1
    if len(edges) != want:
        raise ValueError(f"Wn: a {btype} filter needs {want} edge(s), got {wn!r}")
    for v in edges:
        check_edge("Wn", v)
    if want == 2 and not edges[0] < edges[1]:
        raise ValueError(f"Wn: band edges must increase, got {wn!r}")
    return edges


class ChebyshevFilterSettings(FilterBaseSettings):
    order: int = 0
    """Filter order. 0 (default) means passthrough (no filtering), as in ezmsg-sigproc."""

    ripple_tol: float | None = None
    """dB: maximum pass-band ripple for ``cheby1``, minimum stop-band attenuation for
    ``cheby2``. Required (> 0) when ``order >= 1``. Default None."""

    Wn: float | tuple[float, float] | None = None
    """Critical frequency (low/high-pass) or ``(low, high)`` edges (band types), in Hz, or
    normalised to Nyquist when ``wn_hz`` is False. Required when ``order >= 1``. Default None."""

    btype: str = "lowpass"
    """'lowpass' (default), 'highpass', 'bandpass' or 'bandstop' (scipy aliases accepted)."""

    analog: bool = False
    """Kept for ezmsg-sigproc compatibility; must be False: an analog prototype cannot be
    applied to sampled data. Default False."""

    cheby_type: str = "cheby1"
    """'cheby1' (default; ripple in the pass band) or 'cheby2' (ripple in the stop band)."""

    wn_hz: bool = True
    """True (default): ``Wn`` in Hz. False: ``Wn`` as fractions of Nyquist, in (0, 1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_order(self.order)
        if self.coef_type not in IIR_COEF_TYPES:
            raise ValueError(f"coef_type: must be one of {IIR_COEF_TYPES}, got {self.coef_type!r}")
        if self.cheby_type not in CHEBY_TYPES:
            raise ValueError(f"cheby_type: must be one of {CHEBY_TYPES}, got {self.cheby_type!r}")
        btype = _btype(self.btype)
        if self.analog is not False:
            raise ValueError("analog: must be False; an analog prototype cannot filter "
                             "sampled data")
        if not isinstance(self.wn_hz, bool):
            raise ValueError(f"wn_hz: must be a bool, got {self.wn_hz!r}")
        if self.ripple_tol is not None:
            check_edge("ripple_tol", self.ripple_tol)
        if self.Wn is not None:
            edges = _edges(self.Wn, btype)
            if not self.wn_hz and max(edges) >= 1.0:
                raise ValueError(f"Wn: {self.Wn!r} must be < 1 (fraction of Nyquist) when wn_hz "
                                 f"is False")
        if self.order >= 1:
            if self.ripple_tol is None:
                raise ValueError("ripple_tol: required (dB > 0) when order >= 1")
            if self.Wn is None:
                raise ValueError("Wn: required when order >= 1")


def cheby_design_fun(
    fs: float,
    order: int = 0,
    ripple_tol: float | None = None,
    Wn: float | tuple[float, float] | None = None,  # noqa: N803 - ezmsg-sigproc's name
    btype: str = "lowpass",
    analog: bool = False,
    coef_type: str = "ba",
    cheby_type: str = "cheby1",
    wn_hz: bool = True,
) -> tuple[np.ndarray, np.ndarray] | np.ndarray | None:
    """Chebyshev coefficients for sampling rate ``fs`` (Hz), designed in float64.

    ``(b, a)`` for ``coef_type="ba"``, ``(n_sections, 6)`` for ``"sos"`` (scipy's ``(z, p, k)``
    for ``"zpk"``); None (passthrough) when ``order`` is 0. ``ValueError`` naming the parameter
    for a missing ``ripple_tol``/``Wn``, an edge outside (0, fs/2), an unknown type.
    ``analog=True`` returns scipy's analog prototype (only with ``wn_hz=False``, as scipy does).
    """
    check_order(order)
    if coef_type not in IIR_COEF_TYPES + ("zpk",):
        raise ValueError(f"coef_type: must be 'ba', 'sos' or 'zpk', got {coef_type!r}")
    if cheby_type not in CHEBY_TYPES:
        raise ValueError(f"cheby_type: must be one of {CHEBY_TYPES}, got {cheby_type!r}")
    norm = _btype(btype)
    if order == 0:
        return None
    if ripple_tol is None:
        raise ValueError("ripple_tol: required (dB > 0) when order >= 1")
    check_edge("ripple_tol", ripple_tol)
    if Wn is None:
        raise ValueError("Wn: required when order >= 1")
    edges = _edges(Wn, norm)
    if analog and wn_hz:
        raise ValueError("analog: an analog design takes Wn in rad/s; set wn_hz=False")
    if not analog:
        for v in edges:
            check_in_band("Wn", v, fs, wn_hz)
    import scipy.signal

    design = scipy.signal.cheby1 if cheby_type == "cheby1" else scipy.signal.cheby2
    return design(order, ripple_tol, Wn, btype=btype, analog=analog, output=coef_type,
                  fs=fs if wn_hz else None)


class ChebyshevFilterTransformer(FilterByDesignTransformer[ChebyshevFilterSettings, Any]):
    """Streaming Chebyshev filter along ``settings.axis``; output has the input's shape,
    namespace, device and float dtype. Redesigned when the sampling rate changes."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(cheby_design_fun, order=s.order, ripple_tol=s.ripple_tol,
                                 Wn=s.Wn, btype=s.btype, analog=s.analog,
                                 coef_type=s.coef_type, cheby_type=s.cheby_type,
                                 wn_hz=s.wn_hz)


class ChebyshevFilter(BaseFilterByDesignTransformerUnit[ChebyshevFilterSettings,
                                                        ChebyshevFilterTransformer]):
    SETTINGS = ChebyshevFilterSettings
