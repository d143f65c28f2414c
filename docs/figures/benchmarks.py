"""The benchmark plots (docs/benchmarks.md), drawn from the committed
``benchmarks/results/results.json`` by the same function that ``python -m benchmarks.report``
uses, so the pages show the figures of the stored run (no timing at build time)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _report():
    """``benchmarks.report`` from this checkout (the repository root need not be on the
    path when Sphinx runs)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("benchmarks.report")


def make(outdir: Path) -> None:
    report = _report()
    report.plot(report.load(ROOT / "benchmarks" / "results" / "results.json"), outdir)
