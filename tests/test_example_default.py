"""The default example system, run as a real ezmsg graph under a deadline."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import ezmsg.core as ez
import pytest

from examples.common import Watchdog, WatchdogSettings
from examples.default import N_CH, DefaultSettings, DefaultSystem
from ezmsg_sigproc_units.testing.graph import free_port

SECONDS = 1.0
FS = 1000.0


def _run(tmp_path: Path, backend: str) -> dict:
    record = tmp_path / f"{backend}.json"
    system = DefaultSystem(DefaultSettings(seconds=SECONDS, backend=backend, record=str(record),
                                           quiet=True))
    ez.run(
        components={"SYSTEM": system, "WATCHDOG": Watchdog(WatchdogSettings(seconds=20.0))},
        root_name=f"test_default_{uuid.uuid4().hex[:8]}",
        graph_address=("127.0.0.1", free_port()),
        auto_start=True,
    )
    assert record.exists(), "the sink never wrote its record (no data reached it?)"
    return json.loads(record.read_text())


@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_default_system_runs_to_completion(tmp_path, backend):
    if backend != "numpy":
        pytest.importorskip(backend)
    rec = _run(tmp_path, backend)
    # The sink stops the run after SECONDS of signal; the watchdog (20 s) must not be what
    # ended it, so at least the full amount arrived.
    assert rec["samples"] >= SECONDS * FS, rec
    assert rec["messages"] >= rec["samples"] // 10
    assert rec["backend"] == backend, "data stayed on the sources' backend end to end"
    assert rec["dtype"] == "float32"
    assert rec["dims"] == ["time", "ch"] and rec["shape"] == [10, N_CH]
    # Add -> Scale(0.5) -> Abs -> Clip(0, 0.5): the last block lies in [0, 0.5]
    assert 0.0 <= rec["min"] <= rec["mean"] <= rec["max"] <= 0.5, rec
    lat = rec["latency"]  # sink arrival - the tick of the newest block (s), never negative
    assert lat["n"] == rec["messages"] and 0.0 <= lat["min"] <= lat["mean"] <= lat["max"], lat
