"""Routing family cases for ``benchmarks.conditioning``: Concat, Merge and ResampleConcat
(float32 chunks, "ch" labels "Ch0".."ChN" on a CoordinateAxis). Each case's callable feeds
the chunk to both inputs (the second input: the same samples, so the streams are aligned)
and returns the joined output."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np


def _settings(package: str, module: str, settings: str, **kw: Any) -> tuple[Any, Any]:
    mod = importlib.import_module(f"{package}.{module}")
    return mod, getattr(mod, settings)(**kw)


def _concat(package: str) -> Callable[[], Callable]:
    def make() -> Callable:
        mod, s = _settings(package, "concat", "ConcatSettings")
        proc = mod.ConcatProcessor(s)

        def feed(m: Any) -> Any:
            proc.push_a(m)
            proc.push_b(m)
            if package == "ezmsg_sigproc_units":  # ours pairs without an event loop
                return proc()
            return proc._concat(proc.state.queue_a.get_nowait(), proc.state.queue_b.get_nowait())

        return feed

    return make


def _merge(package: str) -> Callable[[], Callable]:
    def make() -> Callable:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod, s = _settings(package, "merge", "MergeSettings")
            proc = mod.MergeProcessor(s)

        def feed(m: Any) -> Any:
            proc(m)
            return proc.push_b(m)

        return feed

    return make


def _resampleconcat(package: str) -> Callable[[], Callable]:
    def make() -> Callable:
        mod, s = _settings(package, "resampleconcat", "ResampleConcatSettings")
        proc = mod.ResampleConcatProcessor(s)
        last = [None]

        def feed(m: Any) -> Any:
            # The runner cycles through 64 messages, so the clock jumps back once a cycle and
            # the resampler re-anchors (3 messages without output): return the last output
            # then, so that a backend's sync has an array to wait on.
            proc.push_reference(m)
            proc.push_signal(m)
            out = next(proc)
            if out is not None:
                last[0] = out
            return last[0]

        return feed

    return make


def _joined() -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.concatenate([x, x], axis=1)


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    return [(name, f("ezmsg_sigproc_units"), f("ezmsg.sigproc"), _joined)
            for name, f in (("Concat", _concat), ("Merge", _merge),
                            ("ResampleConcat", _resampleconcat))]
