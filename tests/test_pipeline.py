"""The one-Unit pipeline: the same output stream as the chain of separate Units (offline, via
their tasks, and in a real graph), one processor and state per stage, live updates of one
stage or all, and settings errors that name the field."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.core.graphserver import GraphService
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from examples.common import Watchdog, WatchdogSettings
from ezmsg_sigproc_units._pipeline_stages import resolve_unit
from ezmsg_sigproc_units.aggregate import (
    AggregationFunction,
    RangedAggregate,
    RangedAggregateSettings,
    RangedAggregateTransformer,
)
from ezmsg_sigproc_units.bandpower import BandPowerSettings
from ezmsg_sigproc_units.binned_aggregate import BinnedAggregateSettings
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilter,
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
)
from ezmsg_sigproc_units.detrend import DetrendUnit
from ezmsg_sigproc_units.ewma import EWMASettings
from ezmsg_sigproc_units.fir_hilbert import FIRHilbertFilterSettings
from ezmsg_sigproc_units.learn.process.ssr import LRRSettings
from ezmsg_sigproc_units.math.log import Log, LogSettings, LogTransformer
from ezmsg_sigproc_units.math.scale import ScaleSettings
from ezmsg_sigproc_units.pipeline import (
    Pipeline,
    PipelineSettings,
    PipelineTransformer,
    StageSettings,
    pipeline,
    pipeline_name,
)
from ezmsg_sigproc_units.sampler import SamplerSettings
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
from ezmsg_sigproc_units.spectrum import (
    SpectralTransform,
    Spectrum,
    SpectrumSettings,
    SpectrumTransformer,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_close,
    backend_partitions,
    split_message,
    time_signal,
)
from ezmsg_sigproc_units.welch import WelchSettings
from ezmsg_sigproc_units.window import Window, WindowSettings, WindowTransformer
from tests.helpers.graph import (
    ChunkSource,
    ChunkSourceSettings,
    RecordingSink,
    RecordingSinkSettings,
    Terminator,
    TerminatorSettings,
    chunk_messages,
    free_port,
    load,
)

FS = 200.0
BW = ButterworthFilterSettings(axis="time", order=4, cuton=1.0, cutoff=40.0)
SPEC = SpectrumSettings(axis="time", transform=SpectralTransform.REL_POWER)
BANDS = RangedAggregateSettings(axis="freq", bands=[(8.0, 12.0), (18.0, 30.0)],
                                operation=AggregationFunction.MEAN)
LOG = LogSettings(clip_zero=True)
UNITS = (ButterworthFilter, Window, Spectrum, RangedAggregate, Log)


def _stages(newaxis: str | None = "win") -> tuple:
    return (BW, WindowSettings(axis="time", newaxis=newaxis, window_dur=0.2, window_shift=0.1),
            SPEC, BANDS, LOG)


def _drive(units: list, chunks: list, updates: dict | None = None) -> list[AxisArray]:
    """What a chain of Units publishes (their own ``on_signal`` / ``on_settings`` tasks):
    ``updates[k]``: ``(unit index, settings message)`` pairs sent before chunk ``k``."""
    async def run() -> list[AxisArray]:
        for u in units:
            await u.initialize()
        out = []
        for k, chunk in enumerate(chunks):
            for i, msg in (updates or {}).get(k, ()):
                await units[i].on_settings(msg)
            msgs = [chunk]
            for u in units:
                msgs = [o for m in msgs async for _, o in u.on_signal(m)]
            out += msgs
        return out

    return asyncio.run(run())


def _separate(stages: tuple) -> list:
    return [unit(s) for unit, s in zip(UNITS, stages, strict=True)]


def _axis(ax) -> tuple:
    if isinstance(ax, LinearAxis):
        return ("linear", ax.gain, ax.offset, ax.unit)
    if isinstance(ax, CoordinateAxis):
        return ("coord", list(np.asarray(ax.data)), ax.unit)
    return (type(ax).__name__,)


def _assert_same_stream(got: list[AxisArray], want: list[AxisArray]) -> None:
    assert len(got) == len(want), f"{len(got)} messages, the chain of Units gives {len(want)}"
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.dims == w.dims and g.key == w.key, f"message {k}"
        assert {d: _axis(a) for d, a in g.axes.items()} == {
            d: _axis(a) for d, a in w.axes.items()}, f"message {k}"
        assert_close(g.data, w.data, err_msg=f"message {k}")


def _chunks(backend, n: int, lengths, seed: int = 0) -> list[AxisArray]:
    _, msg = time_signal(backend, (n, 3), fs=FS, seed=seed)
    return split_message(msg, lengths)


# ------------------------------------------------------ same stream as the separate Units
@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.ARRAY_API_STRICT_DEVICE1,
                                     Backend.TORCH], indirect=True, ids=lambda b: b.value)
@pytest.mark.parametrize("newaxis", ["win", None], ids=["stacked", "split-per-window"])
def test_unit_publishes_what_the_chain_of_units_publishes(backend, newaxis):
    stages = _stages(newaxis)
    for lengths in backend_partitions(backend, 150, count=2):
        chunks = _chunks(backend, 150, lengths)
        want = _drive(_separate(stages), chunks)
        got = _drive([Pipeline(PipelineSettings(stages=stages))], chunks)
        assert want, "the chain published nothing: the test would prove nothing"
        _assert_same_stream(got, want)


@pytest.mark.parametrize("stages", [
    (ScaleSettings(scale=2.0), BandPowerSettings(
        spectrogram_settings=SpectrogramSettings(window_dur=0.2, window_shift=0.1),
        bands=[(10.0, 40.0)])),
    (BinnedAggregateSettings(bin_duration=0.05), LOG),
    (WelchSettings(segment_dur=0.1, n_segments=2), ScaleSettings(scale=0.5)),
    ((DetrendUnit, EWMASettings(time_constant=0.1)), SpectrogramSettings(
        window_dur=0.1, window_shift=0.05), ScaleSettings(scale=3.0)),
    (ScaleSettings(scale=2.0), LRRSettings(), LOG),
], ids=["bandpower", "binned", "welch", "detrend-spectrogram", "decoder-signal-path"])
def test_other_families_publish_as_their_units(stages):
    chunks = _chunks(None, 200, [0, 1, 23, 0, 60, 1, 55, 60])
    units = [unit(s) for unit, s in (resolve_unit(e, "stage") for e in stages)]
    want = _drive(units, chunks)
    assert want
    _assert_same_stream(_drive([Pipeline(PipelineSettings(stages=stages))], chunks), want)


def test_offline_call_runs_the_stages_in_turn():
    stages = _stages()
    procs = [cls(s) for cls, s in zip((ButterworthFilterTransformer, WindowTransformer,
                                        SpectrumTransformer, RangedAggregateTransformer,
                                        LogTransformer), stages, strict=True)]
    pipe = pipeline(*stages)
    for chunk in _chunks(None, 200, [0, 1, 37, 0, 62, 1, 99]):
        y = procs[1](procs[0](chunk))
        want = [] if y.data.shape[0] == 0 else [procs[4](procs[3](procs[2](y)))]
        _assert_same_stream(pipe(chunk), want)


# ------------------------------------------------------------------- state per stage
def test_each_stage_has_its_own_processor_and_state():
    pipe = pipeline(BW, BW)
    p0, p1 = (s.processor for s in pipe.stages)
    assert p0 is not p1
    first, second = ButterworthFilterTransformer(BW), ButterworthFilterTransformer(BW)
    other = pipeline(BW, BW)  # a second pipeline, interleaved with the first
    for a, b in zip(_chunks(None, 120, [40, 1, 0, 79]),
                    _chunks(None, 120, [60, 0, 1, 59], seed=1), strict=True):
        _assert_same_stream(pipe(a), [second(first(a))])
        other(b)
    assert set(pipe.state) == {"0:ButterworthFilter", "1:ButterworthFilter"}


# ------------------------------------------------------------------------ live updates
def test_stage_update_changes_only_that_stage():
    pipe = pipeline(*_stages())
    chunks = _chunks(None, 300, [10] * 30)
    for c in chunks[:12]:
        pipe(c)
    before = pipe.stages
    scale = ScaleSettings(scale=2.0)
    pipe.update_settings(StageSettings(4, scale))  # Log -> Scale: a new stage
    pipe.update_settings(StageSettings(0, ButterworthFilterSettings(
        axis="time", order=4, cuton=1.0, cutoff=30.0)))  # same Unit: updated in place
    after = pipe.stages
    assert [s.processor for s in after[:4]] == [s.processor for s in before[:4]]
    assert after[4].processor is not before[4].processor and after[4].name == "Scale"
    assert pipe.settings.stages[4] is scale and after[0].processor.settings.cutoff == 30.0
    window_state = after[1].processor.state
    pipe(chunks[12])
    assert after[1].processor.state is window_state  # the window kept its buffer
    with pytest.raises(ValueError, match="index"):
        pipe.update_settings(StageSettings(5, LOG))
    with pytest.raises(ValueError, match=r"stages\[2\]"):
        pipe.update_settings(StageSettings(2, SamplerSettings(buffer_dur=1.0)))
    assert pipe.stages == after and pipe.settings.stages[4] is scale


def test_unit_updates_live_as_the_separate_units_would(caplog):
    stages, chunks = _stages(), _chunks(None, 400, [10] * 40)
    new_bw = ButterworthFilterSettings(axis="time", order=2, cuton=2.0, cutoff=30.0)
    new_log = LogSettings(base=2.0, clip_zero=True)
    want = _drive(_separate(stages), chunks, {10: [(4, new_log)], 25: [(0, new_bw)]})
    full = PipelineSettings(stages=(new_bw, *stages[1:4], new_log))
    rejected = [StageSettings(7, LOG), StageSettings(1, SamplerSettings(buffer_dur=1.0)),
                "not settings"]
    pipe = Pipeline(PipelineSettings(stages=stages))
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        got = _drive([pipe], chunks, {10: [(0, StageSettings(4, new_log))],
                                      18: [(0, m) for m in rejected], 25: [(0, full)]})
    _assert_same_stream(got, want)
    assert pipe.SETTINGS == full
    lines = [r.getMessage() for r in caplog.records if "settings" in r.getMessage()]
    assert len(lines) == len(rejected), lines


def test_malformed_message_is_dropped_and_the_stream_goes_on(caplog):
    stages, chunks = _stages(), _chunks(None, 300, [10] * 30)
    bad = AxisArray(np.full((10, 3), "x"), dims=["time", "ch"],  # text: no stage takes it
                    axes={"time": AxisArray.TimeAxis(fs=FS, offset=1.5)})
    stream = chunks[:15] + ["not a message", bad] + chunks[15:]
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        want = _drive(_separate(stages), stream)
        caplog.clear()
        got = _drive([Pipeline(PipelineSettings(stages=stages))], stream)
    _assert_same_stream(got, want)
    assert len(got) == len(_drive(_separate(stages), chunks))  # nothing of the two published
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 2


# ------------------------------------------------------------------- settings errors
class _NotOurs(ez.Settings):
    x: int = 0


@pytest.mark.parametrize("stages, match", [
    ((), r"^stages:"),
    ("nope", r"^stages:"),
    ((_NotOurs(),), r"^stages\[0\]: no Unit of ours takes _NotOurs"),
    ((BW, "text"), r"^stages\[1\]: a stage is a settings instance"),
    ((BW, FIRHilbertFilterSettings()), r"^stages\[1\]: .*FIRHilbertEnvelopeUnit"),
    ((SamplerSettings(buffer_dur=1.0),), r"^stages\[0\]: Sampler has streams or tasks"),
    (((Window, LOG),), r"^stages\[0\]: Window takes WindowSettings"),
    (((int, LOG),), r"^stages\[0\]: .* is not one of our transformer Units"),
], ids=["empty", "not-a-tuple", "unknown", "not-settings", "ambiguous", "own-streams",
        "wrong-settings", "not-a-unit"])
def test_invalid_stages_name_the_field(stages, match):
    with pytest.raises(ValueError, match=match):
        PipelineSettings(stages=stages)


def test_unit_named_explicitly_and_names_for_mermaid():
    s = PipelineSettings(stages=[(DetrendUnit, EWMASettings(time_constant=0.5)), LOG])
    assert isinstance(s.stages, tuple)
    assert [st.name for st in PipelineTransformer(s).stages] == ["DetrendUnit", "Log"]
    assert pipeline_name(s) == "PIPELINE__DetrendUnit__Log"


# ----------------------------------------------------------------------- a real graph
class MermaidProbeSettings(ez.Settings):
    address: tuple
    path: str


class MermaidProbe(ez.Unit):
    """Writes what ``ezmsg mermaid`` (plain and compact) prints for the running graph."""

    SETTINGS = MermaidProbeSettings

    @ez.task
    async def probe(self) -> None:
        service = GraphService(self.SETTINGS.address)
        text = "\n%%\n".join([await service.get_formatted_graph("mermaid"),
                              await service.get_formatted_graph("mermaid", compact_level=1)])
        tmp = self.SETTINGS.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.SETTINGS.path)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_graph_pipeline_equals_the_chain_of_units_and_shows_in_mermaid(tmp_path):
    stages, src = _stages(), ChunkSourceSettings(fs=FS)
    offline_pipe = pipeline(*stages)
    offline = [m for c in chunk_messages(src) for m in offline_pipe(c)]
    n_win = sum(m.data.shape[0] for m in offline)
    record, graph = str(tmp_path / "rec.pkl"), str(tmp_path / "mermaid.txt")
    settings = PipelineSettings(stages=stages)
    name = pipeline_name(settings)
    chain = dict(zip(("FILTER", "WINDOW", "SPECTRUM", "BANDS", "LOG"), _separate(stages),
                     strict=True))
    addr = ("127.0.0.1", free_port())
    comps = {"SRC": ChunkSource(src), **chain, name: Pipeline(settings),
             "SINK": RecordingSink(RecordingSinkSettings(
                 path=record, expect={0: ("win", n_win, len(offline)),
                                      1: ("win", n_win, len(offline))})),
             "PROBE": MermaidProbe(MermaidProbeSettings(address=addr, path=graph)),
             "TERMINATOR": Terminator(TerminatorSettings(paths=(record, graph))),
             "WATCHDOG": Watchdog(WatchdogSettings(seconds=30.0))}
    order = ["SRC", *chain]
    conns = [(comps[a].OUTPUT_SIGNAL, comps[b].INPUT_SIGNAL)
             for a, b in zip(order[:-1], order[1:], strict=True)]
    conns.append((comps["LOG"].OUTPUT_SIGNAL, comps["SINK"].INPUT_0))
    conns += [(comps["SRC"].OUTPUT_SIGNAL, comps[name].INPUT_SIGNAL),
              (comps[name].OUTPUT_SIGNAL, comps["SINK"].INPUT_1)]
    ez.run(components=comps, connections=conns, root_name=f"pipe_{uuid.uuid4().hex[:8]}",
           graph_address=addr, auto_start=True)

    got = load(record)
    units, piped = got[0], got[1]
    assert len(units) == len(piped) == len(offline)
    for k, (u, p) in enumerate(zip(units, piped, strict=True)):
        assert (p.dims, p.key, p.dtype) == (u.dims, u.key, u.dtype), f"message {k}"
        assert p.axes.keys() == u.axes.keys(), f"message {k}"
        for d, ax in u.axes.items():
            assert repr(p.axes[d]) == repr(ax), f"message {k}, axis {d}"
        np.testing.assert_array_equal(p.data, u.data, err_msg=f"message {k}")
        np.testing.assert_array_equal(p.data, np.asarray(offline[k].data))
    plain, compact = open(graph).read().split("\n%%\n")
    assert plain.count(f"[{name}]") == 1 and compact.count(f"[{name}]") == 1, plain
    for unit in ("FILTER", "WINDOW", "SPECTRUM", "BANDS", "LOG"):  # the chain: one entry each
        assert compact.count(f"[{unit}]") == 1, compact
