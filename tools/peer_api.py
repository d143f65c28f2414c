"""The peer's public API, as data: one description per public class and function of every
ezmsg-sigproc module whose path this package also ships.

Run once in the peer's environment (``make peer`` builds it) to regenerate the committed list
that ``tests/test_peer_api.py`` compares with this package (no peer needed at test time)::

    .venv-peer/bin/python -m tools.peer_api --write tests/data/peer_api.json
    .venv-peer/bin/python -m tools.peer_api --learn --write tests/data/peer_api_learn.json

``--learn`` describes ezmsg-learn instead (``ezmsg.learn`` -> ``ezmsg_sigproc_units.learn``):
every public module of it, whether or not we ship it yet, the ones that import torch (the
optional torch-hosting family), and for each module also the names it re-exports from
elsewhere in the peer (alias modules such as ``linear_model.slda``).

The same ``describe`` function describes our objects in the test, so both sides are read the
same way. It imports nothing from this package (the peer's environment does not have it):
our module paths are read from the source tree.

What is described:

* settings classes (``ez.Settings``): every field's name and default (or ``required``), and
  the constructor's positional parameters in order (keyword-only fields are not among them);
* enums: member names and values;
* Units (``ez.Unit``/``ez.Collection``): their stream names;
* other classes: their public methods (defined on the class itself, not inherited);
* processor states: existence only (their fields are internals);
* functions: positional parameter names in order, keyword-only names, defaults.

Excluded: private names, names a module imports from elsewhere (they are described where they
are defined, if that module is ours too), module constants, and classes or functions whose
docstring marks them deprecated.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import importlib
import inspect
import json
import math
import pathlib
import sys
from typing import Any

PEER_PACKAGE = "ezmsg.sigproc"
OUR_PACKAGE = "ezmsg_sigproc_units"
LEARN_PEER_PACKAGE = "ezmsg.learn"
LEARN_OUR_PACKAGE = "ezmsg_sigproc_units.learn"
_SKIP_DIRS = {"testing", "__pycache__"}
_SKIP_MODULES = {"cli"}


def our_module_paths(root: pathlib.Path) -> list[str]:
    """Dotted module paths (relative to the package) of our public modules, from the tree."""
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or any(p.startswith("_") or p in _SKIP_DIRS for p in parts):
            continue
        name = ".".join(parts)
        if name not in _SKIP_MODULES:
            out.append(name)
    return out


def encode(value: Any) -> Any:
    """A JSON-able, comparable form of a default value (enums by value, sequences as lists,
    nested settings by their fields, non-finite floats by name, anything else by ``repr``)."""
    if isinstance(value, type):  # a class as default (e.g. dtype=np.float64)
        return {"type": f"{value.__module__}.{value.__qualname__}"}
    if isinstance(value, enum.Enum):
        return {"enum": encode(value.value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # nested settings
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"obj": type(value).__name__, "fields": fields}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (tuple, list)):
        return {"seq": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": {str(k): encode(v) for k, v in value.items()}}
    if hasattr(value, "tolist") and hasattr(value, "shape"):  # a NumPy array or scalar
        return encode(value.tolist())
    return {"repr": repr(value)}


def _deprecated(obj: Any) -> bool:
    doc = inspect.getdoc(obj) or ""
    return "deprecated" in doc.splitlines()[0].lower() if doc else False


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return {"default": encode(f.default)}
    if f.default_factory is not dataclasses.MISSING:
        return {"default": encode(f.default_factory())}
    return {"required": True}


def _signature(fn: Any) -> dict:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {"positional": [], "keyword_only": [], "defaults": {}}
    positional, keyword_only, defaults = [], [], {}
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional.append(p.name)
        elif p.kind is p.KEYWORD_ONLY:
            keyword_only.append(p.name)
        if p.default is not p.empty:
            defaults[p.name] = encode(p.default)
    return {"positional": positional, "keyword_only": keyword_only, "defaults": defaults}


def _is_subclass(obj: Any, dotted: str) -> bool:
    mod, _, name = dotted.rpartition(".")
    try:
        base = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type) and issubclass(obj, base)


def describe(obj: Any) -> dict:
    """The comparable description of one public class or function."""
    if not isinstance(obj, type):
        return {"kind": "function", **_signature(obj)}
    if issubclass(obj, enum.Enum):
        return {"kind": "enum", "members": {m.name: encode(m.value) for m in obj}}
    if _is_subclass(obj, "ezmsg.core.Settings"):
        fields = [{"name": f.name, **_field_default(f)} for f in dataclasses.fields(obj)]
        return {"kind": "settings", "fields": fields,
                "positional": _signature(obj)["positional"]}
    if _is_subclass(obj, "ezmsg.core.Unit") or _is_subclass(obj, "ezmsg.core.Collection"):
        streams = sorted(name for name, v in inspect.getmembers(obj)
                         if type(v).__name__ in ("InputStream", "OutputStream"))
        return {"kind": "unit", "streams": streams}
    if dataclasses.is_dataclass(obj):
        return {"kind": "state"}
    methods = sorted(name for name, v in vars(obj).items()
                     if not name.startswith("_") and callable(v))
    return {"kind": "class", "methods": methods}


def describe_module(module: Any) -> dict:
    """Descriptions of the classes and functions ``module`` defines itself, by name."""
    out = {}
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__ or _deprecated(obj):
            continue
        out[name] = describe(obj)
    return out


def reexports(module: Any, package: str) -> list[str]:
    """Public classes and functions ``module`` imports from elsewhere in ``package``."""
    return sorted(name for name, obj in vars(module).items()
                  if not name.startswith("_")
                  and (inspect.isclass(obj) or inspect.isfunction(obj))
                  and getattr(obj, "__module__", "").startswith(package + ".")
                  and obj.__module__ != module.__name__)


def peer_module_paths(peer_package: str = PEER_PACKAGE) -> list[str]:
    """Dotted paths (relative to the peer's package) of every public module the peer has."""
    import pkgutil

    package = importlib.import_module(peer_package)
    out = []
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{peer_package}."):
        name = info.name[len(peer_package) + 1:]
        if not any(p.startswith("_") for p in name.split(".")):
            out.append(name)
    return sorted(out)


def peer_api(root: pathlib.Path) -> dict:
    """{module path: {name: description}} for every module path we ship that the peer has."""
    import importlib.metadata

    modules, absent = {}, []
    for path in our_module_paths(root):
        try:
            module = importlib.import_module(f"{PEER_PACKAGE}.{path}")
        except ImportError:
            absent.append(path)
            continue
        modules[path] = describe_module(module)
    return {
        "peer": f"ezmsg-sigproc {importlib.metadata.version('ezmsg-sigproc')}",
        "peer_modules": peer_module_paths(),
        "generated_by": "python -m tools.peer_api --write tests/data/peer_api.json (in .venv-peer)",
        "modules": modules,
        "not_in_peer": absent,
    }


def learn_api() -> dict:
    """{module path: {name: description}} for every public ezmsg-learn module, and the list of
    those that import torch (``torch_modules``: the torch-hosting family, an optional extra)."""
    import importlib.metadata

    modules, reexported = {}, {}
    torch_modules = []
    for path in peer_module_paths(LEARN_PEER_PACKAGE):
        module = importlib.import_module(f"{LEARN_PEER_PACKAGE}.{path}")
        modules[path] = describe_module(module)
        reexported[path] = reexports(module, LEARN_PEER_PACKAGE)
    for path in modules:  # a module that imports torch, or re-exports from one that does
        source = pathlib.Path(importlib.import_module(
            f"{LEARN_PEER_PACKAGE}.{path}").__file__).read_text()
        if "import torch" in source or "from torch" in source:
            torch_modules.append(path)
    for path in modules:
        for name in reexported[path]:
            obj = getattr(importlib.import_module(f"{LEARN_PEER_PACKAGE}.{path}"), name)
            home = obj.__module__[len(LEARN_PEER_PACKAGE) + 1:]
            if home in torch_modules and path not in torch_modules:
                torch_modules.append(path)
    return {
        "peer": f"ezmsg-learn {importlib.metadata.version('ezmsg-learn')}",
        "generated_by": "python -m tools.peer_api --learn --write tests/data/peer_api_learn.json"
                        " (in .venv-peer, with torch installed)",
        "modules": modules,
        "reexports": reexported,
        "torch_modules": sorted(torch_modules),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", type=pathlib.Path, help="write the JSON here (else stdout)")
    ap.add_argument("--root", type=pathlib.Path,
                    default=pathlib.Path(__file__).resolve().parents[1] / OUR_PACKAGE)
    ap.add_argument("--learn", action="store_true", help="describe ezmsg-learn instead")
    args = ap.parse_args(argv)
    api = learn_api() if args.learn else peer_api(args.root)
    text = json.dumps(api, indent=1, sort_keys=True) + "\n"
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
