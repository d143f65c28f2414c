"""Pieces the real-graph tests share: a deterministic chunked source, a recording sink, a
terminator that ends the run once every sink has what it expects, and ``run_graph`` (private
graph server, unique root name, watchdog deadline).

Units live in this importable module (not in test files) so the graphs also work under the
spawn/forkserver start methods. Sinks copy everything they keep to the host, because NumPy
arrays received from another process are views into reused shared-memory slots.
"""

from __future__ import annotations

import asyncio
import io
import os
import pickle
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from examples.common import Watchdog, WatchdogSettings
from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.testing import Backend
from ezmsg_sigproc_units.testing.graph import free_port  # noqa: F401  (re-exported)
from ezmsg_sigproc_units.testing.streaming import split_message

FS = 200.0
N_CH = 4
# Uneven chunk lengths with empty chunks (first, middle, last) and single samples: 600 samples.
LENGTHS = (0, 37, 1, 64, 13, 0, 100, 29, 7, 149, 1, 50, 90, 59, 0)
N_SAMPLES = sum(LENGTHS)


def make_signal(n: int = N_SAMPLES, n_ch: int = N_CH, seed: int = 0,
                fs: float = FS) -> np.ndarray:
    """Deterministic float64 ``(n, n_ch)`` test signal: a DC offset, rhythms at 6, 20 and
    45 Hz with per-channel phases, and white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None] / fs
    ph = rng.uniform(0.0, 2 * np.pi, size=(3, n_ch))
    x = (0.3 + np.sin(2 * np.pi * 6.0 * t + ph[0]) + 0.5 * np.sin(2 * np.pi * 20.0 * t + ph[1])
         + 0.25 * np.sin(2 * np.pi * 45.0 * t + ph[2]))
    return x + 0.2 * rng.standard_normal((n, n_ch))


def whole_message(n: int = N_SAMPLES, n_ch: int = N_CH, seed: int = 0, fs: float = FS,
                  backend: str = "numpy", dtype: str = "float64",
                  key: str = "src") -> AxisArray:
    """The whole test signal as one AxisArray on ``backend`` (what offline processing gets)."""
    host = make_signal(n, n_ch, seed, fs).astype(dtype)
    ch = CoordinateAxis(data=np.array([f"ch{i}" for i in range(n_ch)]), dims=["ch"],
                        unit="label")
    return AxisArray(Backend(backend).asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=0.0), "ch": ch}, key=key,
                     stream_dim="time")


class ChunkSourceSettings(ez.Settings):
    lengths: tuple[int, ...] = LENGTHS
    """Chunk lengths along time; their sum is the signal length."""
    n_ch: int = N_CH
    seed: int = 0
    fs: float = FS
    backend: str = "numpy"
    """A ``testing.Backend`` value: numpy, torch, mlx, ..."""
    dtype: str = "float64"
    key: str = "src"


def chunk_messages(s: ChunkSourceSettings) -> list[AxisArray]:
    """The source's messages: ``whole_message`` cut into ``s.lengths`` (fresh arrays each)."""
    host = whole_message(sum(s.lengths), s.n_ch, s.seed, s.fs, "numpy", s.dtype, s.key)
    b = Backend(s.backend)
    out = []
    for c in split_message(host, s.lengths):
        c.data = b.asarray(np.array(c.data, copy=True))
        out.append(c)
    return out


class ChunkSource(ez.Unit):
    """Publishes the chunks of the deterministic test signal once, then idles."""

    SETTINGS = ChunkSourceSettings
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    @ez.publisher(OUTPUT_SIGNAL)
    async def send(self) -> Any:
        for msg in chunk_messages(self.SETTINGS):
            yield self.OUTPUT_SIGNAL, msg
        raise ez.Complete


class TightChunkSource(ez.Unit):
    """``ChunkSource`` with only two shared-memory slots: a remote subscriber's NumPy input is
    overwritten two messages later, so a Unit that kept a view of an input would compute with
    another message's samples."""

    SETTINGS = ChunkSourceSettings
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray, num_buffers=2)

    @ez.publisher(OUTPUT_SIGNAL)
    async def send(self) -> Any:
        for msg in chunk_messages(self.SETTINGS):
            yield self.OUTPUT_SIGNAL, msg
        raise ez.Complete


# ---- recording sink --------------------------------------------------------------------

N_INPUTS = 8


@dataclass
class Received:
    """What a sink keeps of one message (host copies only)."""

    data: np.ndarray
    dims: list[str]
    backend: str
    dtype: str
    device: str
    type_name: str
    key: str
    axes: dict[str, Any]
    """Per dim: ``("linear", gain, offset)``, ``("coord", values)`` or None."""
    writeable: bool | None = None
    """NumPy inputs only: the array's WRITEABLE flag as received."""
    pending_graph: bool | None = None
    """MLX only: the array still had an unevaluated compute graph when it arrived."""


def mlx_pending_graph(x: Any) -> bool:
    """True if the MLX array ``x`` is not evaluated yet: ``mlx.core.export_to_dot`` draws an
    evaluated array as a single node and a lazy one with the operations that would compute
    it (edges ``->``)."""
    import mlx.core as mx

    buf = io.StringIO()
    mx.export_to_dot(buf, x)
    return "->" in buf.getvalue()


def _axis_summary(ax: Any) -> Any:
    if isinstance(ax, LinearAxis):
        return ("linear", float(ax.gain), float(ax.offset))
    if isinstance(ax, CoordinateAxis):
        return ("coord", np.array(ax.data, copy=True))
    return None


def receive(msg: AxisArray) -> Received:
    x = msg.data
    name = _backend.backend_name(x)
    pending = mlx_pending_graph(x) if name == "mlx" else None  # before anything evaluates it
    return Received(
        data=np.array(_backend.to_host(x), copy=True),
        dims=list(msg.dims), backend=name, dtype=_backend.dtype_name(x.dtype),
        device=str(_backend.device_of(x)), type_name=f"{type(x).__module__}.{type(x).__name__}",
        key=msg.key, axes={d: _axis_summary(msg.axes.get(d)) for d in msg.dims},
        writeable=bool(x.flags.writeable) if isinstance(x, np.ndarray) else None,
        pending_graph=pending,
    )


class RecordingSinkSettings(ez.Settings):
    path: str
    """Pickle file the recording is written to once every expectation is met (and at
    shutdown, as ``path + ".partial"``, if they never were)."""
    expect: Mapping[int, tuple[str, int, int]] = field(default_factory=dict)
    """Input index -> (dim, n, m): done once ``n`` elements along ``dim`` in at least ``m``
    messages arrived there."""


class RecordingSinkState(ez.State):
    got: dict = field(default_factory=dict)
    done: bool = False


class RecordingSink(ez.Unit):
    """Keeps a host copy of every message on ``INPUT_0`` .. ``INPUT_7`` (one per chain)."""

    SETTINGS = RecordingSinkSettings
    STATE = RecordingSinkState

    INPUT_0 = ez.InputStream(AxisArray)
    INPUT_1 = ez.InputStream(AxisArray)
    INPUT_2 = ez.InputStream(AxisArray)
    INPUT_3 = ez.InputStream(AxisArray)
    INPUT_4 = ez.InputStream(AxisArray)
    INPUT_5 = ez.InputStream(AxisArray)
    INPUT_6 = ez.InputStream(AxisArray)
    INPUT_7 = ez.InputStream(AxisArray)

    @ez.subscriber(INPUT_0)
    async def on_0(self, msg: AxisArray) -> None:
        self._record(0, msg)

    @ez.subscriber(INPUT_1)
    async def on_1(self, msg: AxisArray) -> None:
        self._record(1, msg)

    @ez.subscriber(INPUT_2)
    async def on_2(self, msg: AxisArray) -> None:
        self._record(2, msg)

    @ez.subscriber(INPUT_3)
    async def on_3(self, msg: AxisArray) -> None:
        self._record(3, msg)

    @ez.subscriber(INPUT_4)
    async def on_4(self, msg: AxisArray) -> None:
        self._record(4, msg)

    @ez.subscriber(INPUT_5)
    async def on_5(self, msg: AxisArray) -> None:
        self._record(5, msg)

    @ez.subscriber(INPUT_6)
    async def on_6(self, msg: AxisArray) -> None:
        self._record(6, msg)

    @ez.subscriber(INPUT_7)
    async def on_7(self, msg: AxisArray) -> None:
        self._record(7, msg)

    def _record(self, i: int, msg: AxisArray) -> None:
        st = self.STATE
        st.got.setdefault(i, []).append(receive(msg))
        if not st.done and self._complete():
            st.done = True
            self._write(self.SETTINGS.path)

    def _complete(self) -> bool:
        for i, (dim, n, m) in self.SETTINGS.expect.items():
            recs = self.STATE.got.get(i, [])
            if len(recs) < m or sum(r.data.shape[r.dims.index(dim)] for r in recs) < n:
                return False
        return True

    def _write(self, path: str) -> None:
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(self.STATE.got, f)
        os.replace(tmp, path)  # the terminator never sees a half-written file

    async def shutdown(self) -> None:
        if not self.STATE.done:
            self._write(self.SETTINGS.path + ".partial")


class TerminatorSettings(ez.Settings):
    paths: tuple[str, ...] = ()


class Terminator(ez.Unit):
    """Ends the system once every sink (in any process) has written its recording."""

    SETTINGS = TerminatorSettings

    @ez.task
    async def watch(self) -> None:
        while not all(os.path.exists(p) for p in self.SETTINGS.paths):
            await asyncio.sleep(0.02)
        raise ez.NormalTermination


def run_graph(name: str, components: dict[str, ez.Component], connections: Iterable[tuple],
              sink_paths: Sequence[str | Path], *, deadline: float = 30.0,
              process_components: Sequence[ez.Component] = ()) -> None:
    """``ez.run`` on a private graph server, with a terminator waiting for ``sink_paths`` and
    a watchdog that stops everything after ``deadline`` wall-clock seconds."""
    comps = dict(components)
    comps["TERMINATOR"] = Terminator(TerminatorSettings(paths=tuple(map(str, sink_paths))))
    comps["WATCHDOG"] = Watchdog(WatchdogSettings(seconds=deadline))
    ez.run(components=comps, connections=tuple(connections),
           process_components=list(process_components) or None,
           root_name=f"{name}_{uuid.uuid4().hex[:8]}",
           graph_address=("127.0.0.1", free_port()), auto_start=True)


def load(path: str | Path) -> dict[int, list[Received]]:
    """A sink's recording; fails with what did arrive if the sink never completed."""
    path = Path(path)
    if not path.exists():
        partial = Path(str(path) + ".partial")
        got = pickle.loads(partial.read_bytes()) if partial.exists() else {}
        summary = {i: [tuple(r.data.shape) for r in recs] for i, recs in got.items()}
        raise AssertionError(f"{path.name}: the sink never got everything it expected (the "
                             f"watchdog or an error ended the run); it got {summary}")
    return pickle.loads(path.read_bytes())


def concat(recs: Sequence[Received], dim: str) -> np.ndarray:
    """Concatenated data of the messages along ``dim``."""
    return np.concatenate([r.data for r in recs], axis=recs[0].dims.index(dim))


def axis_values(msg_axes: Any, n: int) -> np.ndarray:
    """Coordinates of ``n`` elements of an axis summary (LinearAxis: offset + k * gain)."""
    if msg_axes is None:
        return np.arange(n, dtype=np.float64)
    if msg_axes[0] == "linear":
        return msg_axes[2] + msg_axes[1] * np.arange(n)
    return msg_axes[1]


def concat_axis(recs: Sequence[Received], dim: str) -> np.ndarray:
    """Concatenated coordinates along ``dim`` of the messages."""
    return np.concatenate([axis_values(r.axes[dim], r.data.shape[r.dims.index(dim)])
                           for r in recs])


def offline_axis(msg: AxisArray, dim: str) -> np.ndarray:
    """Coordinates along ``dim`` of an offline output message."""
    return axis_values(_axis_summary(msg.axes.get(dim)), msg.data.shape[msg.dims.index(dim)])


def published_count(procs: Sequence[Any], s: ChunkSourceSettings, dim: str) -> int:
    """How many messages a chain whose last Unit is windowed publishes for the source's
    chunks: those whose output (``procs``, fresh processors, applied in order) carries at
    least one element along ``dim``; windowed Units withhold the others."""
    count = 0
    for msg in chunk_messages(s):
        for proc in procs:
            msg = proc(msg)
        count += msg.data.shape[msg.dims.index(dim)] > 0
    return count
