"""The README's code runs as written."""

from __future__ import annotations

import logging
import socket
import uuid
from pathlib import Path

import pytest

from tests.helpers.doc_code import python_blocks

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = [b.code for b in python_blocks(ROOT / "README.md")]


def test_readme_has_the_two_examples():
    assert len(BLOCKS) == 2
    assert (ROOT / "README.md").read_text().index("make run") < (ROOT / "README.md").read_text(
    ).index("make test")


def test_offline_example(capsys):
    pytest.importorskip("torch")
    exec(compile(BLOCKS[0], "README offline example", "exec"), {})
    assert "torch.Tensor" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_graph_example():
    pytest.importorskip("torch")
    from examples.common import Watchdog, WatchdogSettings

    code, run_line = BLOCKS[1].rstrip().rsplit("\n", 1)
    assert run_line.startswith("ez.run(DEMO=Demo())")
    ns: dict = {}
    exec(compile(code, "README graph example", "exec"), ns)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen: list[str] = []  # DebugLog logs through ezmsg's logger; its stream differs per runner

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger, handler = ns["ez"].logger, Collect(logging.INFO)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        ns["ez"].run(components={"DEMO": ns["Demo"](),
                                 "DOG": Watchdog(WatchdogSettings(seconds=1.5))},
                     root_name=f"readme_{uuid.uuid4().hex[:8]}",
                     graph_address=("127.0.0.1", port), auto_start=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert any("AxisArray" in m for m in seen), "DebugLog logged no message"
