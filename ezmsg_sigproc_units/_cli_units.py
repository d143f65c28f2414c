"""Unit discovery and description for the ``ezmsg-sigproc-units`` command (``cli.py``):
which Units the package offers, their one-line descriptions, their settings' types, defaults
and field docstrings. Imported only by ``cli.py``."""

from __future__ import annotations

import ast
import dataclasses
import difflib
import enum
import functools
import importlib
import inspect
import os
import pkgutil
import sys
from pathlib import Path

import ezmsg.core as ez

PACKAGE = __package__ or "ezmsg_sigproc_units"  # also under `python -m ...cli`
_SKIP_MODULES = {"testing", "cli"}
IMPORT_FAILURES: list[str] = []  # modules `discover_units` could not import


class UsageError(Exception):
    """A bad name or value on the command line (exit code 2)."""


# ---- Units -------------------------------------------------------------------------------------

def _module_names(path: list[str], prefix: str) -> list[str]:
    names = []
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_") or (prefix == PACKAGE + "." and info.name in _SKIP_MODULES):
            continue
        names.append(prefix + info.name)
        if info.ispkg:
            names += _module_names([os.path.join(p, info.name) for p in path],
                                   f"{prefix}{info.name}.")
    return names


def settings_of(unit: type) -> type:
    """The unit's settings class (``ez.Settings`` itself for a unit without settings)."""
    return getattr(unit, "__settings_type__", None) or getattr(unit, "SETTINGS", ez.Settings)


def _is_offered_unit(obj: object, module: str) -> bool:
    """A concrete Unit class defined in ``module`` with a settings class. Generic bases such as
    ``BaseFilterByDesignTransformerUnit`` still have free type parameters and are skipped;
    units without settings of their own (``Add``) have ``ez.Settings`` and are kept."""
    return (inspect.isclass(obj) and issubclass(obj, ez.Unit) and obj.__module__ == module
            and not obj.__name__.startswith("_") and not inspect.isabstract(obj)
            and not getattr(obj, "__parameters__", ())
            and inspect.isclass(settings_of(obj)) and issubclass(settings_of(obj), ez.Settings))


@functools.lru_cache(maxsize=1)
def discover_units() -> dict[str, type]:
    """``{"butterworthfilter.ButterworthFilter": cls, ...}`` for every public module of the
    package (private ``_*`` modules and ``testing`` skipped). A module that fails to import
    is reported on stderr and left out."""
    pkg = importlib.import_module(PACKAGE)
    units: dict[str, type] = {}
    for name in _module_names(list(pkg.__path__), PACKAGE + "."):
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # report and list the rest; `list` then exits 1
            print(f"warning: cannot import {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            IMPORT_FAILURES.append(name)
            continue
        for obj in vars(module).values():
            if _is_offered_unit(obj, name):
                units[f"{name[len(PACKAGE) + 1:]}.{obj.__name__}"] = obj
    return dict(sorted(units.items()))


def first_paragraph(doc: str | None) -> str:
    text = " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())
    return text.replace("``", "`")


def _processor_of(unit: type) -> type | None:
    from ezmsg.baseproc import units as bu

    for get in (bu.get_base_transformer_type, bu.get_base_clockdriven_producer_type,
                bu.get_base_producer_type, bu.get_base_adaptive_transformer_type,
                bu.get_base_consumer_type):
        try:
            return get(unit)
        except TypeError:  # this type parameter does not occur in the unit's bases
            continue
    return None


def describe_line(unit: type) -> str:
    """The unit's own docstring, else its processor's, else its module's (first paragraph)."""
    for doc in (unit.__dict__.get("__doc__"), getattr(_processor_of(unit), "__doc__", None),
                sys.modules[unit.__module__].__doc__):
        if first_paragraph(doc):
            return first_paragraph(doc)
    return ""


def find_unit(name: str) -> tuple[str, type]:
    """By dotted name (``math.clip.Clip``, with or without the package prefix), by class name
    (``Clip``, any case) or by module name when that module offers one Unit."""
    units = discover_units()
    key = name.removeprefix(PACKAGE + ".")
    if key in units:
        return key, units[key]
    low = key.lower()
    hits = [k for k in units if k.rsplit(".", 1)[1].lower() == low]
    hits = hits or [k for k in units if k.rsplit(".", 1)[0].lower() == low]
    if len(hits) == 1:
        return hits[0], units[hits[0]]
    if hits:
        raise UsageError(f"{name!r} is ambiguous: {', '.join(hits)}")
    close = [k for k in units if low in k.lower()]
    close += [k for k in difflib.get_close_matches(low, [k.lower() for k in units], n=5)
              if k not in close]
    lower_to_key = {k.lower(): k for k in units}
    close = [lower_to_key.get(c, c) for c in close][:8]
    hint = (f"close matches: {', '.join(close)}" if close
            else f"valid names: {', '.join(units)}")
    raise UsageError(f"unknown unit {name!r}; {hint}\n(`ezmsg-sigproc-units list` lists all "
                     f"{len(units)})")


@functools.cache
def _module_ast(path: str) -> ast.Module:
    return ast.parse(Path(path).read_text(encoding="utf-8"))


def field_docs(settings: type) -> dict[str, str]:
    """Attribute docstrings (a string right after ``name: type = default``) of a settings
    class and the settings classes it inherits from, read from their source with ``ast``."""
    docs: dict[str, str] = {}
    for klass in reversed(settings.__mro__):
        try:
            tree = _module_ast(inspect.getsourcefile(klass) or "")
        except (OSError, TypeError, SyntaxError):  # builtins, no source file
            continue
        body: list[ast.stmt] = tree.body
        for part in klass.__qualname__.split("."):
            node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
            if node is None:
                break
            body = node.body
        else:
            for stmt, nxt in zip(body, body[1:], strict=False):
                if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                        and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                        and isinstance(nxt.value.value, str)):
                    docs[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def type_text(tp: object) -> str:
    if isinstance(tp, str):
        return tp
    return tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")


def _value_text(value: object) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return repr(value)


def default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        return _value_text(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return _value_text(f.default_factory())
    return "(required)"
