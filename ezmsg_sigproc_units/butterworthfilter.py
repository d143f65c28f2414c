"""Butterworth IIR filter designed from an order and cut-on/cut-off frequencies.

The design is done once per sampling rate on the host in float64 (``scipy.signal.butter``) and
applied by :class:`~ezmsg_sigproc_units.filter.FilterTransformer` on the data's own backend and
device, always as second-order sections (a ``"ba"`` design is converted in float64).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)

IIR_COEF_TYPES = ("ba", "sos")
"""The coefficient forms a Settings class may request for an IIR design."""


def check_edge(name: str, value: Any) -> None:
    """A band edge must be None or a finite real number > 0 (``ValueError`` naming ``name``)."""
    if value is None:
        return
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer))
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{name}: must be None or a finite frequency > 0, got {value!r}")


def check_in_band(name: str, value: float, fs: float, wn_hz: bool = True) -> None:
    """``value`` must lie strictly inside (0, Nyquist): (0, fs/2) in Hz, (0, 1) normalised."""
    limit = fs / 2.0 if wn_hz else 1.0
    if not 0.0 < value < limit:
        where = f"(0, fs/2 = {limit:g} Hz) at fs = {fs:g} Hz" if wn_hz else "(0, 1) (wn_hz=False)"
        raise ValueError(f"{name}: {value!r} is outside {where}")


def check_order(value: Any, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"order: must be an integer >= {minimum}, got {value!r}")


def butter_specs(cuton: float | None, cutoff: float | None
                 ) -> tuple[str, float | tuple[float, float]] | None:
    """(btype, Wn) from the edges: cutoff only -> lowpass, cuton only -> highpass, cuton < cutoff
    -> bandpass, cuton > cutoff -> bandstop; neither -> None (passthrough)."""
    if cuton is None and cutoff is None:
        return None
    if cuton is None:
        return "lowpass", cutoff
    if cutoff is None:
        return "highpass", cuton
    if cuton == cutoff:
        raise ValueError(f"cuton: equals cutoff ({cutoff!r}); a band needs two distinct edges")
    if cuton < cutoff:
        return "bandpass", (cuton, cutoff)
    return "bandstop", (cutoff, cuton)


class ButterworthFilterSettings(FilterBaseSettings):
    order: int = 0
    """Filter order (per edge: a band-pass or band-stop has ``2 * order`` poles). 0 (default)
    means passthrough: no filtering, as in ezmsg-sigproc."""

    cuton: float | None = None
    """Cut-on frequency (Hz, or normalised to Nyquist when ``wn_hz`` is False): the high-pass
    edge. With ``cutoff`` too: band-pass if ``cuton < cutoff``, band-stop if ``cuton > cutoff``.
    Default None."""

    cutoff: float | None = None
    """Cut-off frequency (Hz, or normalised): the low-pass edge. Default None. With neither
    edge set the filter is a passthrough."""

    wn_hz: bool = True
    """True (default): edges are in Hz. False: edges are fractions of Nyquist, in (0, 1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_order(self.order)
        check_edge("cuton", self.cuton)
        check_edge("cutoff", self.cutoff)
        if not isinstance(self.wn_hz, bool):
            raise ValueError(f"wn_hz: must be a bool, got {self.wn_hz!r}")
        if self.coef_type not in IIR_COEF_TYPES:
            raise ValueError(f"coef_type: must be one of {IIR_COEF_TYPES}, got {self.coef_type!r}")
        butter_specs(self.cuton, self.cutoff)  # cuton == cutoff raises here
        if not self.wn_hz:
            for name in ("cuton", "cutoff"):
                v = getattr(self, name)
                if v is not None and v >= 1.0:
                    raise ValueError(f"{name}: {v!r} must be < 1 (fraction of Nyquist) when "
                                     f"wn_hz is False")

    def filter_specs(self) -> tuple[str, float | tuple[float, float]] | None:
        """``(btype, Wn)`` as passed to the designer, or None when no edge is set."""
        return butter_specs(self.cuton, self.cutoff)


def butter_design_fun(
    fs: float,
    order: int = 0,
    cuton: float | None = None,
    cutoff: float | None = None,
    coef_type: str = "ba",
    wn_hz: bool = True,
) -> tuple[np.ndarray, np.ndarray] | np.ndarray | None:
    """Butterworth coefficients for sampling rate ``fs`` (Hz), designed in float64.

    Returns ``(b, a)`` for ``coef_type="ba"``, an ``(n_sections, 6)`` array for ``"sos"`` (and
    scipy's ``(z, p, k)`` for ``"zpk"``), or None (passthrough) when ``order`` is 0 or no edge
    is set. Raises ``ValueError`` naming the parameter when an edge lies outside (0, fs/2), the
    edges are equal, ``order`` is negative or ``coef_type`` is unknown.
    """
    check_order(order)
    if coef_type not in IIR_COEF_TYPES + ("zpk",):
        raise ValueError(f"coef_type: must be 'ba', 'sos' or 'zpk', got {coef_type!r}")
    specs = butter_specs(cuton, cutoff)
    if order == 0 or specs is None:
        return None
    for name, v in (("cuton", cuton), ("cutoff", cutoff)):
        if v is not None:
            check_in_band(name, v, fs, wn_hz)
    import scipy.signal

    btype, wn = specs
    return scipy.signal.butter(order, wn, btype=btype, output=coef_type,
                               fs=fs if wn_hz else None)


class ButterworthFilterTransformer(FilterByDesignTransformer[ButterworthFilterSettings, Any]):
    """Streaming Butterworth filter along ``settings.axis``; output has the input's shape,
    namespace, device and float dtype. Redesigned when the sampling rate changes."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(butter_design_fun, order=s.order, cuton=s.cuton,
                                 cutoff=s.cutoff, coef_type=s.coef_type, wn_hz=s.wn_hz)


class ButterworthFilter(BaseFilterByDesignTransformerUnit[ButterworthFilterSettings,
                                                          ButterworthFilterTransformer]):
    SETTINGS = ButterworthFilterSettings


def butter(
    axis: str | None,
    order: int = 0,
    cuton: float | None = None,
    cutoff: float | None = None,
    coef_type: str = "ba",
    wn_hz: bool = True,
) -> ButterworthFilterTransformer:
    """A :class:`ButterworthFilterTransformer` (defaults as :class:`ButterworthFilterSettings`)."""
    return ButterworthFilterTransformer(ButterworthFilterSettings(
        axis=axis, order=order, cuton=cuton, cutoff=cutoff, coef_type=coef_type, wn_hz=wn_hz))
