"""Catalog entries of the wavelets and SSVEP:
wavelets, filterbankdesign, fbcca."""

from __future__ import annotations

from typing import Any

from .catalog_base import Config, _p

_CWT = ("wavelets", "CWTTransformer", "CWTSettings")
_FB = ("fbcca", "FBCCATransformer", "FBCCASettings")
_SFB = ("fbcca", "StreamingFBCCATransformer", "StreamingFBCCASettings")
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
        Config("fbcca", "cca softmax", _p(*_FB, time_dim="time", ch_dim="ch",
                                          freqs=[10.0, 12.0, 15.0], harmonics=2)),
        Config("fbcca", "cca scores max_int_time",
               _p(*_FB, time_dim="time", ch_dim="ch", freqs=[10.0, 12.0], softmax_beta=0.0,
                  max_int_time=0.15)),
        Config("fbcca", "streaming filterbank",
               _p(*_SFB, time_dim="time", ch_dim="ch", freqs=[10.0, 12.0], harmonics=2,
                  filterbank_dim="band", subbands=2, window_dur=0.1, window_shift=0.1)),
        Config("fbcca", "streaming no filterbank",
               _p(*_SFB, time_dim="time", ch_dim="ch", freqs=[10.0, 12.0], harmonics=2,
                  window_dur=0.1, window_shift=0.05)),
    ]
