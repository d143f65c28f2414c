"""Catalog entries of the routing:
concat, merge, align, resampleconcat."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .backends import Backend
from .catalog_base import Config, _p, _signal


class _Fed:
    """The catalog's two-input protocol (``push_a``, ``push_b``, then ``()``) over a processor
    whose inputs return their outputs (align, merge, resampleconcat)."""

    def __init__(self, proc: Any, a: str, b: str) -> None:
        self.proc, self._a, self._b, self._last = proc, a, b, None

    def _keep(self, out: Any) -> None:
        if isinstance(out, tuple):
            out = out[0]
        if out is None and hasattr(self.proc, "__next__"):
            out = next(self.proc)
        if out is not None:
            self._last = out

    def push_a(self, msg: AxisArray) -> None:
        self._keep(getattr(self.proc, self._a)(msg))

    def push_b(self, msg: AxisArray) -> None:
        self._keep(getattr(self.proc, self._b)(msg))

    def __call__(self) -> AxisArray | None:
        return self._last


def _fed(module: str, cls: str, settings: str, a: str = "push_a", b: str = "push_b",
         **kw: Any) -> Callable[[], _Fed]:
    def make() -> _Fed:
        mod = importlib.import_module(f"ezmsg_sigproc_units.{module}")
        return _Fed(getattr(mod, cls)(getattr(mod, settings)(**kw)), a, b)

    return make


def _labelled(b: Backend, n_ch: int = 8, prefix: str = "Ch", seed: int = 0) -> AxisArray:
    msg = _signal(b, shape=(20, n_ch))
    labels = np.asarray([f"{prefix}{i}" for i in range(n_ch)])
    return AxisArray(msg.data, dims=list(msg.dims),
                     axes={"time": msg.axes["time"],
                           "ch": AxisArray.CoordinateAxis(labels, dims=["ch"])})


def _pair(b: Backend) -> tuple:
    return _signal(b), _signal(b)


def _labelled_pair(b: Backend) -> tuple:
    return _labelled(b), _labelled(b, n_ch=3, prefix="X")


def configs() -> list[Config]:
    c = [
        Config("concat", "ch linear", _p("concat", "ConcatProcessor", "ConcatSettings"),
               inputs=_pair, two_input=True),
        Config("concat", "ch labelled", _p("concat", "ConcatProcessor", "ConcatSettings"),
               inputs=_labelled_pair, two_input=True),
        Config("concat", "new axis", _p("concat", "ConcatProcessor", "ConcatSettings",
                                        axis="feature", label_a="x", label_b="y"),
               inputs=_pair, two_input=True),
        Config("align", "time", _fed("align", "AlignAlongAxisProcessor",
                                     "AlignAlongAxisSettings"),
               inputs=_pair, two_input=True),
        Config("merge", "ch labelled", _fed("merge", "MergeProcessor", "MergeSettings"),
               inputs=_labelled_pair, two_input=True),
        Config("merge", "new axis", _fed("merge", "MergeProcessor", "MergeSettings",
                                         axis="feature"),
               inputs=_pair, two_input=True),
        Config("resampleconcat", "reference",
               _fed("resampleconcat", "ResampleConcatProcessor", "ResampleConcatSettings",
                    a="push_reference", b="push_signal"),
               inputs=_labelled_pair, two_input=True),
    ]
    return c
