"""Wavelet and SSVEP family cases for ``benchmarks.conditioning``: the streaming CWT (``morl``
and ``cmor1.5-1.0`` at 10, 20, 40 and 80 Hz: kernels of 163 to 1601 taps at 1 kHz), the Kaiser
filterbank design stage (three bands), FBCCA on each chunk as one window (four test
frequencies, five harmonics) and the streaming FBCCA chain (three sub-bands, 0.2 s windows
every 0.1 s)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

FREQS = [10.0, 20.0, 40.0, 80.0]
SSVEP = [8.0, 10.0, 12.0, 15.0]


def _make(package: str, module: str, cls: str, settings: str, **kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        mod = importlib.import_module(f"{package}.{module}")
        return getattr(mod, cls)(getattr(mod, settings)(**kw))

    return make


def _pair(module: str, cls: str, settings: str, **kw: Any) -> tuple[Callable, Callable]:
    spec = (module, cls, settings)
    return _make("ezmsg_sigproc_units", *spec, **kw), _make("ezmsg.sigproc", *spec, **kw)


def _bank(package: str) -> Callable[[], Any]:
    def make() -> Any:
        fbd = importlib.import_module(f"{package}.filterbankdesign")
        K = importlib.import_module(f"{package}.kaiser").KaiserFilterSettings
        filters = [K(cutoff=(8.0, 30.0), ripple=30.0, width=4.0, pass_zero=False),
                   K(cutoff=(30.0, 70.0), ripple=30.0, width=8.0, pass_zero=False),
                   K(cutoff=100.0, ripple=30.0, width=20.0)]
        return fbd.FilterbankDesignTransformer(fbd.FilterbankDesignSettings(filters=filters))

    return make


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    out: list[tuple[str, Callable, Callable | None, Callable | None]] = []
    for name, spec, kw in [
        ("cwt morl", ("wavelets", "CWTTransformer", "CWTSettings"),
         {"frequencies": FREQS, "wavelet": "morl"}),
        ("cwt cmor1.5-1.0", ("wavelets", "CWTTransformer", "CWTSettings"),
         {"frequencies": FREQS, "wavelet": "cmor1.5-1.0"}),
        ("fbcca (chunk = window)", ("fbcca", "FBCCATransformer", "FBCCASettings"),
         {"time_dim": "time", "ch_dim": "ch", "freqs": SSVEP}),
        ("streaming fbcca 3 bands", ("fbcca", "StreamingFBCCATransformer",
                                     "StreamingFBCCASettings"),
         {"time_dim": "time", "ch_dim": "ch", "freqs": SSVEP, "filterbank_dim": "band",
          "subbands": 3, "window_dur": 0.2, "window_shift": 0.1}),
    ]:
        ours, peer = _pair(*spec, **kw)
        out.append((name, ours, peer, None))
    out.insert(2, ("filterbankdesign 3 kaiser", _bank("ezmsg_sigproc_units"),
                   _bank("ezmsg.sigproc"), None))
    return out
