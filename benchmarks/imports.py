"""Import cost of each public module over the ezmsg baseline (fresh interpreter each time)."""

from __future__ import annotations

import subprocess
import sys

from .timing import table

BASELINE = "import ezmsg.baseproc; from ezmsg.util.messages.axisarray import AxisArray"
MODULES = [
    "ezmsg_sigproc_units",
    "ezmsg_sigproc_units.util.array",
    "ezmsg_sigproc_units.math.abs",
    "ezmsg_sigproc_units.math.clip",
    "ezmsg_sigproc_units.math.log",
    "ezmsg_sigproc_units.math.scale",
    "ezmsg_sigproc_units.math.invert",
    "ezmsg_sigproc_units.math.difference",
    "ezmsg_sigproc_units.math.add",
    "ezmsg_sigproc_units.math.pow",
    "ezmsg_sigproc_units.math.anscombe",
    "ezmsg_sigproc_units.diff",
    "ezmsg_sigproc_units.transpose",
    "ezmsg_sigproc_units.linear",
    "ezmsg_sigproc_units.coordinatespaces",
    "ezmsg_sigproc_units.aggregate",
    "ezmsg_sigproc_units.asarray",
    "ezmsg_sigproc_units.synth.oscillator",
    "ezmsg_sigproc_units.synth.noise",
]


def _cost_ms(code: str, repeats: int = 5) -> float:
    """Best-of-``repeats`` cumulative import time (us from -X importtime) of ``code``, in ms."""
    best = float("inf")
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                              capture_output=True, text=True, check=True)
        total = 0
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            _, cumulative, name = line[len("import time:"):].split("|")
            if not name.startswith(" " * 2):  # top-level entries only (no indentation)
                total += int(cumulative)
        best = min(best, total / 1000)
    return best


def run() -> str:
    base = _cost_ms(BASELINE)
    rows = []
    for mod in MODULES:
        cost = _cost_ms(f"{BASELINE}; import {mod}")
        rows.append([mod, cost, cost - base])
    return (f"### Import cost (ms, best of 5, `python -X importtime`), baseline "
            f"`{BASELINE}` = {base:.1f} ms\n\n"
            + table(["module", "total ms", "above baseline ms (target <= 50)"], rows) + "\n")
