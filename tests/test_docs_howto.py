"""The how-to and explanation pages stay true to the code: their Python blocks run and print
what the pages show, every ``ezmsg`` / ``ezmsg-sigproc-units`` command they show parses with
today's command lines, and every source file, test and dotted module they name exists."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

import pytest

from tests.helpers.doc_code import ROOT, python_blocks, run_blocks, shown_output

DOCS = ROOT / "docs"
PAGES = sorted([*(DOCS / "howto").glob("*.md"), *(DOCS / "explanations").glob("*.md")])
RUNNABLE = [p for p in PAGES if any(b.runnable for b in python_blocks(p))]


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(DOCS)) for p in paths]


def test_pages_found() -> None:
    names = set(_ids(PAGES))
    assert {"howto/cli-workflow.md", "howto/chunk-sizes-threads.md", "howto/gpu.md",
            "explanations/architecture.md", "explanations/streaming-exactness.md",
            "explanations/state-space-iir.md", "explanations/backend-rules.md"} <= names


# Pages whose printed numbers depend on the BLAS build (rounding errors): the page asserts
# the bounds that matter inside its code instead of its text showing them exactly.
NUMERIC_OUTPUT = {"explanations/state-space-iir.md"}


@pytest.mark.parametrize("page", RUNNABLE, ids=_ids(RUNNABLE))
def test_python_blocks_run_and_print_what_the_page_shows(page: Path) -> None:
    ns = None
    for block in python_blocks(page):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ns = run_blocks([block], namespace=ns)
        shown = shown_output(block)
        if block.runnable and "print(" in block.code and _ids([page])[0] not in NUMERIC_OUTPUT:
            assert shown is not None, f"{page.name} block {block.number}: no output shown"
            assert out.getvalue().strip() == shown.strip(), (
                f"{page.name} block {block.number}: shows {shown!r}, prints {out.getvalue()!r}")


# ------------------------------------------------------------------------------ commands
def _command_lines(page: Path, program: str) -> list[list[str]]:
    """Every command line of ``program`` the page shows: lines of its ``console``/``bash``
    blocks (a ``$ `` prompt and ``VAR=value`` prefixes dropped) and inline code spans, as argv
    after the program name. ``$ADDR`` stands for a HOST:PORT; a command whose words include a
    placeholder in capitals (``NAME``) is a template and is left out."""
    lines, fence, spans = [], None, []
    for line in page.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*(`{3,}|~{3,})\s*(\S*)", line)
        if m:
            fence = None if fence else m.group(2).lower()
            continue
        if fence in ("console", "bash", "sh", "shell"):
            lines.append(line.strip().removeprefix("$ "))
        elif fence is None:
            spans += re.findall(r"`([^`]+)`", line)
    found = []
    for cmd in lines + spans:
        if not re.search(rf"(^|\s){re.escape(program)}(\s|$)", cmd):
            continue
        words = shlex.split(cmd.split(" #")[0].replace('"$ADDR"', "$ADDR"), posix=True)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words.pop(0)
        if not words or words[0] != program:
            continue
        argv = [w.replace("$ADDR", "127.0.0.1:39451") for w in words[1:]]
        argv = argv[: argv.index("&")] if "&" in argv else argv
        if argv and not any(re.fullmatch(r"[A-Z][A-Z_]+", w) for w in argv):
            found.append(argv)
    return found


def _check(parser: argparse.ArgumentParser, argv: list[str], page: Path) -> argparse.Namespace:
    """Parse ``argv`` (a bare subcommand named in prose: only that it exists)."""
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert argv[0] in sub.choices, f"{page.name}: unknown command {argv}"
    if len(argv) == 1:
        return argparse.Namespace()
    try:
        return parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"{page.name}: the command line {argv} does not parse")


def test_ezmsg_commands_parse() -> None:
    """``ezmsg start|serve|mermaid|graphviz|inspect|shutdown ...`` as the pages show them."""
    from ezmsg.core.command import build_parser

    seen = set()
    for page in PAGES:
        for argv in _command_lines(page, "ezmsg"):
            _check(build_parser(), argv, page)
            seen.add(argv[0])
    assert {"start", "mermaid", "shutdown", "graphviz", "inspect"} <= seen


def test_our_commands_parse_and_name_real_examples() -> None:
    from ezmsg_sigproc_units import cli

    seen = 0
    for page in PAGES:
        for argv in _command_lines(page, "ezmsg-sigproc-units"):
            args = _check(cli.build_parser(), argv, page)
            if argv[0] in ("run", "graph") and len(argv) > 1:
                assert args.example in cli.example_names(), argv
            seen += 1
    assert seen >= 3


# ------------------------------------------------------------------------------- names
_PATH = re.compile(r"`((?:[\w.-]+/)*[\w-]+\.py)(?:::(\w+))?`")
_MODULE = re.compile(r"`((?:ezmsg_sigproc_units|examples|benchmarks)(?:\.\w+)+)`")
_BASES = (ROOT, ROOT / "ezmsg_sigproc_units", ROOT / "ezmsg_sigproc_units" / "_kernels")


def test_named_files_tests_and_modules_exist() -> None:
    missing = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for rel, test in _PATH.findall(text):
            hits = [b / rel for b in _BASES if (b / rel).is_file()]
            if not hits:
                missing.append(f"{page.name}: {rel}")
            elif test and not any(re.search(rf"def {test}\(", h.read_text()) for h in hits):
                missing.append(f"{page.name}: {rel}::{test}")
        for name in _MODULE.findall(text):
            if not _resolves(name):
                missing.append(f"{page.name}: {name}")
    assert not missing, missing


def _resolves(name: str) -> bool:
    """Whether ``name`` is a module, or a module's attribute path (``pkg.mod.Class.attr``)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        module = ".".join(parts[:k])
        try:
            if importlib.util.find_spec(module) is None:
                continue
        except ModuleNotFoundError:  # a submodule of a module that is not a package
            continue
        obj = importlib.import_module(module)
        for attr in parts[k:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False
