"""The examples' statistics sink keeps its run record current, so a run stopped uncleanly
(Ctrl-C while ezmsg cancels tasks, shutdown() never called) still reports its counts."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from examples.common import StatsSink, StatsSinkSettings


def _block(i: int) -> AxisArray:
    return AxisArray(np.zeros((10, 2), dtype=np.float32), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=100.0, offset=i * 0.1)},
                     attrs={"tick": 0.0})


def test_record_is_kept_current_and_marked_final_only_at_the_end(tmp_path):
    record = tmp_path / "record.json"
    sink = StatsSink(StatsSinkSettings(seconds=100.0, quiet=True, period=0.0,
                                       record=str(record)))
    sink._instantiate_state()  # what ezmsg does when the Unit starts

    async def run() -> None:
        for i in range(3):
            await sink.on_signal(_block(i))

    asyncio.run(run())
    rec = json.loads(record.read_text())  # written at each progress line, before any shutdown
    assert rec["messages"] == 3 and rec["samples"] == 30
    assert rec["final"] is False and rec["done"] is False
    asyncio.run(sink.shutdown())
    rec = json.loads(record.read_text())
    assert rec["messages"] == 3 and rec["final"] is True
    assert not (tmp_path / "record.json.tmp").exists()
