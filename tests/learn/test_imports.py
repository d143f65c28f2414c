"""Importing any learn module imports neither scikit-learn, river nor pandas, and none but the
torch-hosting family (ezmsg-learn's torch modules, issue 16) imports torch (issue 15): checked
in a fresh interpreter, since this test process may have them loaded."""

from __future__ import annotations

import json
import pathlib
import pkgutil
import subprocess
import sys

import ezmsg_sigproc_units.learn as learn

FORBIDDEN = ("sklearn", "river", "pandas", "torch")
TORCH_FAMILY = {f"{learn.__name__}.{m}" for m in json.loads(
    (pathlib.Path(__file__).parents[1] / "data" / "peer_api_learn.json").read_text()
)["torch_modules"]}


def _learn_modules() -> list[str]:
    return sorted(info.name for info in pkgutil.walk_packages(learn.__path__,
                                                              prefix=f"{learn.__name__}.")
                  if info.name not in TORCH_FAMILY and "torch" not in info.name.split(".")[-1])


def test_the_scan_finds_the_decoders():
    names = _learn_modules()
    assert f"{learn.__name__}.util" in names
    assert len(names) >= 8


def test_no_learn_module_imports_sklearn_river_pandas_or_torch():
    code = (
        "import importlib, sys\n"
        f"for name in {_learn_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"imported: {done.stdout.strip()} {done.stderr[-2000:]}"
