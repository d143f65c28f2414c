"""Butterworth IIR filter designed from an order and cut-on/cut-off frequencies.

The design is done once per sampling rate on the host in float64 (``scipy.signal.butter``) and
applied by :class:`~ezmsg_sigproc_units.filter.FilterTransformer` on the data's own backend and
device, always as second-order sections (a ``"ba"`` design is converted in float64).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validate import IIR_COEF_TYPES, butter_specs, check_edge, check_in_band, check_order
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)


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
