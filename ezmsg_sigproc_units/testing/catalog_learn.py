"""Catalog entries of the learn family (``ezmsg_sigproc_units.learn``): each decoder is trained
on the backend's data first (sample messages as ``Sampler`` makes them, or the signal itself
for the self-supervised ones), then decodes the signal; the cell checks that the decoded
output stayed in the input's namespace, device and float dtype."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .backends import Backend
from .catalog_base import Config, _signal


def _sample(msg: AxisArray, rows: slice, value: Any) -> AxisArray:
    from ..util.message import SampleTriggerMessage

    t0 = msg.axes["time"].offset
    return AxisArray(msg.data[rows, ...], dims=list(msg.dims), axes=dict(msg.axes),
                     attrs={"trigger": SampleTriggerMessage(timestamp=t0, period=(0.0, 0.1),
                                                            value=value)})


def _classes(proc: Any, msg: AxisArray) -> None:
    """Two classes, one per half of the rows (shifted apart so they separate)."""
    proc.partial_fit(_sample(msg, slice(0, 10), "a"))
    shifted = AxisArray(msg.data + 1.0, dims=list(msg.dims), axes=dict(msg.axes))
    proc.partial_fit(_sample(shifted, slice(10, 20), "b"))


def _rows(proc: Any, msg: AxisArray) -> None:
    """One observation per sample message (SGDDecoder flattens a sample into one row)."""
    for i in range(6):
        proc.partial_fit(_sample(msg, slice(i, i + 1), "ab"[i % 2]))


def _targets(proc: Any, msg: AxisArray) -> None:
    """Regression targets: an AxisArray (time, 2) on the signal's backend."""
    y = msg.data[:, 0:2] * 2.0 - msg.data[:, 2:4]
    value = AxisArray(y, dims=["time", "ch"],
                      axes={"time": msg.axes["time"],
                            "ch": AxisArray.CoordinateAxis(np.asarray(["y0", "y1"]),
                                                           dims=["ch"])})
    proc.partial_fit(_sample(msg, slice(0, 20), value))


def _self(proc: Any, msg: AxisArray) -> None:
    proc.partial_fit(msg)


class _Trained:
    """The catalog's two-input protocol: ``push_a`` trains, ``push_b`` decodes, ``()`` gives
    the decoded message."""

    def __init__(self, proc: Any, train: Callable[[Any, AxisArray], None]) -> None:
        self.proc, self._train, self._last = proc, train, None

    def push_a(self, msg: AxisArray) -> None:
        self._train(self.proc, msg)

    def push_b(self, msg: AxisArray) -> None:
        self._last = self.proc(msg)

    def __call__(self) -> AxisArray | None:
        return self._last


def _t(module: str, cls: str, settings: str, train: Callable, **kw: Any) -> Callable[[], Any]:
    def make() -> _Trained:
        mod = importlib.import_module(f"ezmsg_sigproc_units.learn.{module}")
        return _Trained(getattr(mod, cls)(getattr(mod, settings)(**kw)), train)

    return make


def _same(b: Backend) -> tuple:
    return _signal(b), _signal(b)


def configs() -> list[Config]:
    c = [Config("learn.process.slda", "online", _t("process.slda", "SLDATransformer",
                                                   "SLDASettings", _classes),
                inputs=_same, two_input=True),
         Config("learn.process.sgd", "hinge", _t("process.sgd", "SGDDecoderTransformer",
                                                 "SGDDecoderSettings", _rows,
                                                 label_weights={"a": 1.0, "b": 1.0}),
                inputs=_same, two_input=True)]
    for kind in ("linear", "ridge"):
        c.append(Config("learn.process.linear_regressor", kind,
                        _t("process.linear_regressor", "LinearRegressorTransformer",
                           "LinearRegressorSettings", _targets, model_type=kind),
                        inputs=_same, two_input=True))
    for kind in ("linear", "logistic", "sgd", "par"):
        c.append(Config("learn.process.adaptive_linear_regressor", kind,
                        _t("process.adaptive_linear_regressor",
                           "AdaptiveLinearRegressorTransformer",
                           "AdaptiveLinearRegressorSettings", _targets, model_type=kind),
                        inputs=_same, two_input=True))
    for steady in (False, True):
        c.append(Config("learn.process.refit_kalman", f"steady_state={steady}",
                        _t("process.refit_kalman", "RefitKalmanFilterProcessor",
                           "RefitKalmanFilterSettings", _targets, steady_state=steady,
                           velocity_indices=(0, 1)),
                        inputs=_same, two_input=True))
    c += [Config("learn.process.ssr", "LRR", _t("process.ssr", "LRRTransformer", "LRRSettings",
                                                 _self), inputs=_same, two_input=True),
          Config("learn.dim_reduce.adaptive_decomp", "IncrementalPCA",
                 _t("dim_reduce.adaptive_decomp", "IncrementalPCATransformer",
                    "IncrementalPCASettings", _self, n_components=2),
                 inputs=_same, two_input=True),
          Config("learn.dim_reduce.adaptive_decomp", "MiniBatchNMF",
                 _t("dim_reduce.adaptive_decomp", "MiniBatchNMFTransformer",
                    "MiniBatchNMFSettings", _self, n_components=2, max_iter=20),
                 inputs=_same, two_input=True)]
    return c
