"""Smoothing and scaling family cases for ``benchmarks.conditioning``: EWMA, detrend, the
adaptive scalers, activation and the rolling scaler, at the peer's defaults (time constant
1 s at 1 kHz) unless named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

TAU = 1.0
FS = 1000.0


def _ours(module: str, cls: str, settings: str, **kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        import importlib

        mod = importlib.import_module(f"ezmsg_sigproc_units.{module}")
        return getattr(mod, cls)(getattr(mod, settings)(**kw))

    return make


def _peer(module: str, cls: str, settings: str, **kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        import importlib

        mod = importlib.import_module(f"ezmsg.sigproc.{module}")
        return getattr(mod, cls)(getattr(mod, settings)(**kw))

    return make


def _ewma_floor(detrend: bool = False) -> Callable[[], Callable[[np.ndarray], np.ndarray]]:
    """Bare lfilter along time with carried state (settled: no bias correction)."""
    def make() -> Callable[[np.ndarray], np.ndarray]:
        from scipy.signal import lfilter

        alpha = -np.expm1(-1.0 / (FS * TAU))
        b = np.array([alpha], np.float32)
        a = np.array([1.0, alpha - 1.0], np.float32)
        zi: list = [None]

        def f(x: np.ndarray) -> np.ndarray:
            if zi[0] is None:
                zi[0] = np.zeros((1, x.shape[1]), x.dtype)
            y, zi[0] = lfilter(b, a, x, axis=0, zi=zi[0])
            return x - y if detrend else y

        return f

    return make


def _scaler_floor() -> Callable[[np.ndarray], np.ndarray]:
    f = _ewma_floor()()
    g = _ewma_floor()()

    def scale(x: np.ndarray) -> np.ndarray:
        m = f(x)
        v = g(x * x) - m * m
        return (x - m) / np.sqrt(np.maximum(v, 1e-12))

    return scale


def _activation_floor(name: str) -> Callable[[], Callable[[np.ndarray], np.ndarray]]:
    def make() -> Callable[[np.ndarray], np.ndarray]:
        if name == "sigmoid":
            return lambda x: 1.0 / (1.0 + np.exp(-x))
        return lambda x: np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))

    return make


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    out: list[tuple[str, Callable, Callable | None, Callable | None]] = [
        ("EWMA", _ours("ewma", "EWMATransformer", "EWMASettings", time_constant=TAU),
         _peer("ewma", "EWMATransformer", "EWMASettings", time_constant=TAU), _ewma_floor()),
        ("AdaptiveStandardScaler",
         _ours("scaler", "AdaptiveStandardScalerTransformer", "AdaptiveStandardScalerSettings",
               time_constant=TAU),
         _peer("scaler", "AdaptiveStandardScalerTransformer", "AdaptiveStandardScalerSettings",
               time_constant=TAU), _scaler_floor),
        ("RiverAdaptiveStandardScaler",
         _ours("scaler", "RiverAdaptiveStandardScalerTransformer",
               "RiverAdaptiveStandardScalerSettings", time_constant=TAU),
         None, _scaler_floor),
        ("Detrend", _ours("detrend", "DetrendTransformer", "EWMASettings", time_constant=TAU),
         _peer("detrend", "DetrendTransformer", "EWMASettings", time_constant=TAU),
         _ewma_floor(detrend=True)),
    ]
    out.append(("RollingScaler update k=20",
                _ours("rollingscaler", "RollingScalerProcessor", "RollingScalerSettings",
                      update_with_signal=True),
                _peer("rollingscaler", "RollingScalerProcessor", "RollingScalerSettings",
                      update_with_signal=True), None))
    for fn in ("sigmoid", "log_expit"):
        out.append((f"Activation {fn}",
                    _ours("activation", "ActivationTransformer", "ActivationSettings",
                          function=fn),
                    _peer("activation", "ActivationTransformer", "ActivationSettings",
                          function=fn), _activation_floor(fn)))
    return out
