"""Adaptive line-noise family cases for ``benchmarks.conditioning``: the adaptive lattice notch
(per sample and chunkwise) and the adaptive line canceller (tracking notch, fixed notch,
subtract), at the peer's defaults (60 Hz line at 1 kHz: a 17-sample update window)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

FS = 1000.0
_LAT = ("adaptive_lattice_notch", "AdaptiveLatticeNotchFilterTransformer",
        "AdaptiveLatticeNotchFilterSettings")
_LNC = ("adaptive_lnc", "AdaptiveLNCTransformer", "AdaptiveLNCSettings")


def _make(package: str, module: str, cls: str, settings: str, **kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        import importlib

        mod = importlib.import_module(f"{package}.{module}")
        return getattr(mod, cls)(getattr(mod, settings)(**kw))

    return make


def _pair(spec: tuple, **kw: Any) -> tuple[Callable, Callable]:
    return _make("ezmsg_sigproc_units", *spec, **kw), _make("ezmsg.sigproc", *spec, **kw)


def _lattice_floor() -> Callable[[np.ndarray], np.ndarray]:
    """The per-sample recursion on Python floats, channel by channel (no messages, no
    frequency track): what an interpreter loop costs at least."""
    g, eta, mu = 0.995, 0.99, 0.99
    state: list = []

    def f(x: np.ndarray) -> np.ndarray:
        if not state:
            k0 = -math.cos(2 * math.pi * 0.07178314656435313)
            state.extend([0.0, 0.0, 0.0, 0.0, k0] for _ in range(x.shape[1]))
        out = np.empty(x.shape)
        for c, col in enumerate(x.T.tolist()):
            s2, s1, p, q, k = state[c]
            ys = []
            for xn in col:
                s = xn - k * (1 + g) * s1 - g * s2
                ys.append(s + 2 * k * s1 + s2)
                p = eta * p + (1 - eta) * s1 * (s + s2)
                q = eta * q + (1 - eta) * 2 * s1 * s1
                k = mu * k + (1 - mu) * min(1.0, max(-1.0, -p / (q + 1e-8)))
                s2, s1 = s1, s
            state[c] = [s2, s1, p, q, k]
            out[:, c] = ys
        return out

    return f


def _fixed_notch_floor() -> Callable[[np.ndarray], np.ndarray]:
    from scipy.signal import sosfilt

    from ezmsg_sigproc_units.adaptive_lnc import design_lnc_sos

    sos = design_lnc_sos(2 * math.pi * 60.0 / FS, 2 / (0.1 * FS), 1)
    zi: list = [None]

    def f(x: np.ndarray) -> np.ndarray:
        if zi[0] is None:
            zi[0] = np.zeros((1, 2, x.shape[1]))
        y, zi[0] = sosfilt(sos, x, axis=0, zi=zi[0])
        return y

    return f


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    out: list[tuple[str, Callable, Callable | None, Callable | None]] = []
    for name, spec, kw, floor in [
        ("lattice_notch", _LAT, {}, _lattice_floor),
        ("lattice_notch chunkwise", _LAT, {"chunkwise": True}, None),
        ("lnc notch tracking", _LNC, {}, None),
        ("lnc notch fixed", _LNC, {"freq_time_constant": None}, _fixed_notch_floor),
        ("lnc subtract", _LNC, {"cancel_method": "subtract"}, None),
    ]:
        ours, peer = _pair(spec, **kw)
        out.append((name, ours, peer, floor))
    return out
