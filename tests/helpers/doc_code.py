"""Run the Python code of a Markdown page, the way a reader would: every fenced ```` ```python ````
block in page order, all in one namespace (a later block sees the names an earlier one made).

Convention for code that must not run (a peer library's code, a snippet needing a GPU the
test machine lacks, a shell session shown as Python): add the word ``skip`` to the fence's info
string, i.e. open the block with ```` ```python skip ````. MyST renders it exactly like
```` ```python ```` (words after the language are ignored for plain fences), so readers see no
difference. Only fences whose language is ``python`` (or ``py``) are considered; ``console``,
``text``, ``bash`` ... blocks are never run.

Errors name the page and the block: the code is compiled under the filename
``"<page> [block N]"`` with its line numbers equal to the page's, and that source is registered
with ``linecache``, so a traceback shows ``File "docs/tutorials/x.md [block 3]", line 57`` and
the offending line itself. Blocks are numbered from 1 among the page's Python blocks (skipped
ones included, so the numbers do not shift when a block is marked ``skip``).

Typical use::

    from tests.helpers.doc_code import python_blocks, run_blocks

    ns = run_blocks("docs/tutorials/backends.md")          # every runnable block
    blocks = python_blocks("docs/getting-started.md")       # or pick and choose
    run_blocks(blocks[:2], namespace=ns)

``shown_output(block)`` is the ```` ```text ```` block a page shows after a code block (what it
prints), for tests that compare.

For pages whose code calls ``ez.run(...)``, ``private_ez_run()`` makes those calls use a
private graph server on a free port and a unique root name, so the page's code can stay
exactly what a reader would type.
"""

from __future__ import annotations

import contextlib
import linecache
import re
import sys
import types
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# An opening fence of 3+ backticks or tildes (indented up to 3 spaces), then its info string.
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")
SKIP_WORD = "skip"
PYTHON_NAMES = ("python", "py", "python3")


@dataclass(frozen=True)
class CodeBlock:
    """One ```` ```python ```` block of a page."""

    page: str
    """The page's path relative to the repository root when it lies inside it."""
    number: int
    """1-based position among the page's Python blocks (skipped ones count)."""
    line: int
    """1-based line of the page where the code starts (the line after the opening fence)."""
    code: str
    runnable: bool
    """False when the fence's info string carries the word ``skip``."""

    @property
    def filename(self) -> str:
        return f"{self.page} [block {self.number}]"

    def compile(self):
        """The block as a code object whose line numbers are the page's."""
        source = "\n" * (self.line - 1) + self.code
        lines = source.splitlines(keepends=True)
        linecache.cache[self.filename] = (len(source), None, lines, self.filename)
        return compile(source, self.filename, "exec")


def _page_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def python_blocks(page: str | Path) -> list[CodeBlock]:
    """The page's fenced Python blocks in order. ``page`` is a path (relative paths are taken
    from the repository root)."""
    path = Path(page)
    if not path.is_absolute():
        path = ROOT / path
    name = _page_name(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        words = m["info"].split()
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if words and words[0].lower() in PYTHON_NAMES:
            # CommonMark: a fence indented by n spaces strips up to n from each content line
            body = [ln[min(indent, len(ln) - len(ln.lstrip(" "))):] for ln in lines[i + 1:j]]
            blocks.append(CodeBlock(page=name, number=len(blocks) + 1, line=i + 2,
                                    code="\n".join(body) + "\n",
                                    runnable=SKIP_WORD not in words[1:]))
        i = j + 1
    return blocks


def shown_output(block: CodeBlock) -> str | None:
    """The output the page shows for ``block``: the first ```` ```text ```` block after it
    and before the next Python block, or None when there is none."""
    path = Path(block.page)
    lines = (path if path.is_absolute() else ROOT / path).read_text(encoding="utf-8")
    lines = lines.splitlines()
    after = "\n".join(lines[block.line - 1 + block.code.count("\n"):])  # from its closing fence
    after = re.split(r"\n {0,3}(?:```|~~~)\s*(?:python|py)\b", after)[0]
    m = re.search(r"```text\n(.*?)```", after, re.S)
    return None if m is None else m.group(1)


def page_module(name: str) -> dict:
    """A fresh, empty module registered in ``sys.modules`` under ``name``, as a namespace.
    Code that looks up its defining module (dataclasses, hence ``ez.Settings``; pickle)
    needs a real module, which a plain dict passed to ``exec`` is not."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module.__dict__


def run_blocks(blocks: str | Path | Iterable[CodeBlock], namespace: dict | None = None
               ) -> dict:
    """Run the runnable blocks (a page's, or the given ones) in order in one namespace and
    return it. The namespace starts as ``namespace`` or, by default, a fresh module
    (``page_module``) named after the page, e.g. ``docpage_tutorials_backends``, whose
    ``__name__`` is not ``"__main__"`` (``if __name__ == "__main__":`` guards do not fire).
    Pass the returned dict back to continue where an earlier call stopped."""
    if isinstance(blocks, (str, Path)):
        blocks = python_blocks(blocks)
    blocks = list(blocks)
    if namespace is None:
        stem = Path(blocks[0].page).with_suffix("").as_posix() if blocks else "empty"
        namespace = page_module("docpage_" + re.sub(r"\W", "_", stem.removeprefix("docs/")))
    for block in blocks:
        if block.runnable:
            exec(block.compile(), namespace)  # noqa: S102 - running documentation is the point
    return namespace


@contextlib.contextmanager
def private_ez_run(extra_components: dict | None = None) -> Iterator[list[dict]]:
    """While active, ``ez.run(...)`` (looked up as ``ezmsg.core.run`` at call time, which is
    how ``import ezmsg.core as ez`` code calls it) runs on a private graph server
    (``graph_address=("127.0.0.1", <free port>)``, ``auto_start=True``) under a unique
    ``root_name``, unless the call gives those itself. ``extra_components`` (e.g. a
    ``Watchdog`` as a deadline) join every call's components, whether the page passed them as
    ``components={...}`` or as keyword arguments (``ez.run(DEMO=Demo())``). Yields the list
    of the keyword arguments each call got, for the test to inspect."""
    import inspect

    import ezmsg.core as ez

    from ezmsg_sigproc_units.testing.graph import free_port

    real_run = ez.run
    named = {p.name for p in inspect.signature(real_run).parameters.values()
             if p.kind is not inspect.Parameter.VAR_KEYWORD}
    calls: list[dict] = []

    def run(components=None, **kwargs):
        comps = dict(components or {})
        comps.update({k: kwargs.pop(k) for k in list(kwargs) if k not in named})
        comps.update(extra_components or {})
        kwargs.setdefault("graph_address", ("127.0.0.1", free_port()))
        kwargs.setdefault("auto_start", True)
        kwargs.setdefault("root_name", f"doc_{uuid.uuid4().hex[:8]}")
        calls.append({"components": comps, **kwargs})
        return real_run(components=comps, **kwargs)

    ez.run = run
    try:
        yield calls
    finally:
        ez.run = real_run
