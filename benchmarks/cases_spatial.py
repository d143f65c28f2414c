"""Spatial family cases for ``benchmarks.conditioning``: AffineTransform (a dense square
matrix, with an offset row, and the ``"car"`` kind) and CommonRereference (mean, median,
mean in four contiguous channel groups). Weights come from a factory of the channel count, so
one configuration serves both workloads (8 and 256 channels)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _dense(n: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, n)) / np.sqrt(n)


def _offset(n: int) -> np.ndarray:
    return np.random.default_rng(1).standard_normal((n + 1, n)) / np.sqrt(n)


def _four_groups(message: Any, axis: str) -> list[list[int]]:
    n = message.data.shape[message.dims.index(axis)]
    return [list(range(i * n // 4, (i + 1) * n // 4)) for i in range(4)]


def _make(package: str, cls: str, settings: str, **kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        import importlib

        mod = importlib.import_module(f"{package}.affinetransform")
        return getattr(mod, cls)(getattr(mod, settings)(**kw))

    return make


def _pair(cls: str, settings: str, **kw: Any) -> tuple[Callable, Callable]:
    return (_make("ezmsg_sigproc_units", cls, settings, **kw),
            _make("ezmsg.sigproc", cls, settings, **kw))


def _matmul_floor(weights: Callable[[int], np.ndarray]) -> Callable[[], Callable]:
    def make() -> Callable[[np.ndarray], np.ndarray]:
        cache: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}

        def f(x: np.ndarray) -> np.ndarray:
            n = x.shape[1]
            if n not in cache:
                w = weights(n).astype(x.dtype)
                cache[n] = (w[:n], w[n:] if w.shape[0] > n else None)
            a, b = cache[n]
            return x @ a if b is None else x @ a + b

        return f

    return make


def _car_matrix(n: int) -> np.ndarray:
    return np.eye(n) - 1.0 / n


def _mean_floor() -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: x - x.mean(axis=1, keepdims=True)


def _median_floor() -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: x - np.median(x, axis=1, keepdims=True)


def _groups_floor() -> Callable[[np.ndarray], np.ndarray]:
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def f(x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        if n not in cache:
            member = np.zeros((n, 4), x.dtype)
            for i in range(4):
                member[i * n // 4:(i + 1) * n // 4, i] = 1.0
            cache[n] = (member / member.sum(0), np.ascontiguousarray(member.T))
        p, s = cache[n]
        return x - (x @ p) @ s

    return f


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    aff, car = ("AffineTransformTransformer", "AffineTransformSettings"), (
        "CommonRereferenceTransformer", "CommonRereferenceSettings")
    return [
        ("AffineTransform dense", *_pair(*aff, weights=_dense), _matmul_floor(_dense)),
        ("AffineTransform offset row", *_pair(*aff, weights=_offset), _matmul_floor(_offset)),
        ("AffineTransform car", *_pair(*aff, weights="car"), _matmul_floor(_car_matrix)),
        ("CommonRereference mean", *_pair(*car), _mean_floor),
        ("CommonRereference median", *_pair(*car, mode="median"), _median_floor),
        ("CommonRereference mean 4 groups", *_pair(*car, channel_groups=_four_groups),
         _groups_floor),
    ]
