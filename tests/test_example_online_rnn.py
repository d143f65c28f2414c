"""The online-RNN example system as a real ezmsg graph (unthrottled, under a deadline): the
GRU decoder trains from the cued epochs while it runs and its running loss falls well below
chance."""

from __future__ import annotations

import json
import math
import uuid

import ezmsg.core as ez
import pytest

from examples.common import Watchdog, WatchdogSettings
from ezmsg_sigproc_units.testing.graph import free_port

pytest.importorskip("torch")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_online_rnn_loss_falls_while_it_runs(tmp_path):
    from examples.online_rnn import OnlineRNNSystem, OnlineRNNSystemSettings

    record = tmp_path / "rnn.json"
    system = OnlineRNNSystem(OnlineRNNSystemSettings(
        seconds=40.0, realtime=False, quiet=True, record=str(record)))
    ez.run(components={"SYSTEM": system, "WATCHDOG": Watchdog(WatchdogSettings(seconds=60.0))},
           root_name=f"test_rnn_{uuid.uuid4().hex[:8]}",
           graph_address=("127.0.0.1", free_port()), auto_start=True)
    rec = json.loads(record.read_text())
    assert rec["done"], rec  # 40 s of band power arrived (not the watchdog)
    lat = rec["latency"]  # sink arrival - the tick of the newest block (s), never negative
    assert lat["n"] == rec["messages"] and 0.0 <= lat["min"] <= lat["mean"] <= lat["max"], lat
    losses = rec["losses"]
    assert len(losses) >= 15, rec  # one per cue whose epoch completed
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.5 * math.log(2) and last < 0.5 * first, losses  # chance: log 2
