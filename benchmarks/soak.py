"""Load and soak: a real ezmsg graph, source -> 5 stages -> sink, for many messages.

    SoakSource -> ButterworthFilter -> AdaptiveStandardScaler -> DiffUnit -> Abs -> Log -> SoakSink

Every stage maps one message to one message, so the sink can check each one. The source
sends ``n`` fresh ``(10, 64)`` float32 chunks of a 1 kHz stream as fast as the graph takes
them, each with ``attrs = {"seq": k, "sent": perf_counter()}``; every stage keeps the input's
attrs. Checked:

* **no lost, duplicated or reordered messages**: the sink expects ``seq`` 0, 1, 2, ... and
  exactly ``n`` messages, each ``(10, 64)`` float32 without NaN;
* **memory bounded**: the source's and the sink's process sample their own RSS
  (``/proc/self/status`` VmRSS) 100 times over the run, by message count, and a thread of
  the driver samples every process of the run (``TreeSampler``) every 0.5 s until the sink's
  last message; after warm-up (the first 10 % of the messages, or of the time) no sample may
  exceed the one at 10 % by 5 % or more;
* **no leaked shared memory**: every ``/dev/shm`` entry mapped by the graph's processes
  during the run (read from ``/proc/self/maps``) must be gone once ``ez.run`` returns;
* **throughput and latency** (figures): messages per second at the sink (first to last
  message) and latency = sink's ``perf_counter()`` on arrival - ``attrs["sent"]`` (one
  machine-wide monotonic clock, so it holds across processes). The source runs flat out, so
  the latency is the latency **under saturation**: it includes the wait in the publishers'
  buffers.

``python -m benchmarks.soak`` (defaults: 1,000,000 messages in one process, then 200,000 with
the sink in a second process; ``--n-local``/``--n-cross`` change them, 0 skips a run) prints a
Markdown summary and exits 1 on any violation. ``tests/test_soak.py`` runs a short version.
Linux only (``/proc``).

The harness lives here, not in ``ezmsg_sigproc_units.testing``: it is an opt-in load run
built from one fixed graph, reads ``/proc``, and reports timings, like the other graph
benchmarks; the test kit holds what a user's own processor tests need.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from examples.common import Watchdog, WatchdogSettings
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilter, ButterworthFilterSettings
from ezmsg_sigproc_units.diff import DiffSettings, DiffUnit
from ezmsg_sigproc_units.math.abs import Abs
from ezmsg_sigproc_units.math.log import Log, LogSettings
from ezmsg_sigproc_units.scaler import AdaptiveStandardScaler, AdaptiveStandardScalerSettings
from ezmsg_sigproc_units.testing.graph import free_port

FS, N_TIME, N_CH = 1000.0, 10, 64
N_LOCAL, N_CROSS = 1_000_000, 200_000
N_RSS = 100  # RSS samples per process over a run
WARMUP = 0.10  # fraction of the messages before the RSS reference sample
MAX_GROWTH = 0.05  # allowed RSS growth after warm-up (fraction of the reference)
STAGES = ("FILTER", "SCALER", "DIFF", "ABS", "LOG")
SHM_DIR = "/dev/shm/"


def rss_bytes() -> int:
    """This process's resident set size in bytes (VmRSS of ``/proc/self/status``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def mapped_shm() -> list[str]:
    """Paths under /dev/shm this process has mapped now."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            i = line.find(SHM_DIR)
            if i >= 0:
                found.add(line[i:].strip().removesuffix(" (deleted)"))
    return sorted(found)


def rss_growth(samples: list[tuple[float, int]], warmup: float = WARMUP) -> dict:
    """RSS growth after warm-up of one process's ``(fraction of the run, RSS bytes)``
    samples: ``ref`` (the first sample at or after ``warmup``), ``max`` and ``end`` (after it),
    ``growth`` = max / ref - 1."""
    after = [(f, r) for f, r in samples if f >= warmup]
    if not after:
        return {"ref": None, "max": None, "end": None, "growth": None}
    ref = after[0][1]
    top = max(r for _, r in after)
    return {"ref": ref, "max": top, "end": after[-1][1], "growth": top / ref - 1.0}


def bounded_tail(samples: list[tuple[float, int]], start: float = 0.5,
                 slack: int = 4 << 20, rel: float = MAX_GROWTH) -> tuple[bool, int]:
    """(ok, growth in bytes) of RSS from the sample at ``start`` (a fraction of the run) to
    the largest one after it: ok when it is below ``slack`` bytes plus ``rel`` of the
    reference. For short runs, where warm-up noise (allocator arenas, first-call caches)
    can still be settling at 10 %: the second half of a run that keeps every message would
    still grow by half of them."""
    after = [r for f, r in samples if f >= start]
    if not after:
        return False, 0
    grown = max(after) - after[0]
    return grown < slack + rel * after[0], grown


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (from ``/proc/*/stat``)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:  # gone meanwhile
                continue
            parent[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(c for c, p in parent.items() if p == pid)
    return sorted(tree)


def pid_rss(pid: int) -> int | None:
    """VmRSS of process ``pid`` in bytes (None if it is gone or has none)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class TreeSampler:
    """A thread sampling the RSS of this process and all its descendants (the graph server
    thread lives here; ezmsg's sink process and multiprocessing's resource tracker are
    children) every ``period`` s while the graph runs: {pid: [(perf_counter(), bytes)]}."""

    def __init__(self, period: float = 0.5) -> None:
        self.period, self.samples = period, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            t = time.perf_counter()
            for pid in process_tree(os.getpid()):
                rss = pid_rss(pid)
                if rss is not None:
                    self.samples.setdefault(pid, []).append((t, rss))
            if self._stop.wait(self.period):
                return

    def __enter__(self) -> TreeSampler:
        self.t_start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def by_fraction(self, t_end: float | None) -> dict[int, list[tuple[float, int]]]:
        """Each process's samples up to ``t_end`` (a ``perf_counter()`` time: the sink's
        last message; the tear-down after it is not the run), with times as fractions of the
        span from the start."""
        if t_end is None:
            t_end = max((t for v in self.samples.values() for t, _ in v), default=0.0)
        span = max(t_end - self.t_start, 1e-9)
        out = {pid: [((t - self.t_start) / span, r) for t, r in v if t <= t_end]
               for pid, v in self.samples.items()}
        return {pid: v for pid, v in out.items() if v}


class SeqCheck:
    """Checks a stream of sequence numbers that must run 0, 1, 2, ...: ``lost`` counts the
    numbers skipped, ``late`` the ones at or below one already seen (duplicated or
    reordered); ``errors`` describes the first ten."""

    def __init__(self) -> None:
        self.count = self.expected = self.lost = self.late = 0
        self.errors: list[str] = []

    def __call__(self, seq: int) -> bool:
        """Record ``seq``; True if it is the expected one."""
        ok = seq == self.expected
        if not ok:
            if seq > self.expected:
                self.lost += seq - self.expected
            else:
                self.late += 1
            self.error(f"message {self.count}: seq {seq}, expected {self.expected}")
        self.expected = max(self.expected, seq + 1)
        self.count += 1
        return ok

    def error(self, text: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(text)


class SoakSettings(ez.Settings):
    """Settings of both ends of the soak graph."""

    n: int
    """Messages in the run."""
    path: str
    """JSON file for the Unit's record (pid, RSS samples, mapped shared memory; the sink's
    also has the counts, errors and latency figures)."""
    n_time: int = N_TIME
    n_ch: int = N_CH


class MemoryProbe:
    """RSS of this process sampled ``N_RSS`` times over ``n`` messages (as ``(fraction of
    the run, bytes)``), and the /dev/shm paths it maps, read at the 2nd and the middle
    sample and at the end."""

    def __init__(self, n: int) -> None:
        self.n, self.every = n, max(1, n // N_RSS)
        self.rss: list[tuple[float, int]] = []
        self.shm: set[str] = set()

    def at(self, k: int) -> None:
        """Message ``k`` (from 0) is being handled."""
        if k % self.every == 0:
            self.rss.append((k / self.n, rss_bytes()))
            if len(self.rss) in (2, N_RSS // 2):
                self.shm.update(mapped_shm())

    def end(self) -> dict:
        """The last sample; {"pid", "rss", "shm"} for the record."""
        self.rss.append((1.0, rss_bytes()))
        self.shm.update(mapped_shm())
        return {"pid": os.getpid(), "rss": self.rss, "shm": sorted(self.shm)}


class SoakSource(ez.Unit):
    """Sends ``n`` fresh chunks as fast as the graph takes them, ``attrs["seq"]`` counting
    from 0 and ``attrs["sent"]`` the ``perf_counter()`` just before the send."""

    SETTINGS = SoakSettings
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    @ez.publisher(OUTPUT_SIGNAL)
    async def send(self) -> Any:
        s = self.SETTINGS
        pool = np.random.default_rng(0).standard_normal((16, s.n_time, s.n_ch))
        pool = pool.astype(np.float32)
        ch = AxisArray.CoordinateAxis(data=np.array([f"ch{i}" for i in range(s.n_ch)]),
                                      dims=["ch"])
        probe = MemoryProbe(s.n)
        for k in range(s.n):
            probe.at(k)
            msg = AxisArray(pool[k % 16].copy(), dims=["time", "ch"],
                            axes={"time": AxisArray.TimeAxis(fs=FS, offset=k * s.n_time / FS),
                                  "ch": ch},
                            attrs={"seq": k, "sent": time.perf_counter()})
            yield self.OUTPUT_SIGNAL, msg
        Path(s.path).write_text(json.dumps(probe.end()))
        raise ez.Complete


class SoakSinkState(ez.State):
    seq: SeqCheck = dataclasses.field(default_factory=SeqCheck)
    bad: int = 0
    """Messages of the wrong shape or dtype, or with NaN."""
    latency: Any = None
    t_first: float = 0.0
    t_last: float = 0.0
    probe: Any = None
    written: bool = False


class SoakSink(ez.Unit):
    """Checks every message (seq, shape, dtype, NaN), keeps its latency in a preallocated
    array, samples its process's RSS, and ends the system after ``n`` messages."""

    SETTINGS = SoakSettings
    STATE = SoakSinkState
    INPUT_SIGNAL = ez.InputStream(AxisArray)

    async def initialize(self) -> None:
        # Every page written now, so filling it in is no RSS growth.
        self.STATE.latency = np.full(self.SETTINGS.n, np.nan)
        self.STATE.probe = MemoryProbe(self.SETTINGS.n)

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        now = time.perf_counter()
        st, s = self.STATE, self.SETTINGS
        check, count = st.seq, st.seq.count
        seq = msg.attrs.get("seq", -1)
        check(seq)
        x = msg.data
        if (x.shape != (s.n_time, s.n_ch) or x.dtype != np.float32
                or bool(np.isnan(x).any())):
            st.bad += 1
            check.error(f"message {count} (seq {seq}): {x.dtype} {x.shape}")
        if count < s.n:
            st.latency[count] = now - msg.attrs.get("sent", np.nan)
        st.probe.at(count)
        if count == 0:
            st.t_first = now
        st.t_last = now
        if check.count == s.n:
            self._write()
            raise ez.NormalTermination

    def _write(self) -> None:
        st, s = self.STATE, self.SETTINGS
        check = st.seq
        memory = st.probe.end()  # first: the statistics below copy the latency array
        lat = st.latency[:min(check.count, s.n)]
        lat = lat[np.isfinite(lat)]
        q = (lambda p: float(np.quantile(lat, p))) if lat.size else (lambda p: None)
        span = st.t_last - st.t_first
        rec = {**memory, "count": check.count, "expected_next": check.expected,
               "lost": check.lost + max(0, s.n - check.expected), "late": check.late,
               "bad": st.bad, "errors": check.errors,
               "rate": (check.count - 1) / span if span > 0 else 0.0, "t_last": st.t_last,
               "latency": {"mean": float(lat.mean()) if lat.size else None,
                           "p50": q(0.5), "p99": q(0.99),
                           "max": float(lat.max()) if lat.size else None}}
        Path(s.path).write_text(json.dumps(rec))
        st.written = True

    async def shutdown(self) -> None:
        if not self.STATE.written:  # the watchdog or an error ended the run
            self._write()


class HoardState(ez.State):
    kept: list = dataclasses.field(default_factory=list)


class Hoard(ez.Unit):
    """A deliberate leak for testing the checks: passes every message on and keeps its data
    for ever, eight times over (about 20 kB a 10 x 64 float32 message), so that a short run's
    leak stands clear of the allocator's reuse of freed memory: with one copy (2.5 kB), the
    second half of a 5,000-message run once grew RSS by only 256 kB."""

    STATE = HoardState
    INPUT_SIGNAL = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    @ez.subscriber(INPUT_SIGNAL)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> Any:
        self.STATE.kept.append(np.tile(np.asarray(msg.data), (1, 8)))  # a new, written array
        yield self.OUTPUT_SIGNAL, msg


def soak(n: int, two_processes: bool, tmp: str | Path, deadline: float | None = None,
         hoard: bool = False) -> dict:
    """Run the soak graph for ``n`` messages (the sink in a second process if
    ``two_processes``; with ``hoard``, a leaking ``Hoard`` stage after DIFF) and return
    {"source": ..., "sink": ..., "shm_left": [...], "wall": s, "violations": [...], ...}."""
    tmp = Path(tmp)
    tag = f"{'cross' if two_processes else 'local'}_{n}"
    src_path, sink_path = tmp / f"soak_source_{tag}.json", tmp / f"soak_sink_{tag}.json"
    for p in (src_path, sink_path):
        p.unlink(missing_ok=True)
    comps: dict[str, ez.Component] = {
        "SOURCE": SoakSource(SoakSettings(n=n, path=str(src_path))),
        "FILTER": ButterworthFilter(ButterworthFilterSettings(axis="time", order=4, cuton=1.0,
                                                              cutoff=100.0)),
        "SCALER": AdaptiveStandardScaler(AdaptiveStandardScalerSettings(time_constant=1.0,
                                                                        axis="time")),
        "DIFF": DiffUnit(DiffSettings(axis="time")),
        "ABS": Abs(),
        "LOG": Log(LogSettings(clip_zero=True)),
        "SINK": SoakSink(SoakSettings(n=n, path=str(sink_path))),
    }
    chain = ["SOURCE", *STAGES, "SINK"]
    if hoard:
        comps["HOARD"] = Hoard()
        chain.insert(chain.index("DIFF") + 1, "HOARD")
    conns = [(comps[a].OUTPUT_SIGNAL, comps[b].INPUT_SIGNAL)
             for a, b in zip(chain[:-1], chain[1:], strict=True)]
    comps["WATCHDOG"] = Watchdog(WatchdogSettings(
        seconds=deadline if deadline is not None else 60.0 + n / 500.0))
    t0 = time.perf_counter()
    with TreeSampler() as tree:
        ez.run(components=comps, connections=conns,
               process_components=[comps["SINK"]] if two_processes else None,
               root_name=f"soak_{uuid.uuid4().hex[:8]}",
               graph_address=("127.0.0.1", free_port()), auto_start=True)
    wall = time.perf_counter() - t0
    src = json.loads(src_path.read_text()) if src_path.exists() else None
    sink = json.loads(sink_path.read_text()) if sink_path.exists() else None
    shm = sorted({*(src or {}).get("shm", []), *(sink or {}).get("shm", [])})
    result = {"n": n, "two_processes": two_processes, "source": src, "sink": sink,
              "shm_seen": shm, "shm_left": [p for p in shm if os.path.exists(p)],
              "wall": wall, "tree": tree.by_fraction((sink or {}).get("t_last"))}
    result["violations"] = violations(result)
    return result


def violations(r: dict) -> list[str]:
    """What a full run breaks: lost/late/bad messages, a count other than ``n``, RSS growth
    of 5 % or more after warm-up in any process, shared memory left behind."""
    out = []
    sink, src = r["sink"], r["source"]
    if sink is None:
        return ["the sink wrote no record (the graph did not run)"]
    if src is None:
        out.append("the source never finished sending (no record)")
    if sink["count"] != r["n"] or sink["lost"] or sink["late"] or sink["bad"]:
        out.append(f"messages: {sink['count']} of {r['n']} arrived, {sink['lost']} lost, "
                   f"{sink['late']} duplicated or reordered, {sink['bad']} malformed; "
                   f"first errors: {sink['errors'][:3]}")
    for name, rec in (("source", src), ("sink", sink)):
        g = rss_growth(rec["rss"])["growth"] if rec else None
        if g is not None and g >= MAX_GROWTH:
            out.append(f"{name} process RSS grew {100 * g:.1f} % after warm-up")
    for pid, samples in r.get("tree", {}).items():
        g = rss_growth(samples)["growth"] if len(samples) >= 10 else None
        if g is not None and g >= MAX_GROWTH:
            out.append(f"process {pid} RSS grew {100 * g:.1f} % after the first "
                       f"{WARMUP:.0%} of the run (sampled every 0.5 s)")
    if r["shm_left"]:
        out.append(f"shared memory left behind: {r['shm_left']}")
    return out


def _mb(b: int | None) -> str:
    return "n/a" if b is None else f"{b / 2**20:.1f}"


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{1e3 * v:.2f}"


def summary(results: list[dict]) -> str:
    """Markdown tables of the runs' figures and their violations."""
    rows, mem = [], []
    for r in results:
        where = "2 (sink apart)" if r["two_processes"] else "1"
        s = r["sink"] or {"count": 0, "lost": "?", "late": "?", "bad": "?", "rate": 0.0,
                          "latency": {}}
        lat = s["latency"]
        rows.append(f"| {where} | {r['n']:,} | {s['count']:,} | {s['lost']} | {s['late']} | "
                    f"{s['bad']} | {s['rate']:,.0f} | {_ms(lat.get('mean'))} | "
                    f"{_ms(lat.get('p50'))} | {_ms(lat.get('p99'))} | {_ms(lat.get('max'))} | "
                    f"{r['wall']:.1f} |")
        for name in ("source", "sink"):
            rec = r[name]
            if rec is None:
                continue
            g = rss_growth(rec["rss"])
            first = rec["rss"][0][1] if rec["rss"] else None
            growth = "n/a" if g["growth"] is None else f"{100 * g['growth']:+.2f} %"
            mem.append(f"| {where} | {name} | {rec['pid']} | {_mb(first)} | {_mb(g['ref'])} | "
                       f"{_mb(g['max'])} | {_mb(g['end'])} | {growth} |")
        for pid, samples in r.get("tree", {}).items():
            g = rss_growth(samples)
            growth = "n/a" if g["growth"] is None else f"{100 * g['growth']:+.2f} %"
            mem.append(f"| {where} | tree, every 0.5 s ({len(samples)}) | {pid} | "
                       f"{_mb(samples[0][1])} | {_mb(g['ref'])} | {_mb(g['max'])} | "
                       f"{_mb(g['end'])} | {growth} |")
    shm = [f"- {'2 processes' if r['two_processes'] else '1 process'}: "
           f"{len(r['shm_seen'])} /dev/shm entries mapped during the run, "
           f"{len(r['shm_left'])} left after it" for r in results]
    bad = [f"- {'2 processes' if r['two_processes'] else '1 process'}: {v}"
           for r in results for v in r["violations"]]
    return "\n".join([
        "## Soak: source -> ButterworthFilter -> AdaptiveStandardScaler -> DiffUnit -> Abs -> "
        "Log -> sink", "",
        f"{N_TIME} x {N_CH} float32 chunks at {FS:.0f} Hz, sent as fast as the graph takes "
        "them; latency is under that saturation (it includes the wait in the publishers' "
        "buffers).", "",
        "| processes | sent | received | lost | reordered/duplicated | malformed | msgs/s | "
        "latency mean (ms) | p50 (ms) | p99 (ms) | max (ms) | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|", *rows, "",
        f"RSS (MiB): the source's and the sink's process sample their own {N_RSS} times "
        "by message count; a thread of the driver samples every process of the run (itself, "
        "the sink's process, multiprocessing's resource tracker) every 0.5 s until the sink's "
        "last message (tree rows; warm-up by wall time; a process with fewer than 10 samples "
        "is not judged). "
        f"Growth = the largest sample after the first {WARMUP:.0%} over the sample at "
        f"{WARMUP:.0%} (limit +{MAX_GROWTH:.0%}).", "",
        "| processes | process | pid | RSS at start | at 10 % | max after | at end | growth |",
        "|---|---|---|---|---|---|---|---|", *mem, "",
        "Shared memory:", *shm, "",
        "Violations: " + ("none" if not bad else ""), *bad, ""])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--n-local", type=int, default=N_LOCAL,
                   help=f"messages in the one-process run (0 skips it; {N_LOCAL:,})")
    p.add_argument("--n-cross", type=int, default=N_CROSS,
                   help=f"messages with the sink in a second process (0 skips it; {N_CROSS:,})")
    p.add_argument("--json", metavar="PATH", help="also write the raw results there")
    args = p.parse_args(argv)
    # ERROR: a saturated graph logs ezmsg's "under subscriber backpressure" warning all along
    logging.getLogger("ezmsg").setLevel(logging.ERROR)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, two in ((args.n_local, False), (args.n_cross, True)):
            if n > 0:
                print(f"soak: {n:,} messages, {'2 processes' if two else '1 process'} ...",
                      file=sys.stderr, flush=True)
                results.append(soak(n, two, tmp))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(summary(results))
    return 1 if any(r["violations"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
