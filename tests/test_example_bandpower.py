"""The band-power example system, run as a real ezmsg graph under a deadline, and where its
progress line's latency is measured from."""

from __future__ import annotations

import json
import uuid

import ezmsg.core as ez
import pytest
from ezmsg.util.messages.axisarray import LinearAxis

from examples.bandpower import BandPowerSystem, BandPowerSystemSettings
from examples.common import Watchdog, WatchdogSettings, block_latency
from ezmsg_sigproc_units.bandpower import BandPowerTransformer
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilterTransformer
from ezmsg_sigproc_units.math.log import LogTransformer
from ezmsg_sigproc_units.synth import EEGSynthProducer
from ezmsg_sigproc_units.testing.graph import free_port


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_bandpower_system_runs_to_completion(tmp_path):
    record = tmp_path / "bp.json"
    system = BandPowerSystem(BandPowerSystemSettings(seconds=1.0, quiet=True, record=str(record)))
    ez.run(components={"SYSTEM": system, "WATCHDOG": Watchdog(WatchdogSettings(seconds=20.0))},
           root_name=f"test_bp_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    rec = json.loads(record.read_text())
    assert rec["samples"] >= 10, rec  # windows: 1 s of signal at a 0.1 s hop
    assert rec["dims"] == ["time", "freq", "ch"] and rec["shape"][1:] == [2, 4], rec
    assert rec["dtype"] == "float32" and rec["backend"] == "numpy"
    lat = rec["latency"]  # sink arrival - the tick of the newest block (s), never negative
    assert lat["n"] == rec["messages"] and 0.0 <= lat["min"] <= lat["mean"] <= lat["max"], lat


def test_a_window_carries_the_tick_of_the_block_that_completed_it():
    """The progress line's latency of a windowed output is measured from the tick of the
    newest block in the window (the one that completed it), not from the window's first
    sample 0.5 s earlier, so it reads like an unwindowed chain's."""
    system = BandPowerSystem(BandPowerSystemSettings())
    system.configure()
    eeg = EEGSynthProducer(system.EEG.SETTINGS)
    chain = (ButterworthFilterTransformer(system.FILTER.SETTINGS),
             BandPowerTransformer(system.BANDS.SETTINGS), LogTransformer(system.LOG.SETTINGS))
    windows = 0
    for k in range(12):  # 10 ticks/s, one block (one hop) each; the first window needs 5
        tick = LinearAxis(gain=0.1, offset=1000.0 + 0.1 * k)
        msg = eeg(tick)
        for stage in chain:
            msg = stage(msg)
        if msg.data.shape[0]:
            windows += 1
            assert msg.attrs["tick"] == tick.offset
            assert block_latency(msg, tick.offset + 0.002) == pytest.approx(0.002)
    assert windows >= 7
