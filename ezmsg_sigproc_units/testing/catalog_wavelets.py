"""Catalog entries of the wavelets and SSVEP:
wavelets, filterbankdesign, fbcca."""

from __future__ import annotations

from typing import Any

from .catalog_base import Config, _p

_CWT = ("wavelets", "CWTTransformer", "CWTSettings")
_FBD = ("filterbankdesign", "FilterbankDesignTransformer", "FilterbankDesignSettings")


def _kaiser_bank(mode: str) -> Any:
    def make() -> Any:
        from ..filterbankdesign import FilterbankDesignSettings, FilterbankDesignTransformer
        from ..kaiser import KaiserFilterSettings as K

        filters = [K(cutoff=(10.0, 30.0), ripple=20.0, width=5.0, pass_zero=False),
                   K(cutoff=20.0, ripple=20.0, width=8.0), K()]
        return FilterbankDesignTransformer(FilterbankDesignSettings(filters=filters, mode=mode))

    return make


def configs() -> list[Config]:
    return [
        Config("wavelets", "morl", _p(*_CWT, frequencies=[10.0, 25.0], wavelet="morl")),
        Config("wavelets", "cmor1.5-1.0", _p(*_CWT, frequencies=[10.0, 25.0],
                                              wavelet="cmor1.5-1.0"), out_dtype="complex64"),
        Config("wavelets", "mexh scales", _p(*_CWT, frequencies=None, wavelet="mexh",
                                             scales=[2.0, 5.0])),
        Config("wavelets", "morl min_phase", _p(*_CWT, frequencies=[10.0, 25.0],
                                                wavelet="morl", min_phase="hilbert")),
        Config("filterbankdesign", "kaiser bank conv", _kaiser_bank("conv")),
        Config("filterbankdesign", "kaiser bank fft", _kaiser_bank("fft")),
    ]
