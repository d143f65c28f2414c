"""Learn family, Kalman decoding: ``RefitKalmanFilterProcessor`` ours beside ezmsg-learn
1.16.2's (``cases()`` in the format of ``benchmarks.learn``).

Both processors start from the same model, fitted on 500 samples of 256 features and 2-D
states (the training samples' targets), and ``partial_fit`` is a ReFIT refit of ``H`` and
``Q`` from the sample. ezmsg-learn takes the states as a dict (``{"Y_state": ...}``), so its
processor sits in a thin adapter that rewrites the sample's AxisArray of targets into it.

Cases: prediction with the default covariance recursion (``steady_state=False``: per sample
ezmsg-learn inverts an ``(m, m)`` innovation covariance by SVD; ours works in ``(s, s)``
information form), prediction with the steady-state gain, and ``partial_fit``.

The prediction cases use inputs ``"signal"`` (no warm-up refits; the processors decode with
the model fitted at construction): warm-up refits from 1-sample messages make ezmsg-learn's
``scipy.linalg.solve_discrete_are`` raise (``ValueError`` from ``ordqz``, which its fallback
does not catch), which would leave its 1-sample column empty. For the same reason its
``partial_fit`` at 1 sample per message has no figure.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

N_FIT, N_FEATURES, N_STATES = 500, 256, 2


def _training() -> tuple[Any, Any]:
    """Neural features ``(N_FIT, 256)`` linear in smooth 2-D states, float32."""
    import numpy as np

    rng = np.random.default_rng(5)
    states = np.cumsum(rng.standard_normal((N_FIT, N_STATES)), axis=0) * 0.1
    feats = states @ rng.standard_normal((N_STATES, N_FEATURES))
    feats += rng.standard_normal((N_FIT, N_FEATURES))
    return feats.astype(np.float32), states.astype(np.float32)


class _PeerSamples:
    """ezmsg-learn's processor fed the benchmark's samples: the trigger's AxisArray of states
    becomes the ``{"Y_state": array}`` its ``partial_fit`` expects."""

    def __init__(self, proc: Any) -> None:
        self.proc = proc

    def __call__(self, message: Any) -> Any:
        return self.proc(message)

    def partial_fit(self, message: Any) -> None:
        from ezmsg.baseproc import SampleTriggerMessage
        from ezmsg.util.messages.axisarray import AxisArray

        trig = message.attrs["trigger"]
        value = {"Y_state": trig.value.data}
        self.proc.partial_fit(AxisArray(message.data, dims=message.dims, axes=message.axes,
                                        attrs={"trigger": SampleTriggerMessage(
                                            timestamp=trig.timestamp, period=trig.period,
                                            value=value)}))


def _build(root: str, steady: bool) -> Any:
    mod = importlib.import_module(f"{root}.refit_kalman")
    proc = mod.RefitKalmanFilterProcessor(mod.RefitKalmanFilterSettings(steady_state=steady))
    proc.fit(*_training())
    return proc if root.startswith("ezmsg_sigproc_units") else _PeerSamples(proc)


def _both(steady: bool) -> tuple[Callable, Callable]:
    return tuple(functools.partial(_build, root, steady)
                 for root in ("ezmsg_sigproc_units.learn.process", "ezmsg.learn.process"))


def cases() -> list[tuple]:
    recursive, steady = _both(False), _both(True)
    return [
        ("RefitKalmanFilter", "predict", *recursive, "signal"),
        ("RefitKalmanFilter steady_state", "predict", *steady, "signal"),
        ("RefitKalmanFilter (refit)", "partial_fit", *steady, "targets"),
    ]
