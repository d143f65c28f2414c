"""Pieces the example systems share: the settings every example has, a statistics sink that
prints a progress line and ends the run, a watchdog, and the command line.

Every example module offers the same interface: a one-line module docstring, ``SETTINGS`` (a
subclass of :class:`ExampleSettings`), ``SYSTEM`` (an ``ez.Collection`` built from
``SETTINGS``) and ``main(argv) -> int`` (``python -m examples.NAME``), which is
:func:`example_main`. ``ezmsg-sigproc-units run NAME ...`` runs the same :func:`example_main`.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import dataclasses
import enum
import inspect
import json
import math
import signal
import sys
import tempfile
import threading
import time
import types
import typing
from pathlib import Path

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth._source import TICK_ATTR


class ExampleSettings(ez.Settings):
    """The fields every example's ``SETTINGS`` has (examples add their own after these)."""

    seconds: float = 3.0
    """Signal seconds to run before the sink stops the system. Default 3.0."""

    backend: str = "numpy"
    """Array library the sources generate with (everything downstream follows the data)."""

    device: str | None = None
    """Device for ``backend`` (e.g. "cpu", "cuda:0"); None is its default. Default None."""

    quiet: bool = False
    """Suppress the sink's status lines. Default False."""

    record: str | None = None
    """JSON file for the sink's final counts (tests, the command line). Default None."""


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
    latencies: list = dataclasses.field(default_factory=list)  # s, since the last line
    latency_run: list = dataclasses.field(default_factory=lambda: [0, 0.0, math.inf, -math.inf])
    """Latencies of the whole run: count, sum, min, max (s)."""
    done: bool = False
    # The latest message, read (never modified) by the status line and the record. Safe to keep
    # because every example runs its sink in its publisher's process; a sink in another process
    # would get NumPy views into reused shared memory and must copy what it keeps.
    last: AxisArray | None = None


def block_latency(msg: AxisArray, now: float) -> float | None:
    """``now`` (``time.monotonic()``) minus the time the clock tick that produced the
    message's newest block was due (``attrs["tick"]``, stamped by every
    ``ezmsg_sigproc_units.synth`` source and kept by the stages; after a windowed stage, the
    tick of the block that completed the window), in s; None without a stamp. See
    docs/cli.md, "What the progress line says"."""
    tick = msg.attrs.get(TICK_ATTR) if msg.attrs else None
    return now - tick if isinstance(tick, float) else None


class StatsSink(ez.Unit):
    """Counts messages and samples, prints a progress line (message and sample rates, latency)
    with statistics of the last block about once per ``period``, and raises
    ``ez.NormalTermination`` once ``seconds`` of signal or ``n_samples`` arrived."""

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
        st.last = msg  # kept until the next message only; never modified
        latency = block_latency(msg, now)
        if latency is not None:
            st.latencies.append(latency)
            run = st.latency_run
            run[0] += 1
            run[1] += latency
            run[2] = min(run[2], latency)
            run[3] = max(run[3], latency)
        gain = msg.axes["time"].gain if "time" in msg.axes else 0.0
        st.done = (s.n_samples is not None and st.samples >= s.n_samples) or (
            s.seconds is not None and gain > 0 and st.samples * gain >= s.seconds - 1e-9
        )
        if st.done or now - st.t_print >= s.period:
            st.t_print = now
            if not s.quiet:
                print(self.summary_line(now), flush=True)
            st.latencies = []
            if not st.done:
                # Kept current once a line: an unclean stop (Ctrl-C while ezmsg cancels the
                # tasks) may never call shutdown().
                self._write_record(final=False)
        if st.done:
            self._write_record()
            raise ez.NormalTermination

    def progress_line(self, now: float) -> str:
        """Run time, message and sample rates since the first message, and the mean and
        maximum latency (``block_latency``) of the messages since the previous line."""
        st = self.STATE
        dt = max(now - st.t_start, 1e-9)
        lat = st.latencies
        latency = (f"latency {1e3 * sum(lat) / len(lat):6.1f} ms (max {1e3 * max(lat):.1f})"
                   if lat else "latency n/a")
        return (f"t={dt:5.1f}s {st.messages:6d} msgs {st.messages / dt:7.1f} msg/s "
                f"{st.samples:8d} samples {st.samples / dt:9.0f} samples/s | {latency}")

    def summary_line(self, now: float) -> str:
        x = self.STATE.last.data
        xp, device = _backend.namespace_and_device(x)
        # Host statistics once per line, never per message.
        stats = _backend.to_host(xp.stack([xp.mean(x), xp.min(x), xp.max(x)]))
        return (
            f"{self.progress_line(now)} | last {tuple(x.shape)} mean {stats[0]:+.4f} "
            f"min {stats[1]:+.4f} max {stats[2]:+.4f} | {_backend.backend_name(x)} {device} "
            f"{_backend.dtype_name(x.dtype)}"
        )

    def _write_record(self, final: bool = True) -> None:
        """The run's record (``SETTINGS.record``): counts, latency and the last block's
        statistics; ``final`` is False for the once-a-line updates before the run ends."""
        if self.SETTINGS.record is None:
            return
        st = self.STATE
        last = st.last
        n, total, low, high = st.latency_run
        rec = {"messages": st.messages, "samples": st.samples, "done": st.done, "final": final,
               "latency": {"n": n, "mean": total / n, "min": low, "max": high} if n else None}
        if last is not None:
            x = last.data
            xp = _backend.array_namespace(x)
            stats = _backend.to_host(xp.stack([xp.mean(x), xp.min(x), xp.max(x)]))
            rec.update(mean=float(stats[0]), min=float(stats[1]), max=float(stats[2]),
                       backend=_backend.backend_name(last.data),
                       device=str(_backend.device_of(last.data)),
                       dtype=_backend.dtype_name(last.data.dtype),
                       shape=list(last.data.shape), dims=list(last.dims))
        tmp = Path(f"{self.SETTINGS.record}.tmp")
        tmp.write_text(json.dumps(rec))
        tmp.replace(self.SETTINGS.record)  # readers never see half a record

    async def shutdown(self) -> None:
        self._write_record()  # also when something else (a watchdog, Ctrl-C) ended the run


def sink_settings(s: ExampleSettings, **kwargs) -> StatsSinkSettings:
    """The sink settings an example's ``SETTINGS`` implies (seconds, quiet, record)."""
    return StatsSinkSettings(seconds=s.seconds, quiet=s.quiet, record=s.record, **kwargs)


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


# ---- the command line of every example (also `ezmsg-sigproc-units run NAME ...`) -------------

def convert(text: str, tp: object) -> object:
    """``text`` as a value of annotation ``tp``: bool, int, float, str, None, Literal, Enum,
    unions of these (tried left to right, str last) and lists or tuples of them (``1,2,3`` or
    ``[1, 2, 3]``). ``ValueError`` if it is none of them."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null") and type(None) in args:
            return None
        errors = []
        for arg in sorted((a for a in args if a is not type(None)), key=lambda a: a is str):
            try:
                return convert(text, arg)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError("; ".join(errors))
    if origin in (list, tuple):
        items = (ast.literal_eval(text) if text.strip()[:1] in "[(" else
                 [t for t in text.split(",") if t.strip()])
        fixed = origin is tuple and Ellipsis not in args
        if fixed and len(items) != len(args):
            raise ValueError(f"{text!r}: expected {len(args)} items")
        out = [convert(str(v).strip(), args[i] if fixed else args[0]) for i, v in
               enumerate(items)]
        return out if origin is list else tuple(out)
    choices = (args if origin is typing.Literal else list(tp) if inspect.isclass(tp)
               and issubclass(tp, enum.Enum) else None)
    if choices is not None:
        for c in choices:
            if text in (str(c), getattr(c, "name", None), str(getattr(c, "value", c))):
                return c
        raise ValueError(f"{text!r} is not one of {', '.join(map(str, choices))}")
    if tp is bool:
        if text.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return text.lower() in ("1", "true", "yes", "on")
        raise ValueError(f"{text!r} is not a bool (true/false)")
    if tp in (int, float, str, Path):
        return tp(text)
    raise ValueError(f"cannot read a {tp} from the command line")


def make_settings(cls: type, pairs: list[str], **given: object) -> ExampleSettings:
    """``cls`` from ``KEY=VALUE`` strings (converted by each field's annotation) and given
    values (None: the default). ``ValueError`` names the valid settings."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {k: v for k, v in given.items() if v is not None}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or key not in fields:
            valid = ", ".join(f"{k} ({f.type})" for k, f in fields.items())
            what = f"unknown setting {key!r}" if sep else f"--set wants KEY=VALUE, got {pair!r}"
            raise ValueError(f"{what}; valid settings: {valid}")
        try:
            values[key] = convert(text, hints[key])
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"setting {key}: {exc}") from None
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"invalid settings: {exc}") from None


def check_backend(backend: str, device: str | None) -> None:
    """Import the backend now and fail here (not inside the graph, where it would only be
    logged) on one that is not installed or a device that does not exist."""
    installed = _backend.installed_backends()
    if backend not in installed:
        known = "not installed here" if backend in _backend.BACKENDS else "unknown"
        raise ValueError(f"backend {backend!r} is {known}; installed: {', '.join(installed)}")
    _backend.resolve(backend, device)  # ValueError lists the devices there are


def connections(system: ez.Collection, root: str) -> list[tuple[str, str]]:
    """The edges ``ez.run`` would register for ``system`` named ``root``, computed by ezmsg's
    own set-up code (names, ``configure()``, ``network()``, relays) without running any Unit;
    a setting a Unit rejects raises ``ValueError`` here."""
    from ezmsg.core.backend import ExecutionContext

    ctx = ExecutionContext.setup({root: system})
    return list(ctx.connections) if ctx is not None else []


def parse_args(description: str | None, argv: list[str] | None = None,
               prog: str | None = None) -> argparse.Namespace:
    """The options every example takes."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--seconds", type=float, help="signal seconds to run (the example's default)")
    p.add_argument("--backend", help=f"array library the sources generate with, one of "
                   f"{', '.join(_backend.BACKENDS)} (numpy)")
    p.add_argument("--device", help="device, e.g. cpu, cuda:0 (backend default)")
    p.add_argument("--quiet", action="store_true", help="print no status lines")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set any field of the example's settings (repeatable)")
    p.add_argument("--deadline", type=float, help="wall-clock seconds after which a watchdog "
                   "stops the run (2 * seconds + 60)")
    p.add_argument("--address", metavar="HOST:PORT", help="graph server to use, started there "
                   "if none answers (default: ezmsg's: $EZMSG_GRAPHSERVER_ADDR, else its own)")
    return p.parse_args(argv)


class _CtrlCCounter:
    """Counts SIGINTs while ezmsg runs; ezmsg's graceful stop on KeyboardInterrupt is kept."""

    def __init__(self) -> None:
        self.count, self._previous = 0, None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.count += 1
        signal.default_int_handler(signum, frame)

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def example_main(system: type[ez.Collection], settings_cls: type[ExampleSettings], name: str,
                 argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run example ``name`` as ``NAME`` until its sink has ``seconds`` of signal (or the
    watchdog's deadline, or Ctrl-C). Returns the exit code: 0 done, 1 stopped early by the
    watchdog or an error, 2 bad options (the message names the valid choices), 130 Ctrl-C."""
    doc = (sys.modules[system.__module__].__doc__ or "").strip()
    args = parse_args(doc.splitlines()[0] if doc else None, argv, prog)
    root = name.upper()
    try:
        settings = make_settings(settings_cls, args.set, seconds=args.seconds,
                                 backend=args.backend, device=args.device,
                                 quiet=args.quiet or None)
        check_backend(settings.backend, settings.device)
        connections(system(settings), root)  # configure(): every Unit checks its settings
        host, _, port = (args.address or "").rpartition(":")
        if args.address and not (host and port.isdigit()):
            raise ValueError(f"--address wants HOST:PORT, got {args.address!r}")
    except ValueError as exc:
        print(f"{prog or name}: error: {exc}", file=sys.stderr)
        return 2
    address = dict(graph_address=(host, int(port)), auto_start=True) if args.address else {}
    deadline = args.deadline or 2.0 * settings.seconds + 60.0
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(settings.record or Path(tmp) / "record.json")
        record.unlink(missing_ok=True)
        settings = dataclasses.replace(settings, record=str(record))
        where = settings.backend + ("" if settings.device is None else f" {settings.device}")
        print(f"running example {name!r} for {settings.seconds:g} s of signal on {where} "
              f"(deadline {deadline:g} s wall, Ctrl-C stops)", flush=True)
        ctrl_c, t0 = _CtrlCCounter(), time.monotonic()
        try:
            ez.run(components={root: system(settings),
                               "WATCHDOG": Watchdog(WatchdogSettings(seconds=deadline))},
                   **address)
        finally:
            ctrl_c.restore()
        rec = json.loads(record.read_text()) if record.exists() else {}
    print(f"done: {rec.get('messages', 0)} messages, {rec.get('samples', 0)} samples at the "
          f"sink in {time.monotonic() - t0:.1f} s wall", flush=True)
    if rec and not rec.get("final"):
        print("(the sink did not shut down cleanly: counts as of its last progress line)",
              flush=True)
    if rec.get("done"):
        return 0
    if ctrl_c.count:
        print("stopped by Ctrl-C", file=sys.stderr)
        return 130
    print(f"the run ended before {settings.seconds:g} s of signal reached the sink (the "
          "watchdog or an error stopped it: see the log above)", file=sys.stderr)
    return 1
