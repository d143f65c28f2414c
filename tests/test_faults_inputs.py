"""Fault containment of the Units with tasks of their own (docs/robustness.md): a malformed
message on any input of a two-input Unit (``Add``, ``Difference``, ``Concat``,
``AlignAlongAxis``, ``ResampleConcat``, ``EWM``, ``SeqSeqSamplerUnit``) or on a value input
(``SignalInjector``'s frequency and amplitude, ``AdaptiveStandardScaler``'s accumulate) is
dropped with one WARNING line and counted, and the outputs are exactly those of the good
messages alone. The tasks are called directly, as in tests/test_faults.py."""

from __future__ import annotations

import asyncio
import logging
import typing

import ezmsg.core as ez
import numpy as np
import pytest

from ezmsg_sigproc_units.align import AlignAlongAxis, AlignAlongAxisSettings
from ezmsg_sigproc_units.concat import Concat, ConcatSettings
from ezmsg_sigproc_units.ewmfilter import EWM, EWMSettings, EWMState
from ezmsg_sigproc_units.learn.process.seqseqsampler import (
    SeqSeqSamplerSettings,
    SeqSeqSamplerState,
    SeqSeqSamplerUnit,
)
from ezmsg_sigproc_units.math.add import Add
from ezmsg_sigproc_units.math.difference import Difference
from ezmsg_sigproc_units.resampleconcat import ResampleConcat, ResampleConcatSettings
from ezmsg_sigproc_units.scaler import AdaptiveStandardScaler, AdaptiveStandardScalerSettings
from ezmsg_sigproc_units.signalinjector import SignalInjector, SignalInjectorSettings
from ezmsg_sigproc_units.util.message import SampleTriggerMessage
from tests.test_faults import CHUNK, MALFORMED, SIGNAL, _warnings, chunk, forged

BAD = {k: MALFORMED[k] for k in ("dims", "no time axis", "string", "None", "list data",
                                 "str data")}
"""Malformed for every Unit here (no ``time`` axis, or not an array message)."""

Event = tuple[str, typing.Any]  # (task name, message)


async def _astart(unit: ez.Unit, settings: typing.Any = None, state: typing.Any = None
                  ) -> ez.Unit:
    if settings is not None:
        unit.apply_settings(settings)
    if state is not None:
        unit.STATE = state
    await unit.initialize()
    return unit


def _start(unit: ez.Unit, settings: typing.Any = None, state: typing.Any = None) -> ez.Unit:
    return asyncio.run(_astart(unit, settings, state))


async def _outputs(unit: ez.Unit, events: list[Event]) -> list[np.ndarray]:
    outs = []
    for task, msg in events:
        outs += [np.array(out.data, copy=True) async for _, out in getattr(unit, task)(msg)]
    return outs


def _check(unit: ez.Unit, got: list, want: list, n_bad: int, caplog) -> None:
    assert len(want) > 0 and len(got) == len(want)
    for g, w in zip(got, want, strict=True):  # exactly what the good messages alone give
        np.testing.assert_array_equal(g, w)
    assert unit.dropped_messages == n_bad
    lines = _warnings(caplog)
    assert len(lines) == n_bad, lines  # one line per dropped message
    for line in lines:
        assert line.startswith(f"{type(unit).__name__}: dropped a malformed message ("), line
        assert "Error: " in line and "\n" not in line, line


def _each_bad(make: typing.Callable[[], ez.Unit], good: list[Event], at: int, task: str,
              bads: typing.Iterable[typing.Callable], caplog, feed=None) -> None:
    """For each bad message: the good events with it inserted at ``at`` on ``task`` give
    exactly the good events' outputs, one WARNING line, one dropped message."""
    feed = _outputs if feed is None else feed
    want = asyncio.run(feed(make(), good))
    caplog.set_level(logging.WARNING, logger="ezmsg")
    for bad in bads:
        unit = make()
        got = asyncio.run(feed(unit, good[:at] + [(task, bad())] + good[at:]))
        _check(unit, got, want, 1, caplog)
        caplog.clear()


# ---- pairing by arrival order: Add, Difference, Concat -----------------------------------

PAIR_UNITS = {
    "add": (Add, None),
    "difference": (Difference, None),
    "concat": (Concat, ConcatSettings(axis="ch")),
}
PAIR_BAD = {**{k: BAD[k] for k in ("string", "None", "list data", "str data")},
            "other shape": lambda: chunk(1, SIGNAL[:CHUNK // 2].copy())}
"""Not an array message, or half the samples of the stream's chunks (well formed, but it
cannot be combined with its partner). Pairing by arrival order needs no time axis, and
``Add`` takes any dims: ``BAD``'s other messages are valid input there."""


@pytest.mark.parametrize("unit_name", sorted(PAIR_UNITS))
@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("bad_first", [True, False], ids=["bad-queued", "partner-queued"])
def test_pair_units_drop_a_malformed_message_on_either_input(unit_name, side, bad_first,
                                                             caplog):
    cls, settings = PAIR_UNITS[unit_name]
    other = "b" if side == "a" else "a"
    a, b = [chunk(i) for i in range(3)], [chunk(i + 5) for i in range(3)]
    good = [("on_a", a[0]), ("on_b", b[0])]
    mine, theirs = (a, b) if side == "a" else (b, a)
    for i in (1, 2):  # the message on `side` arrives before (or after) its partner
        pair = [(f"on_{side}", mine[i]), (f"on_{other}", theirs[i])]
        good += pair if bad_first else pair[::-1]
    at = 2 if bad_first else 3  # before the second pair's partner, or after it
    _each_bad(lambda: _start(cls(), settings), good, at, f"on_{side}", PAIR_BAD.values(),
              caplog)


def test_a_pair_that_cannot_be_combined_blames_the_message_that_broke_the_pattern(caplog):
    """The odd message queued first is dropped, not the good partner that meets it."""
    unit = _start(Add())
    odd = chunk(1, SIGNAL[:CHUNK, :2].copy())
    got = asyncio.run(_outputs(unit, [("on_a", chunk(0)), ("on_b", chunk(0)), ("on_a", odd),
                                      ("on_b", chunk(1)), ("on_a", chunk(1))]))
    np.testing.assert_array_equal(got[1], 2 * chunk(1).data)
    (line,) = _warnings(caplog)
    assert "data=ndarray(40, 2)" in line and "shape mismatch" in line


# ---- AlignAlongAxis ------------------------------------------------------------------------

ALIGN_BAD = {**BAD, "other rate": MALFORMED["rate too low"]}


@pytest.mark.parametrize("side", ["a", "b"])
def test_align_drops_a_malformed_message_on_either_input(side, caplog):
    settings = AlignAlongAxisSettings(overflow_strategy="raise", buffer_dur=0.5)
    good = [("on_a", chunk(0)), ("on_b", chunk(0)), ("on_a", chunk(1)), ("on_a", chunk(2)),
            ("on_b", chunk(1)), ("on_b", chunk(2))]
    at = 2 if side == "a" else 4  # while input B, then input A holds samples
    _each_bad(lambda: _start(AlignAlongAxis(), settings), good, at, f"on_{side}",
              ALIGN_BAD.values(), caplog)


def test_align_drops_a_message_that_overflows_its_buffer(caplog):
    """Under ``"raise"`` a full buffer drops the message (before: an ERROR line, not counted)."""
    unit = _start(AlignAlongAxis(), AlignAlongAxisSettings(overflow_strategy="raise",
                                                           buffer_dur=0.3))
    got = asyncio.run(_outputs(unit, [("on_a", chunk(0)), ("on_a", chunk(1))]))
    assert got == [] and unit.dropped_messages == 1
    (line,) = _warnings(caplog)
    assert "AlignAlongAxis: dropped a malformed message" in line and "OverflowError" in line


# ---- ResampleConcat --------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["on_reference", "on_signal"])
def test_resampleconcat_drops_a_malformed_message_on_either_input(task, caplog):
    settings = ResampleConcatSettings(axis="time", concat_axis="ch")
    good = []
    for i in range(4):
        good += [("on_signal", chunk(i)), ("on_reference", chunk(i, SIGNAL[:CHUNK] * 0 + i))]
    _each_bad(lambda: _start(ResampleConcat(), settings), good, 3, task, BAD.values(), caplog)


# ---- EWM ---------------------------------------------------------------------------------------

async def _ewm_outputs(unit: EWM, events: list[Event]) -> list[np.ndarray]:
    outs = []

    async def collect() -> None:
        async for _, out in unit.sync_output():
            outs.append(np.array(out.data, copy=True))

    publisher = asyncio.create_task(collect())
    for task, msg in events:
        await getattr(unit, task)(msg)
        for _ in range(4):  # let the publisher take what is queued
            await asyncio.sleep(0)
    publisher.cancel()
    return outs


@pytest.mark.parametrize("task", ["on_signal", "on_buffer"])
def test_ewm_drops_a_malformed_message_on_either_input(task, caplog):
    good = []
    for i in (2, 4, 6):
        good += [("on_signal", chunk(i)),
                 ("on_buffer", chunk(0, SIGNAL[(i - 2) * CHUNK:(i + 1) * CHUNK]))]
    make = lambda: _start(EWM(), EWMSettings(zero_offset=False), EWMState())  # noqa: E731
    # EWM needs no sampling rate; "dims" passes the arrival check, its pair fails and it is
    # the one blamed.
    bads = [f for k, f in BAD.items() if k != "no time axis"]
    _each_bad(make, good, 2, task, bads, caplog, feed=_ewm_outputs)


# ---- SeqSeqSamplerUnit -------------------------------------------------------------------------

def _seq_events() -> list[Event]:
    events: list[Event] = [("on_trigger", SampleTriggerMessage(timestamp=0.25, period=(0.0, 0.3)))]
    for i in range(3):
        events += [("on_signal", chunk(i)), ("on_value", chunk(i, SIGNAL[:CHUNK, :2] + i))]
    events.insert(4, ("on_trigger", SampleTriggerMessage(timestamp=0.3, period=(0.0, 0.2))))
    return events


SEQ_BAD = {
    "on_trigger": {"timestamp": lambda: SampleTriggerMessage(timestamp="x", period=(0.0, 0.2)),
                   "period": lambda: SampleTriggerMessage(timestamp=0.3, period=(0.0,))},
    "on_signal": BAD,
    "on_value": BAD,
}


@pytest.mark.parametrize("task", sorted(SEQ_BAD))
def test_seqseqsampler_drops_a_malformed_message_on_any_input(task, caplog):
    make = lambda: _start(SeqSeqSamplerUnit(), SeqSeqSamplerSettings(),  # noqa: E731
                          SeqSeqSamplerState())
    assert len(asyncio.run(_outputs(make(), _seq_events()))) == 2
    _each_bad(make, _seq_events(), 3, task, SEQ_BAD[task].values(), caplog)


# ---- value inputs: SignalInjector, AdaptiveStandardScaler ----------------------------------------

@pytest.mark.parametrize("task,bad", [("on_frequency", "10 Hz"), ("on_frequency", [10.0]),
                                      ("on_amplitude", None), ("on_amplitude", float("nan"))])
def test_signalinjector_drops_a_malformed_value(task, bad, caplog):
    settings = SignalInjectorSettings(frequency=10.0, amplitude=1.0, mixing_seed=3)

    async def run(values: list) -> tuple[SignalInjector, list]:
        unit = await _astart(SignalInjector(), settings)
        outs = await _outputs(unit, [("on_signal", chunk(0))])
        for v in values:
            await getattr(unit, task)(v)
        return unit, outs + await _outputs(unit, [("on_signal", chunk(1))])

    _, want = asyncio.run(run([np.float32(20.0)]))
    caplog.set_level(logging.WARNING, logger="ezmsg")
    unit, got = asyncio.run(run([np.float32(20.0), bad]))
    _check(unit, got, want, 1, caplog)
    assert not np.array_equal(want[1], asyncio.run(run([]))[1][1])  # the good value applied


def test_scaler_drops_a_malformed_accumulate_value(caplog):
    async def run(values: list) -> tuple[AdaptiveStandardScaler, list]:
        unit = await _astart(AdaptiveStandardScaler(),
                             AdaptiveStandardScalerSettings(time_constant=0.1))
        outs = await _outputs(unit, [("on_signal", chunk(0))])
        for v in values:
            await unit.on_accumulate(v)
        return unit, outs + await _outputs(unit, [("on_signal", chunk(i)) for i in (1, 2)])

    _, want = asyncio.run(run([False]))
    caplog.set_level(logging.WARNING, logger="ezmsg")
    unit, got = asyncio.run(run([False, "yes"]))
    _check(unit, got, want, 1, caplog)
    assert unit.processor.accumulate is False


def test_check_message_names_the_problem():
    from ezmsg_sigproc_units._faults import check_message
    check_message(chunk(0))
    for msg, text in ((None, "expected an AxisArray, got NoneType"),
                      (forged([1.0]), "data must be an array"),
                      (forged(np.zeros(3)), "not one distinct name per dimension")):
        with pytest.raises(TypeError, match=text):
            check_message(msg)
