"""Buffer family cases for ``benchmarks.conditioning``: ``HybridBuffer`` and
``HybridAxisArrayBuffer``, one write and one read of everything unread per chunk (the
streaming pattern of a windowing stage), beside the peer's classes and a bare-NumPy ring
buffer (a chunk copied into a preallocated ring, the last N samples returned as a view)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

CAPACITY = 1000  # samples: 1 s at 1 kHz


class _Out:
    """The read as the table's backend sync expects it (an object with ``.data``)."""

    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        self.data = data


def _buffer(package: str) -> Callable[[], Callable[[Any], Any]]:
    def make() -> Callable[[Any], Any]:
        import importlib

        from ezmsg_sigproc_units._backend import array_namespace

        cls = importlib.import_module(f"{package}.util.buffer").HybridBuffer
        state: list = []

        def f(msg: Any) -> Any:
            x = msg.data
            if not state:
                state.append(cls(array_namespace(x), CAPACITY, tuple(x.shape[1:]), x.dtype))
            buf = state[0]
            buf.write(x)
            out = buf.read()
            return out if type(out) is np.ndarray else _Out(out)

        return f

    return make


def _peer_buffer() -> Callable[[Any], Any]:
    from array_api_compat import get_namespace
    from ezmsg.sigproc.util.buffer import HybridBuffer

    state: list = []

    def f(msg: Any) -> Any:
        x = msg.data
        if not state:
            state.append(HybridBuffer(get_namespace(x), CAPACITY, tuple(x.shape[1:]), x.dtype))
        buf = state[0]
        buf.write(x)
        return buf.read()

    return f


def _axisarray_buffer(package: str) -> Callable[[], Callable[[Any], Any]]:
    def make() -> Callable[[Any], Any]:
        import importlib

        mod = importlib.import_module(f"{package}.util.axisarray_buffer")
        buf = mod.HybridAxisArrayBuffer(duration=CAPACITY / 1000.0)

        def f(msg: Any) -> Any:
            buf.write(msg)
            return buf.read()

        return f

    return make


def _ring_floor() -> Callable[[np.ndarray], np.ndarray]:
    ring: list = []
    head = [0]

    def f(x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        if not ring:
            ring.append(np.empty((CAPACITY,) + x.shape[1:], x.dtype))
        s = head[0] if head[0] + n <= CAPACITY else 0
        ring[0][s:s + n] = x
        head[0] = s + n
        return ring[0][s:s + n]

    return f


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    return [
        ("HybridBuffer write+read", _buffer("ezmsg_sigproc_units"), _peer_buffer, _ring_floor),
        ("HybridAxisArrayBuffer write+read", _axisarray_buffer("ezmsg_sigproc_units"),
         _axisarray_buffer("ezmsg.sigproc"), _ring_floor),
    ]
