"""Events and binning family cases for ``benchmarks.conditioning``: the sampler (a trigger
every fourth chunk, its window already in the history) and binned_aggregate (20 ms bins:
mean, and the (min, max) envelope). Float32 chunks, "ch" labels on a CoordinateAxis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

FS = 1000.0
PERIOD = (-0.05, 0.0)
EVERY = 4


def _sampler(package: str) -> Callable[[], Callable[[Any], Any]]:
    """A callable of one chunk: the chunk goes in, and every ``EVERY``-th chunk (past the
    first few of each pass over the messages, whose offsets restart at 0) a trigger at its
    first sample asks for the 50 ms before it. Returns the newest epoch, else the chunk."""

    def make() -> Callable[[Any], Any]:
        import importlib

        mod = importlib.import_module(f"{package}.sampler")
        msg_mod = importlib.import_module(f"{package}.util.message")
        proc = mod.SamplerTransformer(mod.SamplerSettings(buffer_dur=0.5, period=PERIOD))
        trig_cls = msg_mod.SampleTriggerMessage

        def f(m: Any) -> Any:
            out = list(proc(m))
            ax = m.axes["time"]
            k = round(ax.offset / (ax.gain * m.data.shape[0]))
            if k >= EVERY and k % EVERY == 0:
                out += proc(trig_cls(timestamp=ax.offset))
            return out[-1] if out else m

        return f

    return make


def _binned(package: str, **kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        import importlib

        mod = importlib.import_module(f"{package}.binned_aggregate")
        agg = importlib.import_module(f"{package}.aggregate").AggregationFunction
        ops = kw.get("operation", "mean")
        op = tuple(agg(o) for o in ops) if isinstance(ops, tuple) else agg(ops)
        return mod.BinnedAggregateTransformer(mod.BinnedAggregateSettings(
            bin_duration=0.02, operation=op))

    return make


def _binned_floor(envelope: bool) -> Callable[[], Callable[[np.ndarray], Any]]:
    def make() -> Callable[[np.ndarray], Any]:
        carry: list[np.ndarray] = []
        width = int(0.02 * FS)

        def f(x: np.ndarray) -> Any:
            work = np.concatenate([carry[0], x]) if carry else x
            n = (work.shape[0] // width) * width
            bins = work[:n].reshape(-1, width, work.shape[1])
            carry[:] = [work[n:].copy()]
            if envelope:
                return np.stack([bins.min(1), bins.max(1)], axis=-1)
            return bins.mean(1)

        return f

    return make


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    return [
        ("sampler (trigger / 4 chunks)", _sampler("ezmsg_sigproc_units"),
         _sampler("ezmsg.sigproc"), None),
        ("binned_aggregate mean 20 ms", _binned("ezmsg_sigproc_units"),
         _binned("ezmsg.sigproc"), _binned_floor(False)),
        ("binned_aggregate (min,max) 20 ms",
         _binned("ezmsg_sigproc_units", operation=("min", "max")),
         _binned("ezmsg.sigproc", operation=("min", "max")), _binned_floor(True)),
    ]
