"""The catalog's building blocks, shared by ``catalog`` and its per-family modules:
``Config`` (one processor configuration), ``_p`` (a processor factory by module and names)
and the default inputs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .backends import Backend


@dataclass(frozen=True)
class Config:
    module: str  # public module, e.g. "math.clip"
    label: str
    make: Callable[[], Any]  # processor factory (called with the module imported)
    inputs: Callable[[Backend], tuple] = field(default=lambda b: (_signal(b),))
    two_input: bool = False
    target: str | None = None  # AsArray: the backend the output must land on
    out_dtype: str | None = None  # when the output dtype is not the input's (complex spectra)


def _signal(b: Backend, shape=(20, 8), dims=("time", "ch"), positive: bool = True) -> AxisArray:
    rng = np.random.default_rng(0)
    host = rng.random(shape).astype("float32") + (0.5 if positive else -0.5)
    return AxisArray(b.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=100.0),
                           dims[1]: AxisArray.LinearAxis(gain=1.0, offset=0.0)})


def _xy(b: Backend) -> tuple:
    return (_signal(b, shape=(20, 2), dims=("time", "xy")),)


def _p(module: str, cls: str, settings: str | None = None, **kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        mod = importlib.import_module(f"ezmsg_sigproc_units.{module}")
        if settings is None:
            return getattr(mod, cls)()
        return getattr(mod, cls)(getattr(mod, settings)(**kw))

    return make
