"""Channel selection and quantisation family cases for ``benchmarks.conditioning``: slicer,
flatten, extract_axis, quantize, digitize, denormalize (float32 chunks, "ch" labels
"Ch0".."ChN" on a CoordinateAxis)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

FS = 1000.0


def _make(package: str, module: str, cls: str, settings: str, **kw: Any
          ) -> Callable[[], Any]:
    def make() -> Any:
        import importlib

        mod = importlib.import_module(f"{package}.{module}")
        return getattr(mod, cls)(getattr(mod, settings)(**kw))

    return make


def _pair(module: str, cls: str, settings: str, **kw: Any) -> tuple[Callable, Callable]:
    return (_make("ezmsg_sigproc_units", module, cls, settings, **kw),
            _make("ezmsg.sigproc", module, cls, settings, **kw))


def _floor(f: Callable[[np.ndarray], Any]) -> Callable[[], Callable[[np.ndarray], Any]]:
    return lambda: f


def _time_values(x: np.ndarray) -> np.ndarray:
    return np.arange(x.shape[0], dtype=np.float64) * (1.0 / FS)


def _quantize(x: np.ndarray) -> np.ndarray:
    return np.round(255 * ((np.clip(x, -3.0, 3.0) + 3.0) / 6.0)).astype(np.uint8)


def _digitize(x: np.ndarray) -> np.ndarray:
    return np.round((np.clip(x, -3.0, 3.0) + 3.0) / 6.0 * 65535.0 - 32768.0).astype(np.int16)


def _denormalize() -> Callable[[np.ndarray], np.ndarray]:
    rates: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def f(x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        if n not in rates:
            o = np.random.default_rng(0).uniform(2.0, 40.0, (1, n)).astype(x.dtype)
            rates[n] = (o / np.float32(3.29), o)
        g, o = rates[n]
        return np.maximum(x * g + o, 0.0)

    return f


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    out: list[tuple[str, Callable, Callable | None, Callable | None]] = []
    sl = ("slicer", "SlicerTransformer", "SlicerSettings")
    out.append(("slicer labels Ch0,Ch2,Ch5", *_pair(*sl, selection="Ch0,Ch2,Ch5"),
                _floor(lambda x: np.take(x, np.array([0, 2, 5]), axis=1))))
    out.append(("slicer slice 0:4", *_pair(*sl, selection="0:4"), _floor(lambda x: x[:, 0:4])))
    out.append(("flatten (time, ch)", *_pair("flatten", "FlattenTransformer",
                                             "FlattenSettings"),
                _floor(lambda x: np.reshape(x, (x.shape[0], -1)))))
    out.append(("extract_axis time", *_pair("extract_axis", "ExtractAxisData",
                                            "ExtractAxisSettings", axis="time"),
                _floor(_time_values)))
    out.append(("quantize 8 bits", *_pair("quantize", "QuantizeTransformer",
                                          "QuantizeSettings", max_val=3.0, min_val=-3.0),
                _floor(_quantize)))
    out.append(("digitize int16", *_pair("digitize", "DigitizeTransformer",
                                         "DigitizeSettings", min_val=-3.0, max_val=3.0),
                _floor(_digitize)))
    out.append(("denormalize uniform", *_pair("denormalize", "DenormalizeTransformer",
                                              "DenormalizeSettings", seed=0), _denormalize))
    return out
