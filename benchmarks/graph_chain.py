"""A windowed ezmsg graph, ours beside the peer's: source -> ButterworthFilter -> Window ->
Spectrum -> RangedAggregate -> sink, in one process and with the sink in a second one.

The very same graph code runs on both packages (the import prefix is the only difference:
``ezmsg_sigproc_units`` here, ``ezmsg.sigproc`` in the peer's environment, where
``python -m benchmarks.graph_chain ezmsg.sigproc`` prints its figures as JSON).

The source sends 10-sample x 64-channel float32 chunks of a 1 kHz stream; the window is 0.5 s
with a 0.1 s hop, so one chunk in ten completes a window and reaches the sink as 2 band powers
x 64 channels. Each run has two phases:

* **throughput**: the source sends as fast as the graph takes chunks for ``AFAP_SECONDS``;
  chunks/s = windows the sink got per second of its own wall-clock time x 10 (chunks per
  window), after ``SETTLE`` s.
* **latency**: the source sends ``PACED_RATE`` chunks per second (far below capacity);
  latency = ``perf_counter()`` when the sink's callback starts minus ``perf_counter()`` when
  the source built the chunk that completed the window (carried in the message's ``attrs``,
  which every stage keeps).

Numbers, not assertions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import logging
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

FS, N_TIME, N_CH = 1000.0, 10, 64
WINDOW_DUR, WINDOW_SHIFT = 0.5, 0.1
CHUNKS_PER_WINDOW = round(WINDOW_SHIFT * FS / N_TIME)
BANDS = [(8.0, 12.0), (18.0, 30.0)]
AFAP_SECONDS, PACED_SECONDS, PACED_RATE, SETTLE = 2.0, 3.0, 400.0, 0.5
PEER_PYTHON = Path(__file__).resolve().parent.parent / ".venv-peer" / "bin" / "python"


class SourceSettings(ez.Settings):
    afap_seconds: float = AFAP_SECONDS
    paced_rate: float = PACED_RATE


class Source(ez.Unit):
    """Chunks of one fixed block, consecutive time offsets; ``attrs["stamp"]``: the
    ``perf_counter()`` when the chunk was built, ``attrs["age"]``: seconds since the first."""

    SETTINGS = SourceSettings
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    @ez.publisher(OUTPUT_SIGNAL)
    async def send(self) -> Any:
        x = np.random.default_rng(0).standard_normal((N_TIME, N_CH)).astype(np.float32)
        t0 = time.perf_counter()
        nxt, k = 0.0, 0
        while True:
            now = time.perf_counter()
            if now - t0 >= self.SETTINGS.afap_seconds:
                if nxt > now:
                    await asyncio.sleep(nxt - now)
                now = time.perf_counter()
                nxt = now + 1.0 / self.SETTINGS.paced_rate
            msg = AxisArray(x, dims=["time", "ch"],
                            axes={"time": AxisArray.TimeAxis(fs=FS, offset=k * N_TIME / FS)},
                            attrs={"stamp": now, "age": now - t0})
            k += 1
            yield self.OUTPUT_SIGNAL, msg


class SinkSettings(ez.Settings):
    path: str
    afap_seconds: float = AFAP_SECONDS
    paced_seconds: float = PACED_SECONDS
    settle: float = SETTLE


class SinkState(ez.State):
    n_afap: int = 0
    t_first: float = 0.0
    t_last: float = 0.0
    empty: int = 0
    latencies: list = dataclasses.field(default_factory=list)


class Sink(ez.Unit):
    """Counts throughput-phase windows, records latency-phase latencies (s) and messages
    without a window, writes them to ``path`` as JSON and stops the system."""

    SETTINGS = SinkSettings
    STATE = SinkState
    INPUT_SIGNAL = ez.InputStream(AxisArray)

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        now = time.perf_counter()
        st, s = self.STATE, self.SETTINGS
        if msg.data.shape[0] == 0:
            st.empty += 1
            return
        age = msg.attrs["age"]
        if s.settle <= age < s.afap_seconds:
            if st.n_afap == 0:
                st.t_first = now
            st.n_afap += 1
            st.t_last = now
        elif age >= s.afap_seconds + s.settle:
            st.latencies.append(now - msg.attrs["stamp"])
            if age >= s.afap_seconds + s.paced_seconds:
                rate = (st.n_afap - 1) / (st.t_last - st.t_first) if st.n_afap > 1 else 0.0
                Path(s.path).write_text(json.dumps({"rate": rate * CHUNKS_PER_WINDOW,
                                                    "latencies": st.latencies,
                                                    "empty": st.empty}))
                raise ez.NormalTermination


class WatchdogSettings(ez.Settings):
    seconds: float = 30.0


class Watchdog(ez.Unit):
    """Ends the system after ``seconds`` (a benchmark graph that never finishes)."""

    SETTINGS = WatchdogSettings

    @ez.task
    async def expire(self) -> None:
        await asyncio.sleep(self.SETTINGS.seconds)
        raise ez.NormalTermination


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_case(prefix: str, two_processes: bool, tmp: Path) -> dict:
    """One graph built from package ``prefix``; {"rate": chunks/s, "latencies": [s, ...],
    "empty": messages without a window that reached the sink} (rate 0 if it failed)."""
    def mod(name: str) -> Any:
        return importlib.import_module(f"{prefix}.{name}")

    bw, win, spec, agg = (mod(n) for n in ("butterworthfilter", "window", "spectrum",
                                           "aggregate"))
    path = tmp / f"{prefix}_{int(two_processes)}.json"
    comps: dict[str, ez.Component] = {
        "SRC": Source(SourceSettings()),
        "FILTER": bw.ButterworthFilter(bw.ButterworthFilterSettings(
            axis="time", order=4, cuton=1.0, cutoff=100.0)),
        "WINDOW": win.Window(win.WindowSettings(axis="time", newaxis="win",
                                                window_dur=WINDOW_DUR,
                                                window_shift=WINDOW_SHIFT)),
        "SPECTRUM": spec.Spectrum(spec.SpectrumSettings(axis="time")),
        "BANDS": agg.RangedAggregate(agg.RangedAggregateSettings(
            axis="freq", bands=BANDS, operation=agg.AggregationFunction.MEAN)),
        "SINK": Sink(SinkSettings(path=str(path))),
        "WATCHDOG": Watchdog(WatchdogSettings(seconds=AFAP_SECONDS + PACED_SECONDS + 40)),
    }
    chain = ["SRC", "FILTER", "WINDOW", "SPECTRUM", "BANDS", "SINK"]
    conns = [(comps[a].OUTPUT_SIGNAL, comps[b].INPUT_SIGNAL)
             for a, b in zip(chain[:-1], chain[1:], strict=True)]
    ez.run(components=comps, connections=conns,
           process_components=[comps["SINK"]] if two_processes else None,
           root_name=f"bench_chain_{uuid.uuid4().hex[:8]}",
           graph_address=("127.0.0.1", free_port()), auto_start=True)
    if path.exists():
        return json.loads(path.read_text())
    return {"rate": 0.0, "latencies": [], "empty": 0}


def figures(prefix: str) -> dict[str, dict]:
    """{"1" / "2": run_case's result} for package ``prefix``, in this environment."""
    logger = logging.getLogger("ezmsg")
    level = logger.level
    logger.setLevel(logging.ERROR)  # no INFO lines or backpressure warnings in the table
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return {str(1 + two): run_case(prefix, two, Path(tmp)) for two in (False, True)}
    finally:
        logger.setLevel(level)


def peer_figures() -> dict[str, dict] | None:
    """The peer's figures, from its own environment (None without ``make peer``)."""
    if not PEER_PYTHON.exists():
        return None
    done = subprocess.run([str(PEER_PYTHON), "-W", "ignore", "-m", "benchmarks.graph_chain",
                           "ezmsg.sigproc"], cwd=PEER_PYTHON.parent.parent.parent,
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"(peer graph benchmark failed, exit {done.returncode}: "
              f"{done.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ms(values: list[float], q: float) -> str:
    return f"{float(np.quantile(np.asarray(values), q)) * 1e3:.2f}" if values else "n/a"


def run() -> str:
    results = {"ours": figures("ezmsg_sigproc_units"), "peer": peer_figures()}
    rows = []
    for who, res in results.items():
        for procs, r in (res or {}).items():
            lat = r["latencies"]
            rows.append(f"| {who} | {procs} | {r['rate']:.0f} | {_ms(lat, 0.5)} | "
                        f"{_ms(lat, 0.99)} | {len(lat)} | {r['empty']} |")
    head = ("| package | processes | chunks/s | median latency (ms) | p99 latency (ms) | "
            "latency samples | empty messages at the sink |\n|---|---|---|---|---|---|---|")
    return ("## ezmsg graph: source -> ButterworthFilter -> Window -> Spectrum -> "
            "RangedAggregate -> sink\n\n"
            f"{N_TIME} x {N_CH} float32 chunks at {FS:.0f} Hz, {WINDOW_DUR} s windows, "
            f"{WINDOW_SHIFT} s hop; latency paced at {PACED_RATE:.0f} chunks/s; processes 2: "
            "the sink in a second process.\n\n" + head + "\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1:  # one package's figures as JSON (the peer's environment)
        print(json.dumps(figures(sys.argv[1])))
    else:
        print(run())
