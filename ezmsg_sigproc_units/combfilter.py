"""Comb filter: a notch (or peak) at a fundamental frequency and its harmonics.

One second-order section per harmonic below Nyquist (``scipy.signal.iirnotch`` / ``iirpeak``),
designed on the host in float64 and applied as second-order sections on the data's backend
and device. Typical use: removing power-line interference (50 or 60 Hz and harmonics).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validate import IIR_COEF_TYPES, check_edge, check_in_band
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)

FILTER_TYPES = ("notch", "peak")
QUALITY_SCALINGS = ("constant", "proportional")


def _check_common(num_harmonics: Any, q_factor: Any, filter_type: Any, quality_scaling: Any,
                  coef_type: Any) -> None:
    if isinstance(num_harmonics, bool) or not isinstance(num_harmonics, (int, np.integer)) \
            or num_harmonics < 0:
        raise ValueError(f"num_harmonics: must be an integer >= 0, got {num_harmonics!r}")
    check_edge("q_factor", q_factor)
    if q_factor is None:
        raise ValueError("q_factor: must be a number > 0, got None")
    if filter_type not in FILTER_TYPES:
        raise ValueError(f"filter_type: must be one of {FILTER_TYPES}, got {filter_type!r}")
    if quality_scaling not in QUALITY_SCALINGS:
        raise ValueError(f"quality_scaling: must be one of {QUALITY_SCALINGS}, got "
                         f"{quality_scaling!r}")
    if coef_type not in IIR_COEF_TYPES:
        raise ValueError(f"coef_type: must be one of {IIR_COEF_TYPES}, got {coef_type!r}")


class CombFilterSettings(FilterBaseSettings):
    fundamental_freq: float = 60.0
    """Fundamental frequency (Hz), e.g. the power-line frequency. Default 60.0."""

    num_harmonics: int = 3
    """How many multiples of the fundamental (itself included) to filter; those at or above
    Nyquist are skipped. 0 means passthrough. Default 3."""

    q_factor: float = 35.0
    """Quality factor (centre frequency / -3 dB bandwidth) of the first section. Default 35.0."""

    filter_type: str = "notch"
    """'notch' (default): remove the harmonics. 'peak': keep only them."""

    quality_scaling: str = "constant"
    """'constant' (default): every harmonic uses ``q_factor`` (equal relative width, bandwidth
    growing with frequency). 'proportional': harmonic k uses ``k * q_factor`` (equal
    bandwidth in Hz)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_edge("fundamental_freq", self.fundamental_freq)
        if self.fundamental_freq is None:
            raise ValueError("fundamental_freq: must be a frequency > 0, got None")
        _check_common(self.num_harmonics, self.q_factor, self.filter_type,
                      self.quality_scaling, self.coef_type)


def comb_design_fun(
    fs: float,
    fundamental_freq: float = 60.0,
    num_harmonics: int = 3,
    q_factor: float = 35.0,
    filter_type: str = "notch",
    coef_type: str = "sos",
    quality_scaling: str = "constant",
) -> tuple[np.ndarray, np.ndarray] | np.ndarray | None:
    """Comb coefficients at sampling rate ``fs`` (Hz): an ``(n, 6)`` SOS array, one
    ``iirnotch``/``iirpeak`` section per harmonic below Nyquist (``coef_type="sos"``), or their
    product ``(b, a)`` (``"ba"``). None (passthrough) when ``num_harmonics`` is 0. ``ValueError``
    naming the parameter when the fundamental is outside (0, fs/2) or a setting is unknown."""
    _check_common(num_harmonics, q_factor, filter_type, quality_scaling, coef_type)
    if num_harmonics == 0:
        return None
    check_edge("fundamental_freq", fundamental_freq)
    check_in_band("fundamental_freq", fundamental_freq, fs)
    import scipy.signal

    design = scipy.signal.iirnotch if filter_type == "notch" else scipy.signal.iirpeak
    rows = []
    for k in range(1, num_harmonics + 1):
        f_k = k * fundamental_freq
        if f_k >= fs / 2.0:
            break
        q_k = q_factor * k if quality_scaling == "proportional" else q_factor
        b, a = design(f_k, q_k, fs=fs)
        rows.append(np.concatenate([b, a]))
    sos = np.array(rows, dtype=np.float64)
    if coef_type == "ba":
        return scipy.signal.sos2tf(sos)
    return sos


class CombFilterTransformer(FilterByDesignTransformer[CombFilterSettings, Any]):
    """Streaming comb filter along ``settings.axis``; output has the input's shape,
    namespace, device and float dtype. Redesigned when the sampling rate changes."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(comb_design_fun, fundamental_freq=s.fundamental_freq,
                                 num_harmonics=s.num_harmonics, q_factor=s.q_factor,
                                 filter_type=s.filter_type, coef_type=s.coef_type,
                                 quality_scaling=s.quality_scaling)


class CombFilterUnit(BaseFilterByDesignTransformerUnit[CombFilterSettings,
                                                       CombFilterTransformer]):
    SETTINGS = CombFilterSettings


def comb(
    axis: str | None,
    fundamental_freq: float = 50.0,
    num_harmonics: int = 3,
    q_factor: float = 35.0,
    filter_type: str = "notch",
    coef_type: str = "sos",
    quality_scaling: str = "constant",
) -> CombFilterTransformer:
    """A :class:`CombFilterTransformer`. Note: like ezmsg-sigproc's ``comb``, this factory
    defaults to 50 Hz and ``coef_type="sos"`` (the Settings default to 60 Hz and ``"ba"``)."""
    return CombFilterTransformer(CombFilterSettings(
        axis=axis, fundamental_freq=fundamental_freq, num_harmonics=num_harmonics,
        q_factor=q_factor, filter_type=filter_type, coef_type=coef_type,
        quality_scaling=quality_scaling))
