"""The benchmark report: runs ``benchmarks.sweep`` (ours, the bare kernels and the peer) and
writes ``benchmarks/results/``: ``results.json`` (the raw numbers, the date and the machine),
``results.md`` (Markdown tables) and PNG plots. The plots are drawn from ``results.json``
alone (``plot``), so the docs build (``docs/figures/benchmarks.py``) draws the same ones.

    python -m benchmarks.report               # the sweep, then the folder (a few minutes)
    python -m benchmarks.report --quick       # three points, numpy only: a smoke run
    python -m benchmarks.report --plot-only   # redraw the PNGs and the tables from the JSON
    python -m benchmarks.report --backends numpy array_api_strict   # chosen backends
    python -m benchmarks.report --backends numpy torch:cuda cupy     # a GPU beside numpy

``make bench`` calls ``run()``, which prints the Markdown it writes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .timing import table

RESULTS = Path(__file__).resolve().parent / "results"
SCHEMA = 1
REQUIRED = ("schema", "date", "machine", "setup", "rows", "peer")
PLOTS = ("bench_chunk_size.png", "bench_channels.png", "bench_overhead.png", "bench_peer.png")
_PACKAGES = ("ezmsg-sigproc-units", "ezmsg", "numpy", "scipy", "torch", "jax", "mlx",
             "array-api-strict")
_STYLE = {"numpy": "C0", "torch": "C1", "jax": "C2", "mlx": "C3", "array_api_strict": "C4"}


# ------------------------------------------------------------------------------ the run
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Where the figures were measured: CPU, cores, OS, Python and package versions."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "arch": platform.machine(),
            "platform": platform.platform(terse=True),
            "python": platform.python_version(), "versions": versions}


def setup(points: list[tuple[int, int]]) -> dict[str, Any]:
    from . import sweep

    return {"fs": sweep.FS, "dtype": "float32", "points": [list(p) for p in points],
            "chunks": list(sweep.CHUNKS), "channels": list(sweep.CHANNELS),
            "base_chunk": sweep.BASE_CHUNK, "base_channels": sweep.BASE_CHANNELS,
            "processors": dict(sweep.LABELS), "window_s": sweep.WINDOW_S,
            "hop_s": sweep.HOP_S, "bands": [list(b) for b in sweep.BANDS]}


def collect(backends=None, processors=None, points=None, peer: bool = True,
            log=lambda s: None) -> dict[str, Any]:
    """Run the sweep: the results dict that ``write`` stores."""
    from . import sweep

    t0 = time.perf_counter()
    pts = points or sweep.grid()
    # The peer first: its subprocess forks before this process imports JAX (threads).
    if peer:
        log("peer sweep (ezmsg-sigproc, its own environment) ...")
        peer_part = sweep.run_peer(points)
    else:
        peer_part = {"available": False, "note": "not run (--quick)", "rows": [],
                     "failures": {}}
    rows = sweep.run_ours(backends or sweep.BACKENDS, processors or sweep.PROCESSORS, pts,
                          log=log)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return {"schema": SCHEMA, "date": date, "machine": machine(), "setup": setup(pts),
            "rows": rows, "peer": peer_part, "seconds": round(time.perf_counter() - t0, 1)}


def write(results: dict[str, Any], outdir: Path = RESULTS) -> list[Path]:
    """``results.json``, ``results.md`` and the PNGs into ``outdir``; the paths written."""
    outdir.mkdir(parents=True, exist_ok=True)
    js = outdir / "results.json"
    js.write_text(json.dumps(results, indent=1) + "\n")
    md = outdir / "results.md"
    md.write_text(markdown(results))
    return [js, md, *plot(results, outdir)]


def load(path: Path = RESULTS / "results.json") -> dict[str, Any]:
    """A stored results dict; ``ValueError`` when it lacks a required key."""
    results = json.loads(Path(path).read_text())
    missing = [k for k in REQUIRED if k not in results]
    if missing:
        raise ValueError(f"{path}: missing keys {missing}")
    return results


def run(outdir: Path = RESULTS, **kwargs: Any) -> str:
    """The whole report for ``make bench``: sweep, write ``outdir``, return its Markdown."""
    results = collect(**kwargs)
    write(results, outdir)
    return markdown(results) + f"\n(written to {outdir}, {results['seconds']:.0f} s)\n"


# --------------------------------------------------------------------------- the numbers
def _by(rows: list[dict], *keys: str) -> dict[tuple, dict]:
    return {tuple(r[k] for k in keys): r for r in rows}


def _line(results: dict, along: str) -> list[tuple[int, int]]:
    """The grid points of the chunk line (``along="chunk"``) or the channel line."""
    s = results["setup"]
    pts = [tuple(p) for p in s["points"]]
    if along == "chunk":
        return sorted(p for p in pts if p[1] == s["base_channels"])
    return sorted((p for p in pts if p[0] == s["base_chunk"]), key=lambda p: p[1])


def _table_points(results: dict) -> list[tuple[int, int]]:
    """The chunk line, then the rest of the channel line."""
    pts = _line(results, "chunk")
    return pts + [p for p in _line(results, "channels") if p not in pts]


def backends_of(results: dict) -> list[str]:
    seen = []
    for r in results["rows"]:
        if r["backend"] not in seen:
            seen.append(r["backend"])
    return seen


def headline(results: dict) -> dict[str, Any]:
    """Per processor: the median over the grid of peer / ours (numpy; > 1: ours is faster)
    and ours / bare kernel (numpy), and the numpy overhead in us at the base point."""
    s = results["setup"]
    ours = _by([r for r in results["rows"] if r["backend"] == "numpy"],
               "processor", "chunk", "channels")
    peer = _by([r for r in results["peer"].get("rows", []) if r["backend"] == "numpy"],
               "processor", "chunk", "channels")
    out = {}
    for name in s["processors"]:
        mine = [r for k, r in ours.items() if k[0] == name]
        if not mine:
            continue
        vs_peer = [peer[k]["peer_us"] / r["ours_us"] for k, r in ours.items()
                   if k[0] == name and k in peer]
        base = ours.get((name, s["base_chunk"], s["base_channels"]))
        out[name] = {
            "peer_over_ours": statistics.median(vs_peer) if vs_peer else None,
            "ours_over_kernel": statistics.median(r["ours_us"] / r["kernel_us"] for r in mine),
            "base_overhead_us": base["overhead_us"] if base else None,
        }
    return out


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    return (f"{v:.1f}" if v >= 10 else f"{v:.2f}") + unit


def markdown(results: dict) -> str:
    """The tables of ``results.md``."""
    s, m, peer = results["setup"], results["machine"], results["peer"]
    backends = backends_of(results)
    vers = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    out = [
        "# Benchmark results", "",
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores, {m['arch']}, "
        f"{m['platform']}), Python {m['python']}; {vers}. Peer: "
        + (f"ezmsg-sigproc {peer.get('version')}" if peer.get("available") else
           f"not measured ({peer.get('note')})") + ".", "",
        f"Median microseconds per chunk, float32 at {s['fs']:g} Hz, chunk size x channels; "
        "every output finished (MLX evaluated, JAX waited for). *kernel*: the pure kernel "
        "functions the processor composes, called directly on the same arrays and timed in "
        "alternating batches with it; *overhead*: the median of the paired differences. "
        "*peer*: ezmsg-sigproc on the same inputs in its own environment. Written by "
        "`python -m benchmarks.report` (`make bench`); see docs/benchmarks.md.", "",
        "## Headline (numpy)", "",
    ]
    rows = []
    for name, h in headline(results).items():
        rows.append([s["processors"][name], _fmt(h["peer_over_ours"], "x"),
                     _fmt(h["ours_over_kernel"], "x"), _fmt(h["base_overhead_us"], " us")])
    out += [table(["processor", "peer / ours (median)", "ours / kernel (median)",
                   f"overhead at {s['base_chunk']}x{s['base_channels']}"], rows), ""]
    ours = _by(results["rows"], "processor", "backend", "chunk", "channels")
    peers = _by(peer.get("rows", []), "processor", "backend", "chunk", "channels")
    peer_backends = sorted({r["backend"] for r in peer.get("rows", [])},
                           key=lambda b: (b != "numpy", b))
    for name, label in s["processors"].items():
        if not any(k[0] == name for k in ours):
            continue
        head = ["chunk", "ch", "numpy", "kernel", "overhead"]
        head += [f"peer {b}" for b in peer_backends] + ["peer / ours"]
        head += [b for b in backends if b != "numpy"]
        body = []
        for T, C in _table_points(results):
            r = ours.get((name, "numpy", T, C))
            row = [T, C] + ([_fmt(r["ours_us"]), _fmt(r["kernel_us"]), _fmt(r["overhead_us"])]
                            if r else ["-"] * 3)
            for b in peer_backends:
                p = peers.get((name, b, T, C))
                row.append(_fmt(p["peer_us"]) if p else "fails")
            p = peers.get((name, "numpy", T, C))
            row.append(_fmt(p["peer_us"] / r["ours_us"], "x") if p and r else "-")
            for b in backends:
                if b != "numpy":
                    o = ours.get((name, b, T, C))
                    row.append(_fmt(o["ours_us"]) if o else "-")
            body.append(row)
        out += [f"## {label}", "", table(head, body), ""]
    out += ["## Overhead over the bare kernel, us per chunk", "",
            "Ours minus the kernel functions on the same arrays (median of paired "
            "differences; a few us of noise either way on a busy machine).", ""]
    body = []
    for name in s["processors"]:
        for T, C in _table_points(results):
            cells = [ours.get((name, b, T, C)) for b in backends]
            if any(cells):
                body.append([name, T, C] + [_fmt(c["overhead_us"]) if c else "-" for c in cells])
    out += [table(["processor", "chunk", "ch", *backends], body), ""]
    out += ["## Where the peer cannot run", ""]
    fails = peer.get("failures", {})
    notes = [f"- {k}: {v}" for k, v in sorted(fails.items())]
    if peer.get("available"):
        missing = [b for b in backends if b not in peer_backends and
                   not any(k.startswith(b + "/") for k in fails)]
        if missing:
            notes.append(f"- {', '.join(missing)}: not run for the peer (its environment, "
                         "`.venv-peer`, holds ezmsg-sigproc with numpy and CPU torch only)")
    else:
        notes.append(f"- not measured: {peer.get('note')}")
    out += (notes or ["- nothing failed"]) + [""]
    out += ["## Plots", ""] + [f"![{p[:-4]}]({p})" for p in PLOTS] + [""]
    return "\n".join(out)


# ---------------------------------------------------------------------------- the plots
def _scale(ax: Any, logy: bool = True) -> None:
    """Log axes where there is data; a note where there is none (nothing to scale)."""
    if not any(len(line.get_xdata()) for line in ax.get_lines() if line.get_label()[0] != "_"):
        ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes,
                color="0.4")
        return
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def plot(results: dict, outdir: Path, only: tuple[str, ...] = PLOTS) -> list[Path]:
    """Draw ``PLOTS`` (those in ``only``) into ``outdir`` from a results dict (matplotlib,
    no pyplot state); the paths written."""
    from matplotlib.figure import Figure

    outdir.mkdir(parents=True, exist_ok=True)
    s = results["setup"]
    names = [n for n in s["processors"] if any(r["processor"] == n for r in results["rows"])]
    backends = backends_of(results)
    ours = _by(results["rows"], "processor", "backend", "chunk", "channels")
    peers = _by(results["peer"].get("rows", []), "processor", "backend", "chunk", "channels")
    stamp = f"{results['date']}, {results['machine']['cpu']}, {results['machine']['cores']} cores"
    written = []

    def save(fig: Any, name: str) -> None:
        fig.suptitle(stamp, x=0.99, ha="right", fontsize=7, color="0.4")
        path = outdir / name
        fig.savefig(path, dpi=100)
        written.append(path)

    width = 4.2 * max(len(names), 1)
    for along, fname in (("chunk", PLOTS[0]), ("channels", PLOTS[1])):
        if fname in only:
            _cost(fig := Figure(figsize=(width, 3.6), layout="constrained"), results, along,
                  names, backends, ours, peers)
            save(fig, fname)
    if PLOTS[2] in only:
        _overhead(fig := Figure(figsize=(width, 6.4), layout="constrained"), results, names,
                  backends, ours)
        save(fig, PLOTS[2])
    if PLOTS[3] in only:
        _vs_peer(fig := Figure(figsize=(9.0, 3.6), layout="constrained"), results, names, ours,
                 peers)
        save(fig, PLOTS[3])
    return written


def _cost(fig: Any, results: dict, along: str, names: list[str], backends: list[str],
          ours: dict, peers: dict) -> None:
    s = results["setup"]
    pts = _line(results, along)
    xi = 0 if along == "chunk" else 1
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        for b in backends:
            xs = [p[xi] for p in pts if (name, b, *p) in ours]
            ys = [ours[(name, b, *p)]["ours_us"] for p in pts if (name, b, *p) in ours]
            ax.plot(xs, ys, "o-", color=_STYLE.get(b), label=b)
        for b, color in (("numpy", "k"), ("torch", _STYLE["torch"])):
            xs = [p[xi] for p in pts if (name, b, *p) in peers]
            ys = [peers[(name, b, *p)]["peer_us"] for p in pts if (name, b, *p) in peers]
            if xs:
                ax.plot(xs, ys, "--", color=color, alpha=0.6, label=f"peer {b}")
        _scale(ax)
        ax.set_title(s["processors"][name], fontsize=9)
        fixed = (f"{s['base_channels']} channels" if along == "chunk" else
                 f"{s['base_chunk']}-sample chunks")
        ax.set_xlabel(("chunk size (samples)" if along == "chunk" else "channels")
                      + f", {fixed}")
        ax.set_ylabel("us per chunk")


def _overhead(fig: Any, results: dict, names: list[str], backends: list[str],
              ours: dict) -> None:
    s = results["setup"]
    for row, along in enumerate(("chunk", "channels")):
        pts = _line(results, along)
        xi = 0 if along == "chunk" else 1
        for i, name in enumerate(names):
            ax = fig.add_subplot(2, len(names), row * len(names) + i + 1)
            for b in backends:
                keys = [(name, b, *p) for p in pts if (name, b, *p) in ours]
                ax.plot([k[2 + xi] for k in keys], [ours[k]["overhead_us"] for k in keys],
                        "o-", color=_STYLE.get(b), label=b)
            _scale(ax, logy=False)
            ax.set_yscale("symlog", linthresh=10.0)  # noise swings both ways; us to ms
            ax.axhline(0.0, color="0.5", lw=0.8)
            ax.set_xlabel("chunk size (samples)" if along == "chunk" else "channels")
            ax.set_ylabel("ours - kernel (us)")
            if row == 0:
                ax.set_title(s["processors"][name], fontsize=9)


def _vs_peer(fig: Any, results: dict, names: list[str], ours: dict, peers: dict) -> None:
    for j, along in enumerate(("chunk", "channels")):
        pts = _line(results, along)
        xi = 0 if along == "chunk" else 1
        ax = fig.add_subplot(1, 2, j + 1)
        for name in names:
            keys = [p for p in pts if (name, "numpy", *p) in ours and
                    (name, "numpy", *p) in peers]
            ax.plot([p[xi] for p in keys],
                    [peers[(name, "numpy", *p)]["peer_us"] / ours[(name, "numpy", *p)]["ours_us"]
                     for p in keys], "o-", label=name)
        _scale(ax)
        ax.axhline(1.0, color="0.5", lw=0.8)
        ax.set_xlabel("chunk size (samples)" if along == "chunk" else "channels")
        ax.set_ylabel("peer / ours, numpy (> 1: ours faster)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="three points, numpy, no peer")
    ap.add_argument("--plot-only", action="store_true", help="redraw from results.json")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--backends", nargs="+", help="default: numpy torch jax mlx; also "
                    "array_api_strict, cupy, or name:device such as torch:cuda")
    args = ap.parse_args()
    if args.plot_only:
        results = load(args.out / "results.json")
        (args.out / "results.md").write_text(markdown(results))
        plot(results, args.out)
        return
    kwargs: dict[str, Any] = {"log": lambda line: print(line, file=sys.stderr, flush=True),
                              "backends": args.backends}
    if args.quick:
        kwargs.update(backends=("numpy",), points=[(1, 64), (10, 64), (10, 8)], peer=False)
    print(run(args.out, **kwargs))


if __name__ == "__main__":
    main()
