"""One long recording as one chunk: 300,000 x 256 float32 (307 MB, 10 s at 30 kHz) through a
4th-order Butterworth band-pass 300-7500 Hz, causal and zero-phase, ours beside ezmsg-sigproc
(its own environment, ``make peer``). Time of the call (design done beforehand, one
repetition: the chunk is the workload) and its peak extra memory (``tracemalloc``, which
sees NumPy's allocations; a second call on a fresh processor). Each case runs in a fresh
process, so one case's freed memory does not hide another's peak.

    python -m benchmarks.large_chunks            # the table
    python -m benchmarks.large_chunks --one ours zero_phase   # one case, JSON
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .peer import PEER_PYTHON
from .timing import table

FS, T, C = 30000.0, 300_000, 256
BAND = dict(order=4, cuton=300.0, cutoff=7500.0)
CASES = ("butterworth", "zero_phase")


def _make(impl: str, case: str):
    if impl == "peer":
        from ezmsg.sigproc import butterworthfilter as bw
        from ezmsg.sigproc import butterworthzerophase as zp
    else:
        from ezmsg_sigproc_units import butterworthfilter as bw
        from ezmsg_sigproc_units import butterworthzerophase as zp
    if case == "butterworth":
        return bw.ButterworthFilterTransformer(bw.ButterworthFilterSettings(
            coef_type="sos", **BAND))
    return zp.ButterworthZeroPhaseTransformer(zp.ButterworthZeroPhaseSettings(**BAND))


def _msg(x: np.ndarray, start: int = 0) -> AxisArray:
    return AxisArray(x, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=start / FS)})


def one(impl: str, case: str) -> dict:
    """Seconds of the call, peak extra memory (MB) and the output dtype."""
    x = np.random.default_rng(0).standard_normal((T + 16, C), dtype=np.float32)
    timed, traced = _make(impl, case), _make(impl, case)
    for proc in (timed, traced):
        proc(_msg(x[:16]))  # design (and, for ours, the plan) before the big chunk
    big = _msg(x[16:], 16)
    t0 = time.perf_counter()
    out = timed(big)
    seconds = time.perf_counter() - t0
    dtype = str(out.data.dtype)
    del out
    tracemalloc.start()
    try:
        traced(big)  # the peak includes its output
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"s": seconds, "peak_mb": peak / 1e6, "dtype": dtype, "input_mb": big.data.nbytes / 1e6}


def _run_one(python: str, impl: str, case: str) -> dict | None:
    done = subprocess.run([python, "-W", "ignore", "-m", "benchmarks.large_chunks", "--one",
                           impl, case], cwd=PEER_PYTHON.parent.parent.parent,
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"({impl} {case} failed: {done.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(done.stdout)


def run() -> str:
    rows = []
    for case in CASES:
        ours = _run_one(sys.executable, "ours", case)
        peer = _run_one(str(PEER_PYTHON), "peer", case) if PEER_PYTHON.exists() else None
        row: list[object] = [case]
        for r in (ours, peer):
            row += (["", ""] if r is None else
                    [f"{r['s']:.2f}", f"{r['peak_mb']:.0f} ({r['peak_mb'] / r['input_mb']:.2f}x, "
                                      f"{r['dtype']} out)"])
        rows.append(row)
    return ("One 300,000 x 256 float32 chunk (307 MB), Butterworth 4th order 300-7500 Hz at "
            "30 kHz: seconds per call and peak extra memory in MB (x the input)\n\n"
            + table(["filter", "ours s", "ours peak MB", "peer s", "peer peak MB"], rows))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=2, metavar=("IMPL", "CASE"))
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(*args.one)))
    else:
        print(run())


if __name__ == "__main__":
    main()
