"""The default example system, run as a real ezmsg graph under a deadline."""

from __future__ import annotations

import json
import socket
import sys
import uuid
from pathlib import Path

import ezmsg.core as ez
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # examples/ lives at the repository root, outside the package
    sys.path.insert(0, str(ROOT))

from examples.common import Watchdog, WatchdogSettings  # noqa: E402
from examples.default import N_CH, DefaultSettings, DefaultSystem  # noqa: E402

SECONDS = 1.0
FS = 1000.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path: Path, backend: str) -> dict:
    record = tmp_path / f"{backend}.json"
    system = DefaultSystem(DefaultSettings(seconds=SECONDS, backend=backend, record=str(record),
                                           quiet=True))
    ez.run(
        components={"SYSTEM": system, "WATCHDOG": Watchdog(WatchdogSettings(seconds=20.0))},
        root_name=f"test_default_{uuid.uuid4().hex[:8]}",
        graph_address=("127.0.0.1", _free_port()),
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
