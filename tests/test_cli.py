"""The ``ezmsg-sigproc-units`` command line: list, describe, examples, graph and run."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import typing
from pathlib import Path

import ezmsg.core as ez
import pytest

from examples import common
from ezmsg_sigproc_units import _backend, cli
from ezmsg_sigproc_units.asarray import ArrayBackend
from ezmsg_sigproc_units.testing.graph import free_port

ROOT = Path(__file__).resolve().parents[1]

EXAMPLES = ("backend_switch", "bandpower", "default", "online_lda", "online_rnn", "subscribe")


def _main(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def parse_mermaid(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """(node paths, edges between node paths) of Mermaid text from ``graph`` or from
    ``ezmsg mermaid`` (node ids differ, the labelled nesting is the same)."""
    stack: list[str] = []
    paths: dict[str, str] = {}
    edges = []
    for line in text.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"subgraph \S+ \[(.+)\]", line):
            stack.append(m[1])
        elif line == "end":
            stack.pop()
        elif m := re.fullmatch(r"(\S+) --> (\S+)", line):
            edges.append((m[1], m[2]))
        elif m := re.fullmatch(r"(\S+)\[(.+)\]", line):
            paths[m[1]] = "/".join([*stack, m[2]])
    return set(paths.values()), {(paths[a], paths[b]) for a, b in edges}


# ---- list / describe ---------------------------------------------------------------------------

def test_list_names_every_public_unit(capsys):
    rc, out, _ = _main(capsys, "list")
    assert rc == 0
    lines = out.splitlines()
    names = [line.split()[0] for line in lines]
    for name in ("butterworthfilter.ButterworthFilter", "bandpower.BandPower", "math.clip.Clip",
                 "math.add.Add", "asarray.AsArray", "synth.oscillator.Oscillator"):
        assert name in names
    assert len(names) == len(set(names)) == len(lines)
    assert not [n for n in names if n.startswith(("_", "testing")) or "._" in n]
    assert "BaseFilterByDesignTransformerUnit" not in out  # a generic base, not a Unit to use
    butter = lines[names.index("butterworthfilter.ButterworthFilter")]
    assert "Butterworth" in butter and re.search(r"\[.*\border, cuton, cutoff\b.*\]$", butter)


def test_discovered_units_are_units_with_settings():
    units = cli.discover_units()
    assert len(units) >= 40
    for name, unit in units.items():
        module = f"{cli.PACKAGE}.{name.rpartition('.')[0]}"
        assert issubclass(unit, ez.Unit) and unit.__module__ == module
        assert issubclass(cli.settings_of(unit), ez.Settings)


@pytest.mark.parametrize("name", ["ButterworthFilter", "butterworthfilter.ButterworthFilter",
                                  "ezmsg_sigproc_units.butterworthfilter.ButterworthFilter",
                                  "butterworthfilter"])
def test_describe_shows_type_default_and_doc(capsys, name):
    rc, out, _ = _main(capsys, "describe", name)
    assert rc == 0
    assert out.startswith("butterworthfilter.ButterworthFilter ")
    assert "streams: INPUT_SETTINGS (in), INPUT_SIGNAL (in), OUTPUT_SIGNAL (out)" in out
    assert "\n  order: int = 0\n      Filter order" in out
    assert "\n  cuton: float | None = None\n      Cut-on frequency" in out
    # inherited from FilterBaseSettings (filter.py): docs come from the base class's source
    assert "\n  axis: str | None = None\n      Dim to filter along." in out
    assert "\n  coef_type: str = 'ba'\n" in out


def test_describe_reads_docs_of_settings_outside_the_package(capsys):
    rc, out, _ = _main(capsys, "describe", "Oscillator")
    assert rc == 0
    # fs and n_time come from ezmsg-baseproc's ClockDrivenSettings
    assert "\n  fs: float = (required)\n      Output sampling rate in Hz." in out
    assert "\n  freq: float | list[float] = 10.0\n      Frequency in Hz" in out


def test_describe_enum_default_and_unit_without_settings(capsys):
    rc, out, _ = _main(capsys, "describe", "AsArray")
    assert rc == 0 and "backend: ArrayBackend = ArrayBackend.numpy" in out
    rc, out, _ = _main(capsys, "describe", "math.add.Add")
    assert rc == 0 and "INPUT_SIGNAL_A (in), INPUT_SIGNAL_B (in)" in out and "(no fields)" in out


@pytest.mark.parametrize("name, suggestion", [
    ("Butterworth", "butterworthfilter.ButterworthFilter"), ("BandPowr", "bandpower.BandPower"),
    ("zzzqqq", "math.clip.Clip")])
def test_describe_unknown_unit_suggests_and_exits_2(capsys, name, suggestion):
    rc, out, err = _main(capsys, "describe", name)
    assert rc == 2 and out == ""
    assert f"unknown unit {name!r}" in err and suggestion in err


class _BaseDocSettings(ez.Settings):
    a: int = 1
    """Doc of a."""

    b: str = "x"
    c: float = 0.5
    """Doc of c,
    two lines."""


class _DocSettings(_BaseDocSettings):
    c: float = 1.5
    """Overridden doc of c."""

    d: list[float] = dataclasses.field(default_factory=lambda: [1.0])
    """Doc of d."""


def test_field_docs_reads_attribute_docstrings_including_inherited():
    docs = cli.field_docs(_DocSettings)
    assert docs == {"a": "Doc of a.", "c": "Overridden doc of c.", "d": "Doc of d."}
    assert cli.field_docs(_BaseDocSettings)["c"] == "Doc of c,\ntwo lines."
    d = {f.name: f for f in dataclasses.fields(_DocSettings)}
    assert cli.default_text(d["d"]) == "[1.0]" and cli.default_text(d["b"]) == "'x'"


@pytest.mark.parametrize("text, tp, value", [
    ("3", int, 3), ("2.5", float, 2.5), ("yes", bool, True), ("false", bool, False),
    ("none", str | None, None), ("cpu", str | None, "cpu"), ("7", int | None, 7),
    ("10", float | list[float], 10.0), ("10,22", float | list[float], [10.0, 22.0]),
    ("[1, 2]", list[int], [1, 2]), ("(8, 12)", tuple[float, float], (8.0, 12.0)),
    ("torch", ArrayBackend, ArrayBackend.torch), ("b", typing.Literal["a", "b"], "b"),
])
def test_convert_by_annotation(text, tp, value):
    got = common.convert(text, tp)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("text, tp", [("abc", int), ("maybe", bool), ("cupyy", ArrayBackend),
                                      ("1,2,3", tuple[float, float])])
def test_convert_rejects(text, tp):
    with pytest.raises(ValueError):
        common.convert(text, tp)


# ---- examples / graph --------------------------------------------------------------------------

def test_examples_lists_each_with_settings(capsys):
    rc, out, _ = _main(capsys, "examples")
    assert rc == 0
    for name in EXAMPLES:
        assert re.search(rf"^{name}: \S", out, re.M)
    assert "    seconds: float = 3.0" in out and "    n_ch: int = 8" in out


@pytest.fixture
def no_running(monkeypatch):
    """Fail if anything tries to start a graph."""
    def refuse(*args, **kwargs):
        raise AssertionError("graph must not run anything")

    monkeypatch.setattr(ez, "run", refuse)
    monkeypatch.setattr(ez.GraphRunner, "start", refuse)
    monkeypatch.setattr(ez.GraphServer, "start", refuse)


def test_graph_default_is_mermaid_of_the_network(capsys, no_running):
    rc, out, _ = _main(capsys, "graph", "default")
    assert rc == 0
    assert out.startswith("flowchart LR\n  subgraph sg_default [DEFAULT]\n")
    nodes, edges = parse_mermaid(out)
    assert ("DEFAULT/CLOCK/OUTPUT_SIGNAL", "DEFAULT/OSC/INPUT_CLOCK") in edges
    assert ("DEFAULT/CLIP/OUTPUT_SIGNAL", "DEFAULT/SINK/INPUT_SIGNAL") in edges
    assert len(edges) == out.count(" --> ") == 8
    assert "DEFAULT__NOISE__OUTPUT_SIGNAL --> DEFAULT__ADD__INPUT_SIGNAL_B" in out
    assert "subgraph sg_default__sink [SINK]" in out and "INPUT_SETTINGS" not in out


@pytest.mark.parametrize("name", EXAMPLES)
def test_graph_of_every_example_matches_its_network(capsys, no_running, name):
    rc, out, _ = _main(capsys, "graph", name)
    assert rc == 0
    _, edges = parse_mermaid(out)
    module = cli.load_example(name)
    system = module.SYSTEM(module.SETTINGS())
    root = name.upper()
    system._set_name(root)  # what ez.run does; network() then gives addressed streams
    system._set_location([])
    assert edges == _network_edges(system)


def _network_edges(system) -> set[tuple[str, str]]:
    """Every Collection's network, walked down: the edges ``graph`` draws (a Collection's own
    topics stay nodes of their own, as in ``ezmsg mermaid``)."""
    edges = set()

    def walk(c) -> None:
        if isinstance(c, ez.Collection):
            edges.update((a.address, b.address) for a, b in c.network())
            for sub in c.components.values():
                walk(sub)

    walk(system)
    return edges


def test_graph_compact_has_one_node_per_unit(capsys, no_running):
    rc, out, _ = _main(capsys, "graph", "bandpower", "-c")
    assert rc == 0
    nodes, edges = parse_mermaid(out)
    eeg = ("CLOCK", "PINK", "LINE", "ALPHA_LO", "ALPHA_HI", "BETA_LO", "BETA_HI", "ADD_BG",
           "ADD_ALPHA", "ADD_BETA", "ADD_RHYTHM", "ADD_ALL")  # the EEGSynth Collection's Units
    assert nodes == ({f"BANDPOWER/{u}" for u in ("FILTER", "BANDS", "LOG", "SINK")}
                     | {f"BANDPOWER/EEG/{u}" for u in eeg})
    assert ("BANDPOWER/EEG/ADD_ALL", "BANDPOWER/FILTER") in edges
    assert ("BANDPOWER/FILTER", "BANDPOWER/BANDS") in edges


def test_missing_examples_are_reported(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "repo_root", lambda: tmp_path)
    for argv in (["run", "default"], ["graph", "default"], ["examples"]):
        rc, _, err = _main(capsys, *argv)
        assert rc == 2 and "no examples found" in err and "checkout" in err


# ---- run: bad input (fails before anything starts) ---------------------------------------------

def test_run_help_lists_the_example_options(capsys):
    rc, out, _ = _main(capsys, "run", "bandpower", "--help")
    assert rc == 0 and "ezmsg-sigproc-units run bandpower" in out
    for option in ("--seconds", "--backend", "--device", "--set KEY=VALUE", "--deadline",
                   "--address HOST:PORT"):
        assert option in out


@pytest.mark.parametrize("argv, words", [
    (["run", "nope"], ["unknown example 'nope'", *EXAMPLES]),
    (["run", "defualt"], ["did you mean default"]),
    (["run", "default", "--set", "bogus=1"], ["unknown setting 'bogus'", "n_ch (int)", "seconds"]),
    (["run", "default", "--set", "n_ch"], ["KEY=VALUE", "valid settings"]),
    (["run", "default", "--set", "n_ch=many"], ["setting n_ch"]),
    (["run", "default", "--set", "fs=-1"], ["fs: must be > 0"]),
    (["run", "default", "--backend", "nonsense"], ["backend 'nonsense' is unknown", "numpy"]),
    (["run", "default", "--set", "backend=nonsense"], ["installed: numpy"]),
    (["graph", "default", "--set", "bogus=1"], ["unknown setting 'bogus'"]),
])
def test_run_rejects_bad_input_with_choices(capsys, no_running, argv, words):
    rc, out, err = _main(capsys, *argv)
    assert rc == 2
    for word in words:
        assert word in err


def test_run_rejects_a_backend_that_is_not_installed(capsys, no_running):
    installed = _backend.installed_backends()
    missing = [b for b in ("cupy", "mlx", "jax", "torch") if b not in installed]
    if not missing:
        pytest.skip("every backend is installed")
    rc, _, err = _main(capsys, "run", "default", "--backend", missing[0])
    assert rc == 2 and "not installed here; installed: numpy" in err


# ---- run: real graphs in a subprocess ----------------------------------------------------------

def _cli(*argv: str, timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "EZMSG_LOGLEVEL": "WARNING"}
    env.pop("EZMSG_GRAPHSERVER_ADDR", None)
    return subprocess.run([sys.executable, "-m", "ezmsg_sigproc_units.cli", *argv], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_run_default_prints_progress_and_exits_0(tmp_path):
    # from another directory: the examples are found through the package, not the cwd
    p = _cli("run", "default", "--seconds", "0.5", "--set", "n_ch=3", "--set", "noise=0.1",
             "--address", f"127.0.0.1:{free_port()}", "--deadline", "60", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    progress = [line for line in p.stdout.splitlines() if " msg/s " in line]
    assert progress, p.stdout
    m = re.search(r"\d+ msgs +[\d.]+ msg/s +\d+ samples +\d+ samples/s \| latency +([\d.]+) ms "
                  r"\(max ([\d.]+)\) \|", progress[-1])
    assert m, progress[-1]  # unsigned: the time since a block's tick was due is never negative
    assert 0.0 <= float(m[1]) <= float(m[2])
    assert "last (10, 3)" in progress[-1] and "numpy cpu float32" in progress[-1]
    assert re.search(r"^done: \d+ messages, (\d+) samples", p.stdout, re.M)
    assert int(re.search(r"(\d+) samples at the sink", p.stdout)[1]) >= 500


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_run_backend_switch_on_torch(tmp_path):
    pytest.importorskip("torch")
    p = _cli("run", "backend_switch", "--backend", "torch", "--seconds", "0.5", "--quiet",
             "--set", "n_ch=2", "--address", f"127.0.0.1:{free_port()}", "--deadline", "60")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "on torch" in p.stdout and " msg/s " not in p.stdout  # --quiet: no progress lines
    assert re.search(r"^done: \d+ messages", p.stdout, re.M)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_run_reports_a_run_cut_short_by_the_deadline():
    p = _cli("run", "default", "--seconds", "1000", "--deadline", "1.5", "--quiet",
             "--address", f"127.0.0.1:{free_port()}")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "ended before 1000 s of signal" in p.stderr


# ---- the ezmsg way: ezmsg start, run with EZMSG_GRAPHSERVER_ADDR, ezmsg mermaid, Ctrl-C,
# ---- ezmsg shutdown (private loopback port, bounded in time)

BIN = Path(sys.executable).parent
EZMSG = [str(BIN / "ezmsg")] if (BIN / "ezmsg").exists() else [sys.executable, "-m", "ezmsg.core"]


def _sigint_default() -> None:  # a child of a background job would otherwise ignore SIGINT
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except ProcessLookupError:
        return False
    except OSError:  # no /proc: signal 0 went through
        return True


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_start_run_mermaid_ctrl_c_shutdown(tmp_path):
    addr = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "EZMSG_GRAPHSERVER_ADDR": addr, "EZMSG_LOGLEVEL": "INFO"}

    def ezmsg(*args: str) -> subprocess.CompletedProcess:
        # output to a file, not a pipe: the server `start` forks keeps its stdout open
        with open(tmp_path / "ezmsg.out", "w+") as f:
            p = subprocess.run([*EZMSG, *args, "--address", addr], env=env, stdout=f,
                               stderr=subprocess.STDOUT, text=True, timeout=60)
            f.seek(0)
            p.stdout = f.read()
        return p

    start = ezmsg("start", "--log-file", str(tmp_path / "graphserver.log"))
    found = re.search(r"Forked ezmsg servers in PID: (\d+)", start.stdout)
    assert start.returncode == 0 and found, start.stdout
    server_pid = int(found[1])
    app = None
    try:
        app = subprocess.Popen(
            [sys.executable, "-m", "examples.default", "--seconds", "120", "--deadline", "100"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=_sigint_default)
        deadline = time.monotonic() + 90
        while True:  # until the example has registered its graph
            live = ezmsg("mermaid", "-n")
            assert live.returncode == 0, live.stdout
            if "CLIP" in live.stdout and "-->" in live.stdout:
                break
            assert app.poll() is None, f"the example exited early:\n{app.communicate()[0]}"
            assert time.monotonic() < deadline, "the example never showed up in ezmsg mermaid"
            time.sleep(0.5)
        # the live graph is exactly what `ezmsg-sigproc-units graph default` draws offline
        module = cli.load_example("default")
        offline = cli.mermaid(common.connections(module.SYSTEM(module.SETTINGS()), "DEFAULT"))
        assert parse_mermaid(live.stdout)[1] == parse_mermaid(offline)[1]
        assert ("DEFAULT/CLOCK/OUTPUT_SIGNAL", "DEFAULT/OSC/INPUT_CLOCK") in parse_mermaid(
            live.stdout)[1]

        app.send_signal(signal.SIGINT)  # Ctrl-C: graceful stop
        out = app.communicate(timeout=60)[0]
        if app.returncode == -signal.SIGINT:
            # ezmsg ends a shutdown it finds unclean (a task raised while stopping: seen once
            # in CI, the Clock's publish racing the teardown of its channel inside ezmsg) by
            # re-raising SIGINT with the default action; shells report that as 130 too
            assert "Exception in Task" in out, out
        else:
            assert app.returncode == 130 and "stopped by Ctrl-C" in out, out
        assert f"Connected to GraphServer @ {addr}" in out, out
        assert "graceful shutdown" in out, out
        assert "-->" not in ezmsg("mermaid", "-n").stdout  # its edges are gone with it
    finally:
        if app is not None and app.poll() is None:
            app.send_signal(signal.SIGINT)
            try:
                app.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                app.kill()
                app.communicate()
        try:
            stop = ezmsg("shutdown")
        finally:
            for _ in range(50):  # the server exits on its own after the shutdown command
                if not _alive(server_pid):
                    break
                time.sleep(0.1)
            else:
                os.kill(server_pid, signal.SIGINT)  # our own server, by its id
    assert stop.returncode == 0 and "shutdown" in stop.stdout.lower(), stop.stdout
