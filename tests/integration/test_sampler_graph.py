"""The Sampler in a real graph: data from a source in the main process, triggers from a
source in another process (``process_components``), epochs to a recording sink. However the
two streams interleave on the way, the epochs are those of offline sampling. The same source
feeds a BinnedAggregate (its Unit publishes only messages that close a bin), and the
TriggerGenerator runs on ezmsg-baseproc's Clock."""

from __future__ import annotations

import os
import pickle
from typing import Any

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.baseproc import Clock, ClockSettings

from ezmsg_sigproc_units.aggregate import AggregationFunction
from ezmsg_sigproc_units.binned_aggregate import (
    BinnedAggregate,
    BinnedAggregateSettings,
    BinnedAggregateTransformer,
)
from ezmsg_sigproc_units.sampler import (
    Sampler,
    SamplerSettings,
    SamplerTransformer,
    TriggerGenerator,
    TriggerGeneratorSettings,
)
from ezmsg_sigproc_units.util.message import SampleTriggerMessage
from tests.helpers.graph import (
    N_SAMPLES,
    ChunkSource,
    ChunkSourceSettings,
    RecordingSink,
    RecordingSinkSettings,
    chunk_messages,
    concat,
    load,
    run_graph,
    whole_message,
)

SETTINGS = SamplerSettings(buffer_dur=4.0, period=(-0.2, 0.15))  # the whole 3 s signal
TRIGGER_TIMES = (0.25, 0.9, 1.3, 2.0, 2.7)
BINNED = BinnedAggregateSettings(bin_duration=0.0375,
                                 operation=(AggregationFunction.MIN, AggregationFunction.MAX))


class TriggerSource(ez.Unit):
    """Publishes ``TRIGGER_TIMES`` as triggers (value = index), then idles."""

    OUTPUT_TRIGGER = ez.OutputStream(SampleTriggerMessage)

    @ez.publisher(OUTPUT_TRIGGER)
    async def send(self) -> Any:
        for i, t in enumerate(TRIGGER_TIMES):
            yield self.OUTPUT_TRIGGER, SampleTriggerMessage(timestamp=t, value=i)
        raise ez.Complete


class RemoteTriggers(ez.Collection):
    """The trigger source, in its own process."""

    OUTPUT_TRIGGER = ez.OutputTopic(SampleTriggerMessage)
    SOURCE = TriggerSource()

    def network(self) -> Any:
        return ((self.SOURCE.OUTPUT_TRIGGER, self.OUTPUT_TRIGGER),)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sampler_epochs_in_a_graph_with_remote_triggers(tmp_path):
    proc = SamplerTransformer(SETTINGS)
    proc(whole_message())
    offline = {}
    for t in TRIGGER_TIMES:
        (e,) = proc(SampleTriggerMessage(timestamp=t))
        offline[round(e.axes["time"].offset, 9)] = np.asarray(e.data)
    n_epoch = sum(v.shape[0] for v in offline.values())
    binned = BinnedAggregateTransformer(BINNED)
    outs = [binned(m) for m in chunk_messages(ChunkSourceSettings())]
    bins = np.concatenate([np.asarray(o.data) for o in outs])
    n_published = sum(o.data.shape[0] > 0 for o in outs)

    path = tmp_path / "epochs.pkl"
    remote = RemoteTriggers()
    comps: dict[str, Any] = {
        "SRC": ChunkSource(ChunkSourceSettings()),
        "SAMPLER": Sampler(SETTINGS),
        "TRIGGERS": remote,
        "BINNED": BinnedAggregate(BINNED),
        "SINK": RecordingSink(RecordingSinkSettings(
            path=str(path), expect={0: ("time", n_epoch, len(TRIGGER_TIMES)),
                                    1: ("time", bins.shape[0], n_published)})),
    }
    conns = ((comps["SRC"].OUTPUT_SIGNAL, comps["SAMPLER"].INPUT_SIGNAL),
             (comps["SRC"].OUTPUT_SIGNAL, comps["BINNED"].INPUT_SIGNAL),
             (comps["BINNED"].OUTPUT_SIGNAL, comps["SINK"].INPUT_1),
             (remote.OUTPUT_TRIGGER, comps["SAMPLER"].INPUT_TRIGGER),
             (comps["SAMPLER"].OUTPUT_SIGNAL, comps["SINK"].INPUT_0))
    run_graph("sampler_graph", comps, conns, [path], deadline=30.0,
              process_components=[remote])
    got_bins = load(path)[1]
    assert len(got_bins) == n_published  # no empty message was published
    np.testing.assert_array_equal(concat(got_bins, "time"), bins)
    assert got_bins[0].dims == ["time", "ch", "metric"]
    recs = load(path)[0]
    assert len(recs) == len(TRIGGER_TIMES)
    got = {}
    for r in recs:
        kind, gain, offset = r.axes["time"]
        assert kind == "linear" and gain == pytest.approx(1 / 200.0)
        assert r.dims == ["time", "ch"] and r.key == "src"
        got[round(offset, 9)] = r.data
    assert sorted(got) == sorted(offline)
    for k, ref in offline.items():
        np.testing.assert_array_equal(got[k], ref)
    assert N_SAMPLES == 600


class TriggerSinkSettings(ez.Settings):
    path: str
    count: int


class TriggerSinkState(ez.State):
    got: list


class TriggerSink(ez.Unit):
    """Writes the first ``count`` triggers it receives to ``path``."""

    SETTINGS = TriggerSinkSettings
    STATE = TriggerSinkState
    INPUT_TRIGGER = ez.InputStream(SampleTriggerMessage)

    async def initialize(self) -> None:
        self.STATE.got = []

    @ez.subscriber(INPUT_TRIGGER)
    async def on_trigger(self, msg: SampleTriggerMessage) -> None:
        self.STATE.got.append(msg)
        if len(self.STATE.got) == self.SETTINGS.count:
            tmp = self.SETTINGS.path + ".tmp"
            with open(tmp, "wb") as f:
                pickle.dump(self.STATE.got, f)
            os.replace(tmp, self.SETTINGS.path)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_trigger_generator_runs_on_the_clock(tmp_path):
    path = tmp_path / "triggers.pkl"
    comps: dict[str, Any] = {
        "CLOCK": Clock(ClockSettings(dispatch_rate=50.0)),
        "TRIGGERS": TriggerGenerator(TriggerGeneratorSettings(period=(-0.1, 0.0), prewait=0.1,
                                                              publish_period=0.1)),
        "SINK": TriggerSink(TriggerSinkSettings(path=str(path), count=4)),
    }
    conns = ((comps["CLOCK"].OUTPUT_SIGNAL, comps["TRIGGERS"].INPUT_CLOCK),
             (comps["TRIGGERS"].OUTPUT_SIGNAL, comps["SINK"].INPUT_TRIGGER))
    run_graph("trigger_clock", comps, conns, [path], deadline=20.0)
    got = pickle.loads(path.read_bytes())
    assert [t.value for t in got] == [0, 1, 2, 3]
    np.testing.assert_allclose(np.diff([t.timestamp for t in got]), 0.1, atol=1e-9)
    assert all(t.period == (-0.1, 0.0) for t in got)
