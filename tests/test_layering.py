"""The import rules of ARCHITECTURE.md, enforced by scanning every module's AST."""

from __future__ import annotations

import ast
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
            assert root not in BACKEND_LIBS, f"{where}: public modules never name a backend"
            assert internal != "testing", f"{where}: the package does not import its test kit"
            if root == "scipy":
                assert not at_top, f"{where}: import scipy lazily, when state is designed"


def test_scan_sees_modules() -> None:
    """Guard: the scan must actually find the package (a silent empty scan proves nothing)."""
    assert len(MODULES) > 10
    assert any(n == "array_api_compat" for n, _ in _imports(PKG / "_backend" / "namespace.py"))
