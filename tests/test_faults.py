"""Faults a running graph must survive (docs/robustness.md): malformed messages, invalid live
settings, a subscriber restarted mid-stream.

The first two are properties of the Unit bases (``_units.py``) and are tested by calling the
Units' tasks directly; the restart needs real processes: a graph server here, a publisher
process and subscriber processes (this file run as a script: ``python -m tests.test_faults
publish|subscribe ...``)."""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import subprocess
import sys
import time
import typing
import uuid
from pathlib import Path

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.baseproc import (
    BaseStatefulProcessor,
    BaseStatefulTransformer,
    CompositeProcessor,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ezmsg_sigproc_units._state_snapshots import _checked_settings, _clone
from ezmsg_sigproc_units._units import TransformerUnit
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilter,
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
)
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
from ezmsg_sigproc_units.testing.graph import free_port
from ezmsg_sigproc_units.window import Window, WindowSettings

FS, N_CH, CHUNK = 200.0, 3, 40
CH = CoordinateAxis(data=np.array([f"ch{i}" for i in range(N_CH)]), dims=["ch"])
SIGNAL = np.random.default_rng(7).standard_normal((20 * CHUNK, N_CH))


def chunk(i: int, data: np.ndarray | None = None) -> AxisArray:
    """Chunk ``i`` of the test stream (fresh message objects each call)."""
    x = SIGNAL[i * CHUNK:(i + 1) * CHUNK] if data is None else data
    return AxisArray(x.copy(), dims=["time", "ch"], key="src",
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * CHUNK / FS), "ch": CH})


def forged(data: typing.Any) -> AxisArray:
    """A chunk whose data was replaced after construction (as an unpickled message can be:
    AxisArray checks its data only in ``__init__``)."""
    msg = chunk(0)
    object.__setattr__(msg, "data", data)
    return msg


MALFORMED = {
    "dims": lambda: AxisArray(SIGNAL[:CHUNK].copy(), dims=["a", "b"]),
    "no time axis": lambda: AxisArray(SIGNAL[:CHUNK].copy(), dims=["time", "ch"], key="src"),
    "string": lambda: "not a message",
    "None": lambda: None,
    "list data": lambda: forged(SIGNAL[:CHUNK].tolist()),
    "str data": lambda: forged("abc"),
    "str dtype": lambda: chunk(0, np.full((CHUNK, N_CH), "x")),
    "rate too low": lambda: AxisArray(SIGNAL[:CHUNK].copy(), dims=["time", "ch"], key="src",
                                      axes={"time": AxisArray.TimeAxis(fs=20.0), "ch": CH}),
}
"""Messages the Units of ``UNITS`` cannot take ("rate too low": at 20 Hz the filter's
cut-off and BandPower's bands are above Nyquist)."""

UNITS = {
    "butterworth": (lambda: ButterworthFilter(ButterworthFilterSettings(
        order=4, cuton=5.0, cutoff=30.0)), set()),
    "window": (lambda: Window(WindowSettings(axis="time", window_dur=0.3, window_shift=0.1,
                                             zero_pad_until="input")),
               {"rate too low", "str dtype"}),
    "bandpower": (lambda: BandPower(BandPowerSettings(
        spectrogram_settings=SpectrogramSettings(window_dur=0.25, window_shift=0.1),
        bands=[(8.0, 12.0), (30.0, 60.0)])), set()),
}
"""Unit factory and the ``MALFORMED`` keys it legitimately accepts (they are valid for it;
Window windows any dtype, and a new dtype is a new stream structure: it resets, as the peer's)."""


async def _feed(unit: ez.Unit, messages: list) -> list[np.ndarray]:
    outs = []
    for msg in messages:
        outs += [np.array(out.data, copy=True) async for _, out in unit.on_signal(msg)]
    return outs


async def _started(make: typing.Callable[[], ez.Unit]) -> ez.Unit:
    unit = make()
    await unit.initialize()
    return unit


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# ---- malformed messages ------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNITS))
def test_malformed_messages_are_dropped_and_the_stream_goes_on(name, caplog):
    make, accepted = UNITS[name]
    bad = [k for k in MALFORMED if k not in accepted]
    good = [chunk(i) for i in range(len(bad) + 2)]
    want = asyncio.run(_feed(asyncio.run(_started(make)), good))

    mixed = [good[0]]
    for i, key in enumerate(bad):  # good, bad, good, bad, ..., good
        mixed += [MALFORMED[key](), good[i + 1]]
    mixed.append(good[-1])
    caplog.set_level(logging.WARNING, logger="ezmsg")

    async def run() -> tuple[ez.Unit, list]:
        unit = await _started(make)
        return unit, await _feed(unit, mixed)

    unit, got = asyncio.run(run())
    assert len(got) == len(want) and len(want) > 0
    for g, w in zip(got, want, strict=True):  # exactly what the good messages alone give
        np.testing.assert_array_equal(g, w)
    assert unit.dropped_messages == len(bad)
    lines = _warnings(caplog)
    assert len(lines) == len(bad), lines  # one line per dropped message
    for line in lines:
        assert line.startswith(f"{type(unit).__name__}: dropped a malformed message ("), line
        assert "Error: " in line and "\n" not in line, line


# A stateful processor whose reset writes into its state and whose _process then rejects
# integer data: without the Unit putting the state back, a rejected integer message would
# restart the running sum (and the next float message would restart it again).

class SumSettings(ez.Settings):
    pass


@processor_state
class SumState:
    total: typing.Any = None


class SumTransformer(BaseStatefulTransformer[SumSettings, AxisArray, AxisArray, SumState]):
    """Running sum along time (numpy only); state resets when the dtype changes."""

    def _hash_message(self, message: AxisArray) -> int:
        return self._message_hash(message, extra=(message.data.dtype,))

    def _reset_state(self, message: AxisArray) -> None:
        self._state.total = np.zeros(message.data.shape[1:])

    def _process(self, message: AxisArray) -> AxisArray:
        if message.data.dtype.kind != "f":
            raise TypeError(f"expected floating-point data, got {message.data.dtype}")
        if message.attrs.get("bug"):
            raise RuntimeError("a bug in the processor")
        out = self._state.total + np.cumsum(message.data, axis=0)
        self._state.total = out[-1]
        return AxisArray(out, dims=message.dims, axes=message.axes, key=message.key)


class SumUnit(TransformerUnit[SumSettings, AxisArray, AxisArray, SumTransformer]):
    SETTINGS = SumSettings


def test_a_rejected_message_does_not_reset_the_state(caplog):
    unit = asyncio.run(_started(SumUnit))
    ints = chunk(1, (SIGNAL[:CHUNK] * 10).astype(np.int64))
    got = asyncio.run(_feed(unit, [chunk(0), ints, chunk(1), chunk(2)]))
    np.testing.assert_allclose(np.concatenate(got), np.cumsum(SIGNAL[:3 * CHUNK], axis=0))
    assert unit.dropped_messages == 1
    (line,) = _warnings(caplog)
    assert "SumUnit: dropped a malformed message (AxisArray dims=['time', 'ch'] " in line
    assert "dtype=int64): TypeError: expected floating-point data, got int64; state kept, " \
           "1 dropped so far" in line


def test_a_programming_error_propagates_with_the_state_kept(caplog):
    unit = asyncio.run(_started(SumUnit))
    buggy = chunk(1, SIGNAL[:CHUNK].astype(np.float32))  # a new dtype: a reset, then a bug
    buggy.attrs["bug"] = True
    got = asyncio.run(_feed(unit, [chunk(0)]))
    with pytest.raises(RuntimeError, match="a bug in the processor"):
        asyncio.run(_feed(unit, [buggy]))
    got += asyncio.run(_feed(unit, [chunk(1), chunk(2)]))
    np.testing.assert_allclose(np.concatenate(got), np.cumsum(SIGNAL[:3 * CHUNK], axis=0))
    assert unit.dropped_messages == 0 and not _warnings(caplog)


def test_a_malformed_trigger_is_dropped_and_later_triggers_still_work(caplog):
    """A second input (Sampler's triggers) gets the same handling; the trigger queue, which a
    bad trigger joined before it failed, is put back."""
    from ezmsg_sigproc_units.sampler import Sampler, SamplerSettings, SampleTriggerMessage

    async def run() -> tuple[ez.Unit, list]:
        unit = await _started(lambda: Sampler(SamplerSettings(buffer_dur=2.0,
                                                              period=(0.0, 0.1))))
        await _feed(unit, [chunk(i) for i in range(5)])
        shapes = []
        for trig in (SampleTriggerMessage(timestamp="0.2"), SampleTriggerMessage(timestamp=0.5)):
            shapes += [out.data.shape async for _, out in unit.on_trigger(trig)]
        return unit, shapes

    unit, shapes = asyncio.run(run())
    assert shapes == [(20, N_CH)] and unit.dropped_messages == 1
    (line,) = _warnings(caplog)
    assert "Sampler: dropped a malformed message (payload SampleTriggerMessage): TypeError" \
        in line


# ---- live settings -----------------------------------------------------------------------

def _butter(**kw: typing.Any) -> ButterworthFilter:
    return ButterworthFilter(ButterworthFilterSettings(**{"order": 4, "cuton": 5.0,
                                                          "cutoff": 30.0, **kw}))


def _settings_run(updates: dict[int, typing.Any], n: int = 6) -> tuple[ez.Unit, list]:
    """A Butterworth Unit fed chunks 0..n-1, ``updates[i]`` sent to its settings input
    before chunk i."""

    async def run() -> tuple[ez.Unit, list]:
        unit = await _started(_butter)
        outs: list = []
        for i in range(n):
            if i in updates:
                await unit.on_settings(updates[i])
            outs += await _feed(unit, [chunk(i)])
        return unit, outs

    return asyncio.run(run())


def _forged_settings(**fields: typing.Any) -> ButterworthFilterSettings:
    """Settings whose values skipped validation (as an unpickled object does)."""
    s = copy.copy(_butter().SETTINGS)
    for k, v in fields.items():
        object.__setattr__(s, k, v)
    return s


@pytest.mark.parametrize("update", [
    _forged_settings(order=-2),                       # rejected by the settings' validation
    ButterworthFilterSettings(order=4, cuton=5.0, cutoff=150.0),  # above Nyquist at 200 Hz
    "cutoff=150",                                      # not a settings object at all
], ids=["invalid value", "design fails at the next message", "not settings"])
def test_an_invalid_settings_update_leaves_the_running_filter_alone(update, caplog):
    caplog.set_level(logging.WARNING, logger="ezmsg")
    _, want = _settings_run({})
    unit, got = _settings_run({3: update})
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert unit.rejected_settings == 1 and unit.SETTINGS.cutoff == 30.0
    (line,) = _warnings(caplog)
    assert line.startswith("ButterworthFilter: rejected a settings update ("), line
    assert "Error: " in line and "the previous settings and state stay" in line


def test_a_valid_settings_update_applies_at_the_next_message(caplog):
    new = ButterworthFilterSettings(order=4, cuton=5.0, cutoff=40.0)
    offline = ButterworthFilterTransformer(_butter().SETTINGS)
    want = [offline(chunk(i)).data for i in range(3)]
    offline.update_settings(new)
    want += [offline(chunk(i)).data for i in range(3, 6)]
    # a malformed message between the update and the next good one: the update waits for it
    unit, got = _settings_run({3: new})
    np.testing.assert_allclose(np.concatenate(got), np.concatenate(want), rtol=1e-12)
    assert unit.SETTINGS == new and unit.rejected_settings == 0

    async def with_bad_message() -> ez.Unit:
        u = await _started(_butter)
        await _feed(u, [chunk(0)])
        await u.on_settings(new)
        assert await _feed(u, [MALFORMED["rate too low"]()]) == []
        assert u.SETTINGS.cutoff == 30.0  # still pending
        await _feed(u, [chunk(1)])
        return u

    u = asyncio.run(with_bad_message())
    assert u.SETTINGS == new and u.dropped_messages == 1 and u.rejected_settings == 0


def test_a_settings_update_never_touches_the_running_processor():
    """The processor prepared for an update is a clone: running it leaves the original's state
    alone, for a stateful configuration of every single-input module of the catalog."""
    from ezmsg_sigproc_units.testing.backends import Backend
    from ezmsg_sigproc_units.testing.catalog import configs

    b, modules = Backend("numpy"), set()
    for cfg in configs():
        if cfg.two_input or cfg.module in modules or not isinstance(
                cfg.make(), BaseStatefulProcessor | CompositeProcessor):
            continue
        modules.add(cfg.module)  # the first stateful configuration of each module
        m = cfg.inputs(b)[0]
        m1, m2, m3 = m, _later(m, 1), _later(m, 2)
        ref, proc = cfg.make(), cfg.make()
        want = [ref(m1), ref(m2), ref(m3)]
        proc(m1)
        cand = _clone(proc)
        try:
            cand.update_settings(_checked_settings(proc.settings))  # validation re-runs
        except ValueError:  # settings with array fields: baseproc cannot diff them
            cand = _clone(proc)
        cand(m2)
        cand(m3)
        got = [proc(m2), proc(m3)]
        for g, w in zip(got, want[1:], strict=True):
            assert type(g) is type(w), f"{cfg.module} {cfg.label}"
            if isinstance(g, AxisArray):
                np.testing.assert_array_equal(np.asarray(g.data), np.asarray(w.data),
                                              err_msg=f"{cfg.module} {cfg.label}")


def _later(msg: AxisArray, k: int) -> AxisArray:
    """``msg`` moved ``k`` of its own durations later along time."""
    ax = msg.axes["time"]
    n = msg.data.shape[msg.dims.index("time")]
    if isinstance(ax, CoordinateAxis):
        t = np.asarray(ax.data)
        new = CoordinateAxis(data=t + k * (t[-1] - t[0] + (t[-1] - t[0]) / max(n - 1, 1)),
                             dims=ax.dims, unit=ax.unit)
    else:
        new = AxisArray.TimeAxis(fs=1.0 / ax.gain, offset=ax.offset + k * n * ax.gain)
    return AxisArray(msg.data, dims=list(msg.dims), axes={**msg.axes, "time": new},
                     key=msg.key, attrs=dict(msg.attrs))


# ---- a subscriber restarted mid-stream ---------------------------------------------------

PUB_ROOT = "FAULTPUB"
TOPIC = f"{PUB_ROOT}/SRC/OUTPUT_SIGNAL"
BAD_EVERY = 25
"""The publisher sends a string instead of every 25th chunk (the filter drops it)."""


class SeqSourceSettings(ez.Settings):
    progress: str
    """File the number of messages sent so far is written to (every 10)."""
    stop: str
    """The source ends the graph once this file exists."""
    rate: float = 200.0


class SeqSource(ez.Unit):
    """Chunks of the test stream, numbered in ``attrs["seq"]``, at ``rate`` per second."""

    SETTINGS = SeqSourceSettings
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    @ez.publisher(OUTPUT_SIGNAL)
    async def send(self) -> typing.AsyncGenerator:
        s, seq, t0 = self.SETTINGS, 0, time.monotonic()
        while not os.path.exists(s.stop):
            if seq % BAD_EVERY == BAD_EVERY - 1:
                yield self.OUTPUT_SIGNAL, f"malformed {seq}"
            else:
                msg = chunk(seq % 20)
                msg.axes["time"] = AxisArray.TimeAxis(fs=FS, offset=seq * CHUNK / FS)
                msg.attrs["seq"] = seq
                yield self.OUTPUT_SIGNAL, msg
            seq += 1
            if seq % 10 == 0:
                Path(s.progress + ".tmp").write_text(str(seq))
                os.replace(s.progress + ".tmp", s.progress)
            await asyncio.sleep(max(0.0, t0 + seq / s.rate - time.monotonic()))
        raise ez.NormalTermination


class SeqSinkSettings(ez.Settings):
    path: str


class SeqSink(ez.Unit):
    """Appends each message's ``attrs["seq"]`` to a file, one line each, as it arrives."""

    SETTINGS = SeqSinkSettings
    INPUT_SIGNAL = ez.InputStream(AxisArray)

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        with open(self.SETTINGS.path, "a") as f:
            f.write(f"{msg.attrs['seq']}\n")


def _main(argv: list[str]) -> None:
    """``publish HOST:PORT DIR`` or ``subscribe HOST:PORT DIR NAME``: one graph on the given
    graph server (this file run as a script by the restart test)."""
    mode, (host, port), folder = argv[0], argv[1].split(":"), Path(argv[2])
    addr = (host, int(port))
    if mode == "publish":
        src = SeqSource(SeqSourceSettings(progress=str(folder / "progress"),
                                          stop=str(folder / "stop")))
        ez.run(components={"SRC": src}, root_name=PUB_ROOT, graph_address=addr)
        return
    name = argv[3]
    filt = ButterworthFilter(ButterworthFilterSettings(order=4, cuton=5.0, cutoff=30.0))
    sink = SeqSink(SeqSinkSettings(path=str(folder / f"{name}.seq")))
    ez.run(components={"FILTER": filt, "SINK": sink}, root_name=name, graph_address=addr,
           connections=((TOPIC, filt.INPUT_SIGNAL), (filt.OUTPUT_SIGNAL, sink.INPUT_SIGNAL)))


def _seqs(path: Path) -> list[int]:
    """The numbers a sink recorded (complete lines only: a killed sink may leave half a line)."""
    return [int(v) for v in path.read_text().split("\n")[:-1]] if path.exists() else []


def _wait(cond: typing.Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_restarted_subscriber_resumes_and_the_publisher_never_stops(tmp_path):
    from ezmsg.core.graphserver import GraphServer

    addr = ("127.0.0.1", free_port())
    server = GraphServer()
    server.start(addr)
    procs: dict[str, subprocess.Popen] = {}

    def spawn(name: str, *args: str) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "tests.test_faults", *args], stdout=log,
            stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent)
        return procs[name]

    def progress() -> int:
        p = tmp_path / "progress"
        return int(p.read_text()) if p.exists() else 0

    where = f"{addr[0]}:{addr[1]}"
    sub_a, sub_b = f"FAULTSUB_{uuid.uuid4().hex[:6]}", f"FAULTSUB_{uuid.uuid4().hex[:6]}"
    try:
        spawn("sub_a", "subscribe", where, str(tmp_path), sub_a)
        spawn("pub", "publish", where, str(tmp_path))
        _wait(lambda: len(_seqs(tmp_path / f"{sub_a}.seq")) >= 30, "the first subscriber")
        procs["sub_a"].kill()  # a crash: no clean-up of any kind
        procs["sub_a"].wait(10)
        killed_at = progress()
        _wait(lambda: progress() >= killed_at + 40, "the publisher, while no one listens")
        spawn("sub_b", "subscribe", where, str(tmp_path), sub_b)
        _wait(lambda: len(_seqs(tmp_path / f"{sub_b}.seq")) >= 60, "the new subscriber")
        (tmp_path / "stop").touch()
        assert procs["pub"].wait(20) == 0
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait(10)
        server.stop()

    before, after = _seqs(tmp_path / f"{sub_a}.seq"), _seqs(tmp_path / f"{sub_b}.seq")
    assert after[0] > before[-1] + 40  # it got what was sent after it started ...
    expected = [s for s in range(after[0], after[-1] + 1) if s % BAD_EVERY != BAD_EVERY - 1]
    assert after == expected  # ... every chunk in order, each malformed one dropped
    pub_log = (tmp_path / "pub.log").read_text()
    assert "Exception" not in pub_log and "Traceback" not in pub_log, pub_log
    sub_log = (tmp_path / "sub_b.log").read_text()
    assert f"{sub_b}/FILTER: dropped a malformed message (payload str): " in sub_log, sub_log
    assert "Traceback" not in sub_log, sub_log


if __name__ == "__main__":
    _main(sys.argv[1:])
