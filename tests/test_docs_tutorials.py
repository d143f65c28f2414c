"""The tutorials (docs/tutorials/*.md) run as written: every runnable ```python block of each
page, in order, in one namespace (tests/helpers/doc_code.py), and what they print is what
the pages show where it is deterministic.

Offline blocks run in process. A page's graph (its ``ez.run(...)`` block) runs on a private
graph server under a watchdog (``private_ez_run``) and ends by itself (its sink raises
``NormalTermination``); the watchdog only bounds a hang.
"""

from __future__ import annotations

import re
import traceback

import pytest

from examples.common import Watchdog, WatchdogSettings
from ezmsg_sigproc_units.testing import Backend
from tests.helpers.doc_code import (
    ROOT,
    CodeBlock,
    private_ez_run,
    python_blocks,
    run_blocks,
    shown_output,
)

TUTORIALS = ROOT / "docs" / "tutorials"
PAGES = ("bandpower-bci", "backends", "custom-processor", "migrating")


def _blocks(page: str) -> list[CodeBlock]:
    return python_blocks(TUTORIALS / f"{page}.md")


def _offline(page: str) -> list[CodeBlock]:
    """The page's blocks that run no graph (none of them needs a graph block's names)."""
    return [b for b in _blocks(page) if "ez.run(" not in b.code]


def _graph_block(page: str) -> CodeBlock:
    graphs = [b for b in _blocks(page) if b.runnable and "ez.run(" in b.code]
    assert len(graphs) == 1, f"{page}: expected one graph block, got {len(graphs)}"
    return graphs[0]


def _run_graph(blocks: list[CodeBlock], deadline: float = 30.0) -> tuple[dict, list[dict]]:
    """Run ``blocks`` (the last one runs the graph) with ``ez.run`` on a private server and
    a watchdog; returns the namespace and the calls ``ez.run`` got."""
    with private_ez_run({"DOG": Watchdog(WatchdogSettings(seconds=deadline))}) as calls:
        ns = run_blocks(blocks)
    assert len(calls) == 1, calls
    return ns, calls


def _shown(page: str, block: CodeBlock) -> str:
    text = shown_output(block)
    assert text is not None, f"{page}: no output shown after block {block.number}"
    return text


def _assert_shown(out: str, page: str, blocks: list[CodeBlock]) -> None:
    """Each printing block's shown output (the ```text block after it) is in ``out``."""
    for block in blocks:
        if block.runnable and "print(" in block.code:
            shown = _shown(page, block).strip()
            assert shown in out, f"{page} block {block.number}: shown {shown!r}, printed {out!r}"


# ---- the runner itself ----------------------------------------------------------------

PAGE = """# A page

```python
a = 1
```

```python skip
raise SystemExit("a skipped block must not run")
```

~~~py
b = a + 1
~~~

```text
not python
```

  ```python
  c = b * 10
  raise ValueError(c)
  ```
"""


def test_doc_code_runs_blocks_in_order_in_one_namespace(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    blocks = python_blocks(page)
    assert [(b.number, b.line, b.runnable) for b in blocks] == [
        (1, 4, True), (2, 8, False), (3, 12, True), (4, 20, True)]
    assert [shown_output(b) for b in blocks] == [None, None, "not python\n", None]
    ns = run_blocks(blocks[:3])
    assert (ns["a"], ns["b"]) == (1, 2)
    with pytest.raises(ValueError, match="20") as info:
        run_blocks(blocks[3:], namespace=ns)
    # the traceback names the page and the block, at the page's line, with its source
    text = "".join(traceback.format_exception(info.value))
    assert f'File "{page} [block 4]", line 21' in text
    assert "raise ValueError(c)" in text


def test_every_tutorial_is_indexed_and_checked():
    index = (TUTORIALS / "index.md").read_text()
    toctree = re.search(r"```\{toctree\}\n(.*?)```", index, re.S).group(1)
    listed = [ln.strip() for ln in toctree.splitlines() if ln.strip() and ":" not in ln]
    on_disk = sorted(p.stem for p in TUTORIALS.glob("*.md") if p.stem != "index")
    assert sorted(listed) == on_disk == sorted(PAGES)


# ---- offline parts, in process --------------------------------------------------------

def test_bandpower_bci_offline(capsys):
    ns = run_blocks(_offline("bandpower-bci"))
    out = capsys.readouterr().out
    assert ns["epochs"] >= 12 and ns["scored"] >= 60
    assert ns["correct"] / ns["scored"] >= 0.9  # chance: 0.5
    _assert_shown(out, "bandpower-bci", _offline("bandpower-bci"))


def test_backends_offline_every_installed_backend_agrees(capsys):
    ns = run_blocks(_offline("backends"))
    out = capsys.readouterr().out
    assert ns["installed"][0] == "numpy" and len(ns["installed"]) >= 2
    for backend in ns["installed"]:
        line = next(ln for ln in out.splitlines() if ln.startswith(f"{backend} "))
        err = float(re.search(r"max \|diff\| vs numpy (\S+)", line).group(1))
        assert err < 1e-5, line  # float32 features of order 1
    assert "cupy: " in out and "torch-cuda: " in out  # ran, or said why it skipped
    if "torch" in ns["installed"]:  # the blocks that move a stream to torch
        _assert_shown(out, "backends", [b for b in _offline("backends")
                                        if 'if "torch" in installed' in b.code])


def test_custom_processor_offline(capsys):
    run_blocks(_offline("custom-processor"))
    out = capsys.readouterr().out
    assert "0.381966 0.381966 (expected 0.381966)" in out
    ran = [b.value for b in Backend if f"{b.value}: ok" in out]
    assert "numpy" in ran and "strict-device1" in ran


def test_custom_processor_tests_catch_a_forgotten_state_and_device():
    """The page's kit-based tests fail for the bugs they are there to catch."""
    ns = run_blocks(_offline("custom-processor")[:-1])  # all but the loop over backends
    real_tkeo, real_create = ns["tkeo"], ns["xp_create"]

    def stateless(xp, x, prev, axis):  # forgets the previous message's samples
        return real_tkeo(xp, x, prev * 0, axis)

    ns["tkeo"] = stateless
    with pytest.raises(AssertionError):
        ns["test_tkeo_any_chunking_matches_reference"](Backend.NUMPY)
    ns["tkeo"] = real_tkeo

    def without_device(fn, *args, dtype=None, device=None, **kw):  # the classic GPU bug
        return real_create(fn, *args, dtype=dtype, **kw)

    ns["xp_create"] = without_device
    with pytest.raises(Exception):  # noqa: B017 - strict raises its own device error
        ns["test_tkeo_any_chunking_matches_reference"](Backend.ARRAY_API_STRICT_DEVICE1)


def test_migrating_offline(capsys):
    run_blocks(_offline("migrating"))
    assert capsys.readouterr().out == _shown("migrating", _blocks("migrating")[-1])


# ---- graphs -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(90)
def test_bandpower_bci_graph(capfd):
    _, calls = _run_graph(_blocks("bandpower-bci"))
    out = capfd.readouterr().out
    line = next(ln for ln in out.splitlines() if re.match(r"\d+ windows; ", ln))
    windows, correct, scored = map(int, re.findall(r"\d+", line))
    assert windows == 200, line  # 20 s of signal: the Scorer ended the run, not the watchdog
    assert scored >= 20 and correct / scored >= 0.8, line


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_backends_graph(capfd):
    pytest.importorskip("torch")
    first, graph = _blocks("backends")[0], _graph_block("backends")
    assert "installed =" in first.code  # all the graph needs from the page's offline part
    ns, _ = _run_graph([first, graph])
    assert ns["BACKEND"] == "torch"
    # the Report sink ended the run (not the watchdog) after 30 windows computed on torch
    assert _shown("backends", graph) in capfd.readouterr().out


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_custom_processor_graph(capfd):
    blocks = _blocks("custom-processor")
    graph = _graph_block("custom-processor")
    _run_graph([b for b in blocks if b.number <= graph.number])
    assert _shown("custom-processor", graph) in capfd.readouterr().out


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_migrating_graph(capfd):
    graph = _graph_block("migrating")
    _run_graph([graph])
    assert _shown("migrating", graph) in capfd.readouterr().out
