"""Shared pieces of the synth tests: settings on a test backend, clock ticks, host views."""

from __future__ import annotations

import numpy as np
from ezmsg.util.messages.axisarray import LinearAxis

from ezmsg_sigproc_units import _backend


def on(backend, /, **kw) -> dict:
    """Settings keywords placing a source on ``backend`` (a testing ``Backend`` or None)."""
    if backend is not None:
        kw.update(backend=backend.library, device=backend.device_name)
    return kw


def ticks(n: int, gain: float = 0.01, t0: float = 100.0) -> list[LinearAxis]:
    return [LinearAxis(gain=gain, offset=t0 + i * gain) for i in range(n)]


def run(proc, tick_list) -> list:
    return [o for o in (proc(t) for t in tick_list) if o is not None]


def host(outs) -> np.ndarray:
    """The blocks' data concatenated along time, on the host (float64)."""
    return np.concatenate([_backend.to_host(o.data) for o in outs], axis=0).astype(np.float64)


def take(proc, n_samples: int, gain: float = 0.01) -> np.ndarray:
    """The first ``n_samples`` of ``proc`` driven by ticks of ``gain`` (host float64)."""
    outs, got, i = [], 0, 0
    while got < n_samples:
        out = proc(LinearAxis(gain=gain, offset=i * gain))
        i += 1
        if out is not None:
            outs.append(out)
            got += out.data.shape[0]
    return host(outs)[:n_samples]
