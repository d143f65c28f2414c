"""The online-LDA example system as a real ezmsg graph (unthrottled, under a deadline): the
decoder trains from the cued epochs while it runs and its running accuracy climbs well above
chance."""

from __future__ import annotations

import json
import uuid

import ezmsg.core as ez
import pytest

from examples.common import Watchdog, WatchdogSettings
from examples.online_lda import OnlineLDASystem, OnlineLDASystemSettings
from ezmsg_sigproc_units.testing.graph import free_port


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_online_lda_learns_while_it_runs(tmp_path, backend):
    pytest.importorskip(backend)
    record = tmp_path / "lda.json"
    system = OnlineLDASystem(OnlineLDASystemSettings(
        seconds=40.0, realtime=False, quiet=True, record=str(record), backend=backend))
    ez.run(components={"SYSTEM": system, "WATCHDOG": Watchdog(WatchdogSettings(seconds=60.0))},
           root_name=f"test_lda_{uuid.uuid4().hex[:8]}",
           graph_address=("127.0.0.1", free_port()), auto_start=True)
    rec = json.loads(record.read_text())
    assert rec["done"], rec  # 40 s of band power arrived (not the watchdog)
    lat = rec["latency"]  # sink arrival - the tick of the newest block (s), never negative
    assert lat["n"] == rec["messages"] and 0.0 <= lat["min"] <= lat["mean"] <= lat["max"], lat
    assert rec["backend"] == backend and rec["dims"] == ["time", "freq", "ch"], rec
    # ~19 cues x 8 windows; the decoder predicts only once it has trained on a cue
    assert rec["scored"] >= 60, rec
    assert rec["correct"] / rec["scored"] >= 0.75, rec  # chance: 0.5
    assert rec["recent_accuracy"] >= 0.8, rec
