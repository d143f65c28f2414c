"""Pieces the example systems share: a statistics sink that ends the run, a watchdog, and the
command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units import _backend


class StatsSinkSettings(ez.Settings):
    seconds: float | None = None
    """Stop the system after this much signal time (samples / fs), in s. None: no limit."""

    n_samples: int | None = None
    """Stop the system after this many samples along ``time``. None: no limit."""

    period: float = 1.0
    """Wall-clock seconds between status lines. Default 1.0."""

    record: str | None = None
    """Path of a JSON file the final counts are written to (for tests). Default None."""

    quiet: bool = False
    """Print nothing. Default False."""


class StatsSinkState(ez.State):
    messages: int = 0
    samples: int = 0
    t_start: float = 0.0
    t_print: float = 0.0
    last: AxisArray | None = None


class StatsSink(ez.Unit):
    """Counts messages and samples, prints a statistics line about once per ``period``, and
    raises ``ez.NormalTermination`` once ``seconds`` of signal or ``n_samples`` arrived."""

    SETTINGS = StatsSinkSettings
    STATE = StatsSinkState

    INPUT_SIGNAL = ez.InputStream(AxisArray)

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        st, s = self.STATE, self.SETTINGS
        now = time.monotonic()
        if st.messages == 0:
            st.t_start = st.t_print = now
        st.messages += 1
        st.samples += msg.data.shape[msg.dims.index("time")] if "time" in msg.dims else 1
        st.last = msg
        gain = msg.axes["time"].gain if "time" in msg.axes else 0.0
        done = (s.n_samples is not None and st.samples >= s.n_samples) or (
            s.seconds is not None and gain > 0 and st.samples * gain >= s.seconds - 1e-9
        )
        if done or now - st.t_print >= s.period:
            st.t_print = now
            if not s.quiet:
                print(self.summary_line(now), flush=True)
        if done:
            self._write_record()
            raise ez.NormalTermination

    def summary_line(self, now: float) -> str:
        st = self.STATE
        x = st.last.data
        xp, device = _backend.namespace_and_device(x)
        # Host statistics once per line, never per message.
        stats = _backend.to_host(xp.stack([xp.mean(x), xp.min(x), xp.max(x)]))
        rate = st.samples / max(now - st.t_start, 1e-9)
        return (
            f"{st.messages:6d} msgs {st.samples:8d} samples {rate:9.0f} samples/s | "
            f"last block {tuple(x.shape)} mean {stats[0]:+.4f} min {stats[1]:+.4f} "
            f"max {stats[2]:+.4f} | {_backend.backend_name(x)} {device} "
            f"{_backend.dtype_name(x.dtype)}"
        )

    def _write_record(self) -> None:
        if self.SETTINGS.record is None:
            return
        st = self.STATE
        last = st.last
        rec = {"messages": st.messages, "samples": st.samples}
        if last is not None:
            x = last.data
            xp = _backend.array_namespace(x)
            stats = _backend.to_host(xp.stack([xp.mean(x), xp.min(x), xp.max(x)]))
            rec.update(mean=float(stats[0]), min=float(stats[1]), max=float(stats[2]),
                       backend=_backend.backend_name(last.data),
                       device=str(_backend.device_of(last.data)),
                       dtype=_backend.dtype_name(last.data.dtype),
                       shape=list(last.data.shape), dims=list(last.dims))
        Path(self.SETTINGS.record).write_text(json.dumps(rec))

    async def shutdown(self) -> None:
        self._write_record()  # also when something else (a watchdog, Ctrl-C) ended the run


class WatchdogSettings(ez.Settings):
    seconds: float = 20.0
    """Wall-clock deadline in s after which the whole system is stopped. Default 20.0."""


class Watchdog(ez.Unit):
    """Stops the system after ``seconds`` no matter what (a deadline for tests)."""

    SETTINGS = WatchdogSettings

    @ez.task
    async def expire(self) -> None:
        await asyncio.sleep(self.SETTINGS.seconds)
        ez.logger.warning(f"Watchdog: stopping the system after {self.SETTINGS.seconds} s")
        raise ez.NormalTermination


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """``--seconds``, ``--backend``, ``--device``: the options every example takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--seconds", type=float, default=3.0, help="signal seconds to run (3)")
    p.add_argument("--backend", default="numpy", choices=_backend.BACKENDS,
                   help="array library the sources generate with (numpy)")
    p.add_argument("--device", default=None, help="device, e.g. cpu, cuda:0 (backend default)")
    return p.parse_args(argv)
