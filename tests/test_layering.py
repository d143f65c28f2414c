"""The import rules of ARCHITECTURE.md, enforced by scanning every module's AST."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "ezmsg_sigproc_units"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
BACKEND_LIBS = {"torch", "cupy", "cupyx", "jax", "jaxlib", "mlx", "array_api_strict"}


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(absolute module name, at module level?) for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    rel_parts = path.relative_to(PKG.parent).with_suffix("").parts
    package = rel_parts if path.name == "__init__.py" else rel_parts[:-1]
    if path.name == "__init__.py":
        package = rel_parts[:-1]
    top_level = {id(n) for n in tree.body}
    # statements inside module-level if/try blocks still run at import time
    for node in tree.body:
        if isinstance(node, (ast.If, ast.Try)):
            for sub in ast.walk(node):
                top_level.add(id(sub))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            out.append((name, id(node) in top_level))
    return out


def _layer(path: Path) -> str:
    rel = path.relative_to(PKG).parts
    if rel[0] in ("_backend", "_kernels", "testing", "util", "synth"):
        return rel[0]
    if rel[0] == "cli.py":
        return "cli"
    return "public"


def _root(name: str) -> str:
    return name.split(".")[0]


def _internal(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "ezmsg_sigproc_units" and len(parts) > 1 else None


MODULES = _modules()

_TORCH_FAMILY = {"learn." + m for m in json.loads(
    (Path(__file__).parent / "data" / "peer_api_learn.json").read_text())["torch_modules"]}


def _hosts_torch(path: Path) -> bool:
    """ezmsg-learn's torch-hosting modules (and private helpers under ``learn`` named
    ``_torch*``): torch is their compute library by nature, an optional extra."""
    rel = path.relative_to(PKG).with_suffix("")
    dotted = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
    return dotted in _TORCH_FAMILY or (rel.parts[0] == "learn" and rel.name.startswith("_torch"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PKG)) for p in MODULES])
def test_import_rules(path: Path) -> None:
    layer = _layer(path)
    for name, at_top in _imports(path):
        root, internal = _root(name), _internal(name)
        where = f"{path.relative_to(PKG)} imports {name}"
        assert internal != "cli" and root != "examples", f"{where}: nothing imports cli/examples"
        if layer == "_backend":
            if at_top:
                assert root in STDLIB | {"numpy", "array_api_compat"} or internal == "_backend", (
                    f"{where} at module level: _backend imports only stdlib, numpy, "
                    "array_api_compat"
                )
            else:
                assert root in STDLIB | {"numpy", "scipy", "array_api_compat"} | BACKEND_LIBS or (
                    internal == "_backend"
                ), where
        elif layer == "_kernels":
            assert root in STDLIB | {"numpy", "scipy"} or internal in ("_backend", "_kernels"), (
                f"{where}: kernels import only stdlib, _backend, other kernels, numpy/scipy"
            )
            if root == "scipy":
                assert not at_top, f"{where}: import scipy lazily (import cost)"
        elif layer == "testing":
            if root == "pytest":
                assert path.name == "plugin.py", f"{where}: only the plugin imports pytest"
            assert root not in BACKEND_LIBS or not at_top, f"{where}: import backends lazily"
        else:  # public processor modules, util, synth, cli
            if root == "torch" and _hosts_torch(path):
                continue
            assert root not in BACKEND_LIBS, f"{where}: public modules never name a backend"
            assert internal != "testing", f"{where}: the package does not import its test kit"
            if root == "scipy":
                assert not at_top, f"{where}: import scipy lazily, when state is designed"


def test_scan_sees_modules() -> None:
    """Guard: the scan must actually find the package (a silent empty scan proves nothing)."""
    assert len(MODULES) > 10
    assert any(n == "array_api_compat" for n, _ in _imports(PKG / "_backend" / "namespace.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_helper(name: str) -> bool:
    """A private module of the processor layer (``_messages``, ``_validate``, ...) or a
    lower layer: what public processor modules build on."""
    return any(part.startswith("_") and part != "__init__" for part in name.split(".")[1:])


def _from_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) for every ``from X import a, b`` in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((name, [a.name for a in node.names]))
    return out


def _import_graph() -> dict[str, set[str]]:
    """Module-level imports between package modules (``from . import x`` counts as ``.x``)."""
    known = {_module_name(p) for p in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        edges = set()
        for name, at_top in _imports(path):
            if at_top and name in known:
                edges.add(name)
        for name, names in _from_imports(path):
            edges |= {f"{name}.{n}" for n in names if f"{name}.{n}" in known}
        me = _module_name(path)
        # a package's __init__ importing its own submodules is not a cycle with them
        graph[me] = {e for e in edges if e != me and not me.startswith(e + ".")}
    return graph


def test_no_import_cycles() -> None:
    graph = _import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles between package modules: {cycles}"


def test_cycle_check_sees_edges() -> None:
    """Guard: the graph must hold real edges, or the cycle test proves nothing."""
    graph = _import_graph()
    assert "ezmsg_sigproc_units._messages" in graph["ezmsg_sigproc_units.diff"]
    assert "ezmsg_sigproc_units._kernels.difference" in graph["ezmsg_sigproc_units.diff"]


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PKG)) for p in MODULES])
def test_layers_point_down(path: Path) -> None:
    """Helpers (private modules, kernels, backend) never import public processor modules;
    a public module takes from another public module only what that module offers users
    (its processors, settings, units, design functions), never a private name or a
    validator: shared helpers live in a lower layer (``_validate``, ``_messages``, ...)."""
    me = _module_name(path)
    if _layer(path) in ("testing", "cli") or me.endswith("._cli_units"):
        return
    for name, names in _from_imports(path):
        if _internal(name) is None or _is_helper(name) or name == "ezmsg_sigproc_units":
            continue
        where = f"{path.relative_to(PKG)} imports {names} from {name}"
        assert not _is_helper(me) or me.endswith("__init__"), (
            f"{where}: a helper module must not depend on a public processor module")
        bad = [n for n in names if n.startswith("_") or n.startswith("check_")
               or (n.isupper() and len(n) > 1)]
        assert not bad, f"{where}: {bad} are helpers; move them to a lower layer"


def test_no_package_module_over_350_lines() -> None:
    long = {str(p.relative_to(PKG)): n for p in MODULES
            if (n := len(p.read_text().splitlines())) > 350}
    assert not long, f"modules over 350 lines (split them by concern): {long}"
