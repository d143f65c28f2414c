"""The ``ezmsg-sigproc-units`` command: list and describe the Units, run and draw the examples.

    ezmsg-sigproc-units list                      every Unit, its description and settings
    ezmsg-sigproc-units describe ButterworthFilter
    ezmsg-sigproc-units examples                  the example systems and their settings
    ezmsg-sigproc-units run default --seconds 2 --backend torch --set n_ch=4
    ezmsg-sigproc-units graph bandpower           Mermaid text of an example, not run

Also ``python -m ezmsg_sigproc_units.cli``. Exit codes: 0 success; 1 a run that ended before
its signal time (watchdog deadline, an error); 2 bad usage (unknown unit, example, setting or
backend; the message names the valid choices); 130 a run stopped with Ctrl-C. The examples
live in the source checkout's top-level ``examples`` package, which is not part of the wheel;
``run NAME ...`` is that example's ``main`` (``python -m examples.NAME ...``).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
import types
from collections import defaultdict
from pathlib import Path

import ezmsg.core as ez

from ._cli_units import (
    IMPORT_FAILURES,
    PACKAGE,
    UsageError,
    default_text,
    describe_line,
    discover_units,
    field_docs,
    find_unit,
    first_paragraph,
    settings_of,
    type_text,
)


def _cmd_list(args: argparse.Namespace) -> int:
    units = discover_units()
    width = max(map(len, units))
    for name, unit in units.items():
        fields = ", ".join(f.name for f in dataclasses.fields(settings_of(unit))) or "-"
        line = describe_line(unit)
        if len(line) > args.width:
            line = line[: args.width - 3].rstrip() + "..."
        print(f"{name:<{width}}  {line}\n{'':<{width}}  settings: {fields}"
              if args.long else f"{name:<{width}}  {line}  [{fields}]")
    return 1 if IMPORT_FAILURES else 0


def _cmd_describe(args: argparse.Namespace) -> int:
    name, unit = find_unit(args.unit)
    settings = settings_of(unit)
    print(f"{name}  ({unit.__module__}.{unit.__name__})")
    print(f"  {describe_line(unit)}\n")
    streams = [f"{k} ({'in' if isinstance(s, ez.InputStream) else 'out'})"
               for k, s in getattr(unit, "__streams__", {}).items()]
    print(f"streams: {', '.join(streams)}")
    fields = dataclasses.fields(settings)
    print(f"settings: {settings.__module__}.{settings.__qualname__}"
          + ("" if fields else " (no fields)"))
    docs = field_docs(settings)
    for f in fields:
        print(f"\n  {f.name}: {type_text(f.type)} = {default_text(f)}")
        for line in (docs.get(f.name) or "(undocumented)").splitlines():
            print(f"      {line}".rstrip())
    return 0


# ---- Examples ----------------------------------------------------------------------------------

def repo_root() -> Path:
    """The source checkout the package is installed from (editable install)."""
    return Path(importlib.import_module(PACKAGE).__file__).resolve().parents[1]


def example_names() -> list[str]:
    d = repo_root() / "examples"
    if not (d / "__init__.py").is_file():
        raise UsageError(
            f"no examples found: {d} is not a package. The examples ship with the source "
            "checkout, not the wheel: clone the repository and `pip install -e .` (or `make "
            "run`) there.")
    return sorted(m.name for m in pkgutil.iter_modules([str(d)])
                  if not m.name.startswith("_") and m.name != "common")


def load_example(name: str) -> types.ModuleType:
    """Import ``examples.NAME`` from this checkout (``SYSTEM``, ``SETTINGS``, ``main``)."""
    names = example_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        raise UsageError(f"unknown example {name!r}; "
                         + (f"did you mean {', '.join(close)}? " if close else "")
                         + f"choose one of: {', '.join(names)}")
    root = repo_root()
    if str(root) not in sys.path:
        sys.path.append(str(root))  # processes started by spawn import the examples by name
    pkg = sys.modules.get("examples")
    if pkg is None:
        spec = importlib.util.spec_from_file_location(
            "examples", root / "examples" / "__init__.py",
            submodule_search_locations=[str(root / "examples")])
        pkg = importlib.util.module_from_spec(spec)
        sys.modules["examples"] = pkg
        spec.loader.exec_module(pkg)
    if Path(pkg.__file__).resolve().parent != root / "examples":
        raise UsageError(f"another 'examples' package ({pkg.__file__}) shadows {root}/examples")
    module = importlib.import_module(f"examples.{name}")
    missing = [a for a in ("SYSTEM", "SETTINGS", "main") if not hasattr(module, a)]
    if missing:
        raise UsageError(f"examples/{name}.py lacks {', '.join(missing)} (see examples/common.py)")
    return module


def mermaid(connections: list[tuple[str, str]], compact: int = 0) -> str:
    """``flowchart LR`` with one subgraph per component and a node per connected stream, as
    ``ezmsg mermaid`` prints a live graph, but with node ids made from the stream addresses
    (``DEFAULT__CLOCK__OUTPUT_SIGNAL``) so the text is stable."""
    graph: defaultdict[str, set[str]] = defaultdict(set)
    for a, b in connections:
        graph[a].add(b)
        graph[b]  # noqa: B018 - a node even when nothing leaves it
    if compact:
        from ezmsg.core.graph_util import get_compactified_graph, prune_graph_connections

        graph = get_compactified_graph(prune_graph_connections(graph)[0], compact)
    tree: dict = {}
    for node in list(graph):
        sub = tree
        for seg in node.split("/"):
            sub = sub.setdefault(seg, {})
        sub[""] = node  # the leaf marker: this path is a node

    def ident(path: str, prefix: str = "") -> str:
        return prefix + re.sub(r"\W", "_", path.replace("/", "__"))

    lines = ["flowchart LR"]

    def emit(sub: dict, path: str, depth: int) -> None:
        for key, child in sub.items():
            if key == "":
                continue
            full = f"{path}/{key}" if path else key
            pad = "  " * depth
            if set(child) - {""}:
                lines.append(f"{pad}subgraph {ident(full, 'sg_').lower()} [{key}]")
                if "" in child:
                    lines.append(f"{pad}  {ident(full)}[{key}]")
                emit(child, full, depth + 1)
                lines.append(f"{pad}end")
            else:
                lines.append(f"{pad}{ident(full)}[{key}]")

    emit(tree, "", 1)
    lines += [f"  {ident(a)} --> {ident(b)}" for a, targets in graph.items()
              for b in sorted(targets)]
    return "\n".join(lines)


def _cmd_examples(args: argparse.Namespace) -> int:
    for name in example_names():
        module = load_example(name)
        print(f"{name}: {first_paragraph(module.__doc__)}")
        for f in dataclasses.fields(module.SETTINGS):
            print(f"    {f.name}: {type_text(f.type)} = {default_text(f)}")
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    module = load_example(args.example)
    common = importlib.import_module("examples.common")
    try:  # ezmsg's own set-up code gives the edges; nothing runs
        system = module.SYSTEM(common.make_settings(module.SETTINGS, args.set))
        edges = common.connections(system, args.example.upper())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(mermaid(edges, args.compact))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    module = load_example(args.example)
    common = importlib.import_module("examples.common")
    return common.example_main(module.SYSTEM, module.SETTINGS, args.example, args.options,
                               prog=f"ezmsg-sigproc-units run {args.example}")


# ---- Command line ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ezmsg-sigproc-units", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    q = sub.add_parser("list", help="every Unit with a one-line description and its settings")
    q.add_argument("--long", action="store_true", help="settings on a line of their own")
    q.add_argument("--width", type=int, default=80, help="cut descriptions to this width (80)")
    q.set_defaults(func=_cmd_list)
    q = sub.add_parser("describe", help="a Unit's streams and settings: type, default, doc")
    q.add_argument("unit", help="e.g. ButterworthFilter or butterworthfilter.ButterworthFilter")
    q.set_defaults(func=_cmd_describe)
    q = sub.add_parser("examples", help="the example systems and their settings")
    q.set_defaults(func=_cmd_examples)
    q = sub.add_parser("graph", help="an example's graph as Mermaid text (nothing runs)")
    q.add_argument("example", help="an example name (`examples` lists them)")
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set a field of the example's settings (repeatable)")
    q.add_argument("-c", "--compact", action="count", default=0,
                   help="one node per unit (-c), as `ezmsg mermaid -c`")
    q.set_defaults(func=_cmd_graph)
    q = sub.add_parser("run", help="run an example for a bounded time, printing progress",
                       description="Run an example until its sink has --seconds of signal. "
                       "`run NAME --help` lists the options.")
    q.add_argument("example", help="an example name (`examples` lists them)")
    q.add_argument("options", nargs=argparse.REMAINDER, help="--seconds S, --backend B, "
                   "--device D, --quiet, --set KEY=VALUE, --deadline S, --address HOST:PORT")
    q.set_defaults(func=_cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except UsageError as exc:
        print(f"ezmsg-sigproc-units: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BrokenPipeError:  # `... | head`: the reader left; stop writing quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
