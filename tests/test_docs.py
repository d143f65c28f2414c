"""The documentation site: it builds with warnings as errors (``make docs``), its API reference
covers every public module, its figures come from scripts that cannot fail silently, and the
code of the getting-started page runs as written."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.doc_code import private_ez_run, python_blocks, run_blocks

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "ezmsg_sigproc_units"
GETTING_STARTED = DOCS / "getting-started.md"
# The build takes about 20 s of CPU; the deadline leaves room for a machine busy with other
# test workers (the first test to use the ``site`` fixture pays for the build).
BUILD_TIMEOUT = 300


def _load_extension(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_ext_{name}", DOCS / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_site(out: Path) -> tuple[subprocess.CompletedProcess, Path, str]:
    """The whole site built as ``make docs`` does (``-W --keep-going``) into ``out``."""
    warnings = out / "warnings.txt"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(out / "doctrees"), "-w", str(warnings), str(DOCS), str(out / "html")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT)
    text = warnings.read_text() if warnings.exists() else ""
    return proc, out / "html", text


def _public_modules() -> list[str]:
    """Every module whose dotted path has no component starting with an underscore."""
    names = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(p.startswith("_") for p in parts):
            names.append(".".join(parts))
    return sorted(names)


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


# One test builds the site and checks it, each check as a subtest: a module-scoped fixture
# shared by several tests would be built once per xdist worker that runs one of them
# (pytest-xdist spreads tests over workers; nothing pins them together).
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_site_builds_warning_free_with_api_reference_and_figures(tmp_path, subtests):
    proc, html, warnings = _build_site(tmp_path)
    assert warnings.strip() == "", f"the docs build warned:\n{warnings}"
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout}\n{proc.stderr}"
    assert (html / "index.html").is_file()
    api = html / "_generated" / "api"

    with subtests.test("every public module has its API page"):
        modules = _public_modules()
        assert {"ezmsg_sigproc_units.learn.process.ssr", "ezmsg_sigproc_units.math.clip",
                "ezmsg_sigproc_units.synth.eeg", "ezmsg_sigproc_units.util.array",
                "ezmsg_sigproc_units.testing"} <= set(modules)
        # the module's own anchor: automodule imported it and documented it on its page
        missing = [name for name in modules if not (api / f"{name}.html").is_file()
                   or f'id="module-{name}"' not in _text(api / f"{name}.html")]
        assert not missing, f"public modules without an API page: {missing}"
        index = _text(api / "index.html")
        assert all(f"{name}.html" in index for name in modules)
        assert not list(api.glob("*._*.html")), "a private module is in the reference"

    with subtests.test("settings fields render as written"):
        # a colon in a field docstring's first line is not a "type: description" split, and
        # re-exports of other libraries are left to them
        text = re.sub(r"<[^>]+>", "", _text(api / "ezmsg_sigproc_units.butterworthfilter.html"))
        assert "Filter order (per edge: a band-pass or band-stop has" in text
        assert "ButterworthFilterSettings" in text and "butter_design_fun" in text
        message = _text(api / "ezmsg_sigproc_units.util.message.html")
        assert 'id="ezmsg_sigproc_units.util.message.with_fingerprint"' in message
        assert 'id="ezmsg_sigproc_units.util.message.SampleMessage"' not in message

    with subtests.test("pages show the generated figures"):
        pages = {"filtering.html": ("filters_butterworth.png", "filters_chebyshev.png",
                                    "filters_comb.png"),
                 "producers.html": ("eeg_spectrogram.png",)}
        for page, figures in pages.items():
            text = _text(html / page)
            for figure in figures:
                assert re.search(rf'<img [^>]*src="_images/{re.escape(figure)}"', text), (
                    page, figure)
                assert (html / "_images" / figure).stat().st_size > 10_000, figure


def test_a_failing_figure_script_fails_the_build(tmp_path):
    """Scripts run in name order; one that raises, has no make() or writes nothing stops the
    build with an error naming it, instead of leaving a page without its figure."""
    from sphinx.errors import ExtensionError

    figures = _load_extension("figures")
    (tmp_path / "figures").mkdir()
    good = tmp_path / "figures" / "a_good.py"
    good.write_text("def make(outdir):\n    (outdir / 'a.png').write_bytes(b'png')\n")
    (tmp_path / "figures" / "_helper.py").write_text("raise RuntimeError('not a script')\n")
    assert figures.build_all(tmp_path) == [good]
    assert (tmp_path / "_generated" / "figures" / "a.png").read_bytes() == b"png"

    cases = {
        "b_raises.py": "def make(outdir):\n    raise ValueError('no data')\n",
        "b_no_make.py": "X = 1\n",
        "b_writes_nothing.py": "def make(outdir):\n    pass\n",
    }
    for name, code in cases.items():
        bad = tmp_path / "figures" / name
        bad.write_text(code)
        with pytest.raises(ExtensionError, match=re.escape(name)):
            figures.build_all(tmp_path)
        bad.unlink()


def test_api_generator_lists_new_modules_without_editing_docs(tmp_path):
    """A module added to the package gets a page; a private one does not; a removed one's page
    goes away."""
    apiref = _load_extension("apiref")
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "_private").mkdir()
    for rel in ("__init__.py", "alpha.py", "_hidden.py", "sub/__init__.py", "sub/beta.py",
                "_private/gamma.py"):
        (pkg / rel).write_text('"""doc"""\n')
    (pkg / "sub" / "beta.py").write_text('"""Beta: one\n  paragraph.\n\nNot this one."""\nx = 1\n')
    names = apiref.public_modules(pkg)
    p = apiref.PACKAGE
    assert names == [p, f"{p}.alpha", f"{p}.sub", f"{p}.sub.beta"]
    assert apiref.module_summary(f"{p}.sub.beta", pkg) == "Beta: one paragraph."
    assert apiref.module_summary(f"{p}.sub", pkg) == "doc"

    generated = apiref.generate(tmp_path / "src")
    assert generated == _public_modules()  # the real package: every public module, no other
    out = tmp_path / "src" / apiref.OUT
    stale = out / "ezmsg_sigproc_units.gone.rst"
    stale.write_text("old")
    apiref.generate(tmp_path / "src")
    assert not stale.exists()
    assert sorted(f.stem for f in out.glob("ezmsg_*.rst")) == generated
    assert ".. automodule:: ezmsg_sigproc_units.diff" in (
        out / "ezmsg_sigproc_units.diff.rst").read_text()
    summary = apiref.module_summary("ezmsg_sigproc_units.diff")
    assert summary and f":doc:`ezmsg_sigproc_units.diff` -- {summary}" in (
        out / "index.rst").read_text()


# ---- getting started -------------------------------------------------------------------------

def _graph_block(block) -> bool:
    return "ez.run(" in block.code


def _page_outputs() -> str:
    """The text blocks of the page (where it shows what the code prints)."""
    return GETTING_STARTED.read_text(encoding="utf-8")


def test_getting_started_offline_code_runs_and_prints_what_the_page_shows():
    blocks = [b for b in python_blocks(GETTING_STARTED) if not _graph_block(b)]
    assert len(blocks) >= 3
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        ns = run_blocks(blocks)
    # streaming in two pieces equals one call; the 40 Hz channel is filtered out
    np.testing.assert_allclose(ns["pieces"], ns["out"].data, rtol=0, atol=1e-12)
    rms = np.sqrt((ns["out"].data[500:] ** 2).mean(axis=0))
    assert abs(rms[0] - np.sqrt(0.5)) < 0.01 and rms[1] < 0.05, rms
    import torch

    assert isinstance(ns["out_torch"].data, torch.Tensor)
    assert ns["out_torch"].data.dtype == torch.float32
    # every printed line is on the page, except the rounding-level differences
    page = _page_outputs()
    lines = [ln for ln in printed.getvalue().splitlines() if ln.strip()]
    assert len(lines) >= 5
    for line in lines:
        if "difference" not in line:
            assert line in page, f"the page does not show the printed line {line!r}"


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_getting_started_graph_runs_and_stops_by_itself(capfd):
    from examples.common import Watchdog, WatchdogSettings

    blocks = [b for b in python_blocks(GETTING_STARTED) if _graph_block(b)]
    assert len(blocks) == 1
    with private_ez_run({"WATCHDOG": Watchdog(WatchdogSettings(seconds=30.0))}) as calls:
        run_blocks(blocks)
    assert len(calls) == 1
    out = capfd.readouterr().out
    # the page's own sink printed its line (the watchdog did not end the run)
    m = re.search(r"40 messages; RMS per channel after the filter: ([\d.]+), ([\d.]+)", out)
    assert m, out
    assert abs(float(m[1]) - np.sqrt(0.5)) < 0.01 and float(m[2]) < 0.05, m[0]
    assert m[0] in _page_outputs()
