"""Sphinx extension: one API page per public module, generated when the build starts.

A module is public when no component of its dotted path starts with an underscore. The pages
are written to ``docs/_generated/api/`` (git-ignored) as reStructuredText, each with one
``automodule`` directive, and ``docs/_generated/api/index.rst`` lists them by package. A new
module therefore appears in the reference without editing any page. Files are only rewritten
when their text changes, so an incremental build re-reads only what moved.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path

PACKAGE = "ezmsg_sigproc_units"
OUT = Path("_generated") / "api"

# Top-level groups of the index page, in this order; anything else lands under "core".
_GROUPS = {
    "core": "Processors and Units",
    "learn": "Adaptive decoders (``learn``)",
    "math": "Element-wise math (``math``)",
    "synth": "Signal sources (``synth``)",
    "util": "Utilities (``util``)",
    "testing": "Test kit (``testing``)",
}


def package_root() -> Path:
    """The directory of the installed package (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is not importable")
    return Path(next(iter(spec.submodule_search_locations)))


def public_modules(root: Path | None = None) -> list[str]:
    """Dotted names of every public module under the package, sorted (packages first)."""
    root = package_root() if root is None else root
    names = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts):
            continue
        names.append(".".join([PACKAGE, *parts]))
    return sorted(names)


def _group(name: str) -> str:
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in _GROUPS and _is_package(parts[1]):
        return parts[1]
    return "core"


def _is_package(sub: str) -> bool:
    return (package_root() / sub / "__init__.py").is_file()


def _module_page(name: str) -> str:
    title = f"``{name}``"
    return (
        f"{title}\n{'=' * len(title)}\n\n"
        f".. automodule:: {name}\n"
        "   :members:\n"
        "   :show-inheritance:\n"
    )


def module_summary(name: str, root: Path | None = None) -> str:
    """The first paragraph of the module's docstring, read from its source (not imported)."""
    root = package_root() if root is None else root
    rel = Path(*name.split(".")[1:])
    path = root / rel / "__init__.py" if (root / rel).is_dir() else root / rel.with_suffix(".py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _index_page(names: list[str]) -> str:
    lines = [
        "Modules",
        "=======",
        "",
        "Every public module of the package with the first paragraph of its docstring.",
        "",
    ]
    for key, caption in _GROUPS.items():
        members = [n for n in names if _group(n) == key]
        if not members:
            continue
        lines += [caption, "-" * len(caption), "", ".. toctree::", "   :hidden:", ""]
        lines += [f"   {n}" for n in members]
        lines.append("")
        for n in members:
            summary = module_summary(n)
            lines.append(f"- :doc:`{n}`" + (f" -- {summary}" if summary else ""))
        lines.append("")
    return "\n".join(lines)


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def generate(srcdir: Path) -> list[str]:
    """Write the module pages and the index under ``srcdir``; return the module names."""
    out = srcdir / OUT
    out.mkdir(parents=True, exist_ok=True)
    names = public_modules()
    wanted = {f"{n}.rst" for n in names} | {"index.rst"}
    for stale in out.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)
    for name in names:
        _write_if_changed(out / f"{name}.rst", _module_page(name))
    _write_if_changed(out / "index.rst", _index_page(names))
    return names


def _on_builder_inited(app) -> None:
    generate(Path(app.srcdir))


def _skip_reexport(app, what, name, obj, skip, options):
    """Leave out of a module's page what it only re-exports from another library (ezmsg,
    ezmsg-baseproc, ...): those are that library's to document, and the module docstring
    names them. Objects defined in this package are kept wherever they are re-exported."""
    if what != "module":
        return None
    owner = getattr(obj, "__module__", None)
    if isinstance(owner, str) and owner.split(".")[0] != PACKAGE:
        return True
    return None


# Napoleon reads an attribute docstring whose first line has a colon as "type: description"
# ("Filter order (per edge: a band-pass ...)" became type "Filter order (per edge"). Settings
# fields here document themselves in plain sentences and carry real annotations, so their
# docstrings are kept as written: saved before napoleon's handler (priority 500), put back after.
_FIELD_KINDS = ("attribute", "data", "property")
_saved: dict[tuple[str, str], list[str]] = {}


def _save_field_doc(app, what, name, obj, options, lines) -> None:
    if what in _FIELD_KINDS:
        _saved[(what, name)] = list(lines)


def _restore_field_doc(app, what, name, obj, options, lines) -> None:
    original = _saved.pop((what, name), None)
    if original is not None:
        lines[:] = original


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    app.connect("autodoc-skip-member", _skip_reexport)
    app.connect("autodoc-process-docstring", _save_field_doc, priority=400)
    app.connect("autodoc-process-docstring", _restore_field_doc, priority=600)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
