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
import typing

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

from ezmsg_sigproc_units._units import TransformerUnit, _clone
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilter,
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
)
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
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
    "rate too low": lambda: AxisArray(SIGNAL[:CHUNK].copy(), dims=["time", "ch"], key="src",
                                      axes={"time": AxisArray.TimeAxis(fs=20.0), "ch": CH}),
}
"""Messages the Units of ``UNITS`` cannot take ("rate too low": at 20 Hz the filter's
cut-off and BandPower's bands are above Nyquist)."""

UNITS = {
    "butterworth": (lambda: ButterworthFilter(ButterworthFilterSettings(
        order=4, cuton=5.0, cutoff=30.0)), set()),
    "window": (lambda: Window(WindowSettings(axis="time", window_dur=0.3, window_shift=0.1,
                                             zero_pad_until="input")), {"rate too low"}),
    "bandpower": (lambda: BandPower(BandPowerSettings(
        spectrogram_settings=SpectrogramSettings(window_dur=0.25, window_shift=0.1),
        bands=[(8.0, 12.0), (30.0, 60.0)])), set()),
}
"""Unit factory and the ``MALFORMED`` keys it legitimately accepts (they are valid for it)."""


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
            cand.update_settings(copy.copy(proc.settings))
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
