"""The band-power example system, run as a real ezmsg graph under a deadline."""

from __future__ import annotations

import json
import uuid

import ezmsg.core as ez
import pytest

from examples.bandpower import BandPowerSystem, BandPowerSystemSettings
from examples.common import Watchdog, WatchdogSettings
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
