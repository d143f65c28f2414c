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
    "ezmsg_sigproc_units.window",
    "ezmsg_sigproc_units.spectrum",
    "ezmsg_sigproc_units.spectrogram",
    "ezmsg_sigproc_units.bandpower",
    "ezmsg_sigproc_units.welch",
    "ezmsg_sigproc_units.synth.oscillator",
    "ezmsg_sigproc_units.synth.noise",
]


def _top_level(stderr: str) -> list[tuple[str, int]]:
    """(module, cumulative us) of the top-level entries of an -X importtime report, in order."""
    out = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  "):  # nested entries are indented further
            out.append((name.strip(), int(cumulative)))
    return out


def _cost_ms(module: str | None, repeats: int = 7) -> float:
    """Best-of-``repeats`` import time in ms: of the baseline alone (``module`` None), else of
    what ``import module`` adds after the baseline has been imported in the same process."""
    code = BASELINE if module is None else f"{BASELINE}; import {module}"
    best = float("inf")
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                              capture_output=True, text=True, check=True)
        entries = _top_level(proc.stderr)
        names = [n for n, _ in entries]
        cut = len(names) - names[::-1].index("ezmsg.baseproc")
        chosen = entries[:cut] if module is None else entries[cut:]
        best = min(best, sum(us for _, us in chosen) / 1000)
    return best


def run() -> str:
    base = _cost_ms(None)
    rows = [[mod, _cost_ms(mod)] for mod in MODULES]
    return (f"### Import cost (ms, best of 7, `python -X importtime`)\n\nBaseline "
            f"`{BASELINE}`: {base:.1f} ms. Each row is what importing the module adds on top "
            "(target <= 50 ms).\n\n"
            + table(["module", "added ms"], rows) + "\n")
