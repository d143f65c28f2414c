"""Messages per second and latency of real ezmsg graphs: a clock drives ``synth.Oscillator``
(``n_time`` samples x 64 channels, float32), optionally through a stateless transform, into a
sink that measures every message.

Chains: ``clock`` (ticks straight into the sink: the ezmsg floor, one hop), ``baseline``
(oscillator -> sink), ``Scale`` (oscillator -> our ``math.scale.Scale`` -> sink) and ``bare``
(oscillator -> a plain ``ez.Unit`` doing the same ``replace(msg, data=msg.data * 2)`` -> sink),
all in one process, and again with the sink in a second process (``process_components``:
messages cross shared memory). ``Scale`` minus ``bare`` is what our Unit adds; ``Scale`` minus
``baseline`` is what one transform hop costs.

Each run has two phases, told apart by the tick time stamps:

* **throughput**: the clock ticks as fast as possible (``Clock(dispatch_rate=None)``'s
  behaviour, so queues stay full); messages/s is the number of messages the sink got per
  second of its own wall-clock time, after ``SETTLE`` s.
* **latency**: the clock ticks about ``PACED_RATE`` times per second, far below capacity, so
  that a message normally meets empty queues. Latency = ``time.perf_counter()`` when the sink's
  callback starts minus ``perf_counter()`` when the clock made the tick. The oscillator copies
  the tick's offset into its ``time`` axis (it does so for a tick with a non-zero gain when
  ``n_time`` is set; ezmsg's unthrottled ``Clock`` sends gain 0, for which the oscillator writes
  a synthetic ``counter / fs`` instead, hence the ``StampClock`` here). ``perf_counter`` is
  ``CLOCK_MONOTONIC`` on Linux, shared by all processes. A message's latency therefore covers
  clock -> oscillator -> (transform ->) sink: two or three hops and the oscillator's work.

A second table drives each Unit's ``on_signal`` task directly (no transport) to show what a
Unit itself costs per message.

``python -m benchmarks.graph`` prints both tables. Numbers, not assertions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseProducerUnit, ClockProducer, ClockSettings
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis, replace

from . import graph_chain
from .graph_chain import Watchdog as _Watchdog
from .graph_chain import WatchdogSettings as _WatchdogSettings
from .graph_chain import free_port as _free_port
from .timing import paired_us, per_call_us, table

N_CH = 64
FS = 1000.0
N_TIMES = (1, 10, 100)
AFAP_SECONDS = 1.5
PACED_SECONDS = 1.5
PACED_RATE = 1000.0
SETTLE = 0.3
"""Seconds discarded at the start of each phase (start-up; the queues draining)."""


# ---- units -----------------------------------------------------------------------------

class StampClockSettings(ClockSettings):
    afap_seconds: float = AFAP_SECONDS
    """Tick as fast as possible for this long, then at about ``paced_rate``."""
    paced_rate: float = PACED_RATE


class StampClockProducer(ClockProducer):
    """``ClockProducer`` whose ticks carry ``perf_counter()`` at the moment they are made and a
    non-zero gain (so the oscillator uses their offset): unthrottled for ``afap_seconds``, then
    one tick per ``1 / paced_rate`` s at most (a late tick delays the next one; no bursts)."""

    _t0: float | None = None
    _next: float = 0.0

    async def _produce(self) -> LinearAxis:
        s = self.settings
        now = time.perf_counter()
        if self._t0 is None:
            self._t0 = now
        if now - self._t0 >= s.afap_seconds:
            if self._next > now:
                await asyncio.sleep(self._next - now)
            now = time.perf_counter()
            self._next = now + 1.0 / s.paced_rate
        self.state.n_dispatch += 1
        return LinearAxis(gain=1.0 / s.paced_rate, offset=now)


class StampClock(BaseProducerUnit[StampClockSettings, LinearAxis, StampClockProducer]):
    SETTINGS = StampClockSettings


class BareScale(ez.Unit):
    """The floor a transform Unit can reach: a plain ezmsg Unit, same multiply."""

    INPUT_SIGNAL = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    @ez.subscriber(INPUT_SIGNAL)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> Any:
        yield self.OUTPUT_SIGNAL, replace(msg, data=msg.data * 2.0)


class LatencySinkSettings(ez.Settings):
    path: str
    afap_seconds: float = AFAP_SECONDS
    paced_seconds: float = PACED_SECONDS
    settle: float = SETTLE


class LatencySinkState(ez.State):
    t0: float | None = None
    n_afap: int = 0
    t_first: float = 0.0
    t_last: float = 0.0
    latencies: list = dataclasses.field(default_factory=list)


class LatencySink(ez.Unit):
    """Counts throughput-phase messages and records latency-phase latencies (s), writes them
    to ``path`` as JSON and stops the system."""

    SETTINGS = LatencySinkSettings
    STATE = LatencySinkState
    INPUT_SIGNAL = ez.InputStream(AxisArray)
    """Oscillator blocks (their ``time`` offset is the tick's stamp) or the ticks themselves."""

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        now = time.perf_counter()
        stamp = msg.offset if isinstance(msg, LinearAxis) else msg.axes["time"].offset
        st, s = self.STATE, self.SETTINGS
        if st.t0 is None:
            st.t0 = stamp
        age = stamp - st.t0
        if age < s.afap_seconds:
            if age >= s.settle:
                if st.n_afap == 0:
                    st.t_first = now
                st.n_afap += 1
                st.t_last = now
        elif age >= s.afap_seconds + s.settle:
            st.latencies.append(now - stamp)
            if age >= s.afap_seconds + s.paced_seconds:
                rate = (st.n_afap - 1) / (st.t_last - st.t_first) if st.n_afap > 1 else 0.0
                Path(s.path).write_text(json.dumps({"rate": rate,
                                                    "latencies": st.latencies}))
                raise ez.NormalTermination


# ---- graphs ----------------------------------------------------------------------------

def _transform(chain: str) -> ez.Unit | None:
    if chain == "Scale":
        from ezmsg_sigproc_units.math.scale import Scale, ScaleSettings

        return Scale(ScaleSettings(scale=2.0))
    if chain == "bare":
        return BareScale()
    return None


def run_case(chain: str, n_time: int, two_processes: bool, tmp: Path, *,
             afap_seconds: float = AFAP_SECONDS, paced_seconds: float = PACED_SECONDS) -> dict:
    """One graph; returns {"rate": msgs/s, "latencies": [s, ...]} (empty if it failed)."""
    from ezmsg_sigproc_units.synth.oscillator import Oscillator, OscillatorSettings

    path = tmp / f"{chain}_{n_time}_{int(two_processes)}.json"
    comps: dict[str, ez.Component] = {
        "CLOCK": StampClock(StampClockSettings(afap_seconds=afap_seconds)),
        "OSC": Oscillator(OscillatorSettings(fs=FS, n_time=n_time, n_ch=N_CH, freq=10.0)),
        "SINK": LatencySink(LatencySinkSettings(path=str(path), afap_seconds=afap_seconds,
                                                paced_seconds=paced_seconds)),
        "WATCHDOG": _Watchdog(_WatchdogSettings(seconds=afap_seconds + paced_seconds + 30.0)),
    }
    conns = [(comps["CLOCK"].OUTPUT_SIGNAL, comps["OSC"].INPUT_CLOCK)]
    xf = _transform(chain)
    if chain == "clock":  # the ezmsg floor: ticks straight into the sink, no oscillator
        del comps["OSC"]
        conns = [(comps["CLOCK"].OUTPUT_SIGNAL, comps["SINK"].INPUT_SIGNAL)]
    elif xf is None:
        conns.append((comps["OSC"].OUTPUT_SIGNAL, comps["SINK"].INPUT_SIGNAL))
    else:
        comps["XF"] = xf
        conns += [(comps["OSC"].OUTPUT_SIGNAL, xf.INPUT_SIGNAL),
                  (xf.OUTPUT_SIGNAL, comps["SINK"].INPUT_SIGNAL)]
    ez.run(components=comps, connections=conns,
           process_components=[comps["SINK"]] if two_processes else None,
           root_name=f"bench_graph_{uuid.uuid4().hex[:8]}",
           graph_address=("127.0.0.1", _free_port()), auto_start=True)
    return json.loads(path.read_text()) if path.exists() else {"rate": 0.0, "latencies": []}


def _us(values: list[float], q: float) -> float:
    return float(np.quantile(np.asarray(values), q)) * 1e6 if values else float("nan")


def graph_table() -> str:
    rows = []
    logger = logging.getLogger("ezmsg")
    level = logger.level
    logger.setLevel(logging.ERROR)  # no INFO lines or backpressure warnings in the table
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for two in (False, True):
                cases = [("clock", 0)] + [(c, n) for n in N_TIMES
                                          for c in ("baseline", "bare", "Scale")]
                for chain, n_time in cases:
                    r = run_case(chain, n_time or 1, two, Path(tmp))
                    lat = r["latencies"]
                    rows.append([_LABELS[chain], "2 (sink)" if two else "1",
                                 f"{n_time} x {N_CH}" if n_time else "tick",
                                 f"{r['rate']:.0f}", _us(lat, 0.5), _us(lat, 0.99), len(lat)])
    finally:
        logger.setLevel(level)
    return table(["chain", "processes", "message", "messages/s", "median latency (us)",
                  "p99 latency (us)", "latency samples"], rows)


_LABELS = {"clock": "clock -> sink (ezmsg floor)", "baseline": "osc -> sink",
           "bare": "osc -> bare Unit x*2 -> sink", "Scale": "osc -> Scale -> sink"}


# ---- per-message cost of the Units themselves (no transport) ---------------------------

def unit_table() -> str:
    from ezmsg_sigproc_units.math.scale import Scale, ScaleSettings, ScaleTransformer

    rows = []
    for n_time in N_TIMES:
        x = np.random.default_rng(0).standard_normal((n_time, N_CH)).astype(np.float32)
        msg = AxisArray(x, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)},
                        stream_dim="time")
        ours, bare = Scale(ScaleSettings(scale=2.0)), BareScale()
        loop = asyncio.new_event_loop()
        loop.run_until_complete(ours.initialize())
        batch = 200

        def run_ours() -> None:
            loop.run_until_complete(_many(ours, msg, batch))

        def run_bare() -> None:
            loop.run_until_complete(_many(bare, msg, batch))

        proc = ScaleTransformer(ScaleSettings(scale=2.0))
        t_ours, t_bare, diff = paired_us(run_ours, run_bare)
        t_proc = per_call_us(lambda: proc(msg))
        t_np = per_call_us(lambda: replace(msg, data=msg.data * 2.0))
        loop.close()
        rows.append([f"{n_time} x {N_CH}", t_ours / batch, t_bare / batch, diff / batch,
                     t_proc, t_np])
    return table(["message", "Scale.on_signal (us)", "bare Unit on_signal (us)",
                  "difference (us)", "ScaleTransformer call (us)",
                  "replace(msg, data=x*2) (us)"], rows)


async def _many(unit: ez.Unit, msg: AxisArray, n: int) -> None:
    for _ in range(n):
        async for _ in unit.on_signal(msg):
            pass


def run() -> str:
    return ("## ezmsg graph: clock -> Oscillator -> [transform] -> sink\n\n"
            + graph_table()
            + "\n\n## Per-message cost of a transform Unit's task, no transport\n\n"
            + unit_table() + "\n\n" + graph_chain.run())


if __name__ == "__main__":
    print(run())
