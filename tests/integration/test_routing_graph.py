"""Two-input routing Units in a real graph (one ``ez.run``, two processes): input B comes from
a source in another process (``process_components``), input A from this one.

* ``Merge`` (a Collection: ``AlignAlongAxis`` then ``Concat``) gets B in different chunk sizes
  than A: the merged stream is the two whole signals side by side, on A's time axis.
* ``Concat`` gets both inputs in the same chunks: every published message is the pair.
"""

from __future__ import annotations

import ezmsg.core as ez
import numpy as np
import pytest

from ezmsg_sigproc_units.concat import Concat, ConcatSettings
from ezmsg_sigproc_units.merge import Merge, MergeSettings
from tests.helpers.graph import (
    LENGTHS,
    N_SAMPLES,
    ChunkSource,
    ChunkSourceSettings,
    RecordingSink,
    RecordingSinkSettings,
    concat,
    concat_axis,
    load,
    make_signal,
    run_graph,
)

SRC_A = ChunkSourceSettings(seed=0, key="a", dtype="float32")
SRC_B_MERGE = ChunkSourceSettings(lengths=tuple(reversed(LENGTHS)), seed=1, key="b",
                                  dtype="float32")
SRC_B_CONCAT = ChunkSourceSettings(seed=1, key="b", dtype="float32")
N_CH = 4


class Remote(ez.Collection):
    """The B sources, in their own process."""

    SRC_MERGE = ChunkSource(SRC_B_MERGE)
    SRC_CONCAT = ChunkSource(SRC_B_CONCAT)

    def network(self):
        return ()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_merge_and_concat_across_processes(tmp_path):
    path = tmp_path / "routing.pkl"
    n_msgs = sum(1 for n in LENGTHS if n)
    remote = Remote()
    comps = {
        "SRC_A": ChunkSource(SRC_A),
        "REMOTE": remote,
        "MERGE": Merge(MergeSettings()),
        "CONCAT": Concat(ConcatSettings()),
        "SINK": RecordingSink(RecordingSinkSettings(
            path=str(path), expect={0: ("time", N_SAMPLES, 1),
                                    1: ("time", N_SAMPLES, n_msgs)})),
    }
    conns = [
        (comps["SRC_A"].OUTPUT_SIGNAL, comps["MERGE"].INPUT_SIGNAL_A),
        (remote.SRC_MERGE.OUTPUT_SIGNAL, comps["MERGE"].INPUT_SIGNAL_B),
        (comps["SRC_A"].OUTPUT_SIGNAL, comps["CONCAT"].INPUT_SIGNAL_A),
        (remote.SRC_CONCAT.OUTPUT_SIGNAL, comps["CONCAT"].INPUT_SIGNAL_B),
        (comps["MERGE"].OUTPUT_SIGNAL, comps["SINK"].INPUT_0),
        (comps["CONCAT"].OUTPUT_SIGNAL, comps["SINK"].INPUT_1),
    ]
    run_graph("routing", comps, conns, [path], deadline=60.0, process_components=[remote])
    got = load(path)
    whole = np.concatenate([make_signal(seed=0), make_signal(seed=1)], axis=1)
    labels = [f"ch{i}_a" for i in range(N_CH)] + [f"ch{i}_b" for i in range(N_CH)]
    for i in (0, 1):
        recs = got[i]
        np.testing.assert_allclose(concat(recs, "time"), whole.astype("float32"), rtol=0)
        np.testing.assert_allclose(concat_axis(recs, "time"), np.arange(N_SAMPLES) / 200.0,
                                   atol=1e-9)
        assert all(r.key == "a" for r in recs)
        assert list(recs[-1].axes["ch"][1]) == labels
