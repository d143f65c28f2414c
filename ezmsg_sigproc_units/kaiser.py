"""Kaiser-window FIR filter sized from a ripple and transition-width specification.

``scipy.signal.kaiserord`` gives the tap count (made odd) and the Kaiser beta; the taps come
from ``scipy.signal.firwin`` (unscaled, as in ezmsg-sigproc). Designed once per sampling rate
on the host in float64, applied by the FIR kernel on the data's backend and device.
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
    check_pass_zero,
    cutoff_edges,
)
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)

MIN_RIPPLE_DB = 8.0
"""The Kaiser formula needs at least this attenuation (dB)."""


def _check_ripple(ripple: Any) -> None:
    check_edge("ripple", ripple)
    if ripple is not None and ripple < MIN_RIPPLE_DB:
        raise ValueError(f"ripple: must be >= {MIN_RIPPLE_DB} dB for the Kaiser formula, "
                         f"got {ripple!r}")


class KaiserFilterSettings(FilterBaseSettings):
    cutoff: float | npt.ArrayLike | None = None
    """Cut-off frequency or increasing band edges (Hz, or normalised to Nyquist when
    ``wn_hz`` is False). Default None: passthrough."""

    ripple: float | None = None
    """Maximum deviation from the ideal response outside the transition bands, in dB of
    attenuation (>= 8). Default None: passthrough."""

    width: float | None = None
    """Transition width (same unit as ``cutoff``). Default None: passthrough."""

    pass_zero: bool | str = True
    """True (default): the band from 0 Hz to the first edge passes. False: it is stopped. Or
    one of 'lowpass', 'highpass', 'bandpass', 'bandstop'."""

    wn_hz: bool = True
    """True (default): ``cutoff`` and ``width`` in Hz. False: fractions of Nyquist."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_ripple(self.ripple)
        check_edge("width", self.width)
        check_cutoff_and_pass_zero(self.cutoff, self.pass_zero, self.wn_hz)
        if not isinstance(self.wn_hz, bool):
            raise ValueError(f"wn_hz: must be a bool, got {self.wn_hz!r}")


def kaiser_design_fun(
    fs: float,
    cutoff: float | npt.ArrayLike | None = None,
    ripple: float | None = None,
    width: float | None = None,
    pass_zero: bool | str = True,
    wn_hz: bool = True,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(taps, array([1.0]))`` for sampling rate ``fs`` (Hz): ``kaiserord(ripple, width)``
    sets an odd tap count and beta, ``firwin(..., window=("kaiser", beta), scale=False)`` the
    taps. None (passthrough) when ``cutoff``, ``ripple`` or ``width`` is None. ``ValueError``
    naming the parameter for an edge outside (0, fs/2) or a ripple below 8 dB."""
    if cutoff is None or ripple is None or width is None:
        return None
    _check_ripple(ripple)
    check_edge("width", width)
    edges = cutoff_edges(cutoff)
    check_pass_zero(pass_zero, len(edges))
    for v in edges:
        check_in_band("cutoff", v, fs, wn_hz)
    import scipy.signal

    nyq = fs / 2.0 if wn_hz else 1.0
    numtaps, beta = scipy.signal.kaiserord(ripple, width / nyq)
    numtaps |= 1  # odd: a type I filter may pass any band, Nyquist included
    taps = scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta), pass_zero=pass_zero,
                               scale=False, fs=fs if wn_hz else None)
    return taps, np.array([1.0])


class KaiserFilterTransformer(FilterByDesignTransformer[KaiserFilterSettings, Any]):
    """Streaming Kaiser-window FIR filter along ``settings.axis`` (causal, linear phase: delay
    ``(numtaps - 1) / 2`` samples); output has the input's shape, namespace, device and float
    dtype. Redesigned when the sampling rate changes."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(kaiser_design_fun, cutoff=s.cutoff, ripple=s.ripple,
                                 width=s.width, pass_zero=s.pass_zero, wn_hz=s.wn_hz)


class KaiserFilter(BaseFilterByDesignTransformerUnit[KaiserFilterSettings,
                                                     KaiserFilterTransformer]):
    SETTINGS = KaiserFilterSettings
