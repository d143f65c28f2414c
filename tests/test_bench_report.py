"""The benchmark report (``benchmarks.report``): its writer on a tiny synthetic results dict,
the committed ``benchmarks/results/results.json`` that the docs plots read, and the sweep's
bare kernels, which must compute what the processors compute (else "overhead over the
kernel" would compare unlike work)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from benchmarks import report, sweep

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def _synthetic() -> dict:
    points = [(1, 64), (10, 64), (10, 8)]
    rows, peer = [], []
    for name, scale in (("diff", 1.0), ("iir", 3.0)):
        for backend, factor in (("numpy", 1.0), ("torch", 2.0)):
            for T, C in points:
                us = scale * factor * (5.0 + T * C / 100.0)
                rows.append({"processor": name, "backend": backend, "chunk": T,
                             "channels": C, "ours_us": us, "kernel_us": us - 2.0,
                             "overhead_us": 2.0})
        for T, C in points:  # the peer 4x slower than ours on numpy
            us = 4.0 * scale * (5.0 + T * C / 100.0)
            peer.append({"processor": name, "backend": "numpy", "chunk": T, "channels": C,
                         "peer_us": us})
    return {
        "schema": report.SCHEMA, "date": "2026-01-02 03:04 UTC",
        "machine": {"cpu": "Test CPU 9000", "cores": 2, "arch": "x86_64", "platform": "Linux",
                    "python": "3.11", "versions": {"numpy": "2"}},
        "setup": {"fs": 1000.0, "dtype": "float32", "points": [list(p) for p in points],
                  "chunks": [1, 10], "channels": [8, 64], "base_chunk": 10,
                  "base_channels": 64,
                  "processors": {"diff": "Diff label", "iir": "IIR label",
                                 "bandpower": "BandPower label"},
                  "window_s": 0.5, "hop_s": 0.1, "bands": [[8.0, 12.0]]},
        "rows": rows,
        "peer": {"available": True, "version": "3.11.1", "rows": peer,
                 "failures": {"torch/iir": "TypeError: no"}},
        "seconds": 1.0,
    }


def test_writer_makes_json_markdown_and_plots(tmp_path):
    results = _synthetic()
    written = report.write(results, tmp_path)
    assert {p.name for p in written} == {"results.json", "results.md", *report.PLOTS}
    assert json.loads((tmp_path / "results.json").read_text()) == results
    for name in report.PLOTS:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000, name
    md = (tmp_path / "results.md").read_text()
    assert "2026-01-02 03:04 UTC" in md and "Test CPU 9000" in md
    assert "## Diff label" in md and "## IIR label" in md
    assert "BandPower label" not in md  # no rows: no table
    assert "torch/iir: TypeError: no" in md
    assert "jax" not in md  # only the backends measured
    for name in report.PLOTS:
        assert f"]({name})" in md


def test_headline_ratios():
    h = report.headline(_synthetic())
    assert set(h) == {"diff", "iir"}
    assert h["diff"]["peer_over_ours"] == pytest.approx(4.0)
    assert h["iir"]["base_overhead_us"] == pytest.approx(2.0)
    # ours / kernel at 1x64, 10x64, 10x8 for diff: 5.64/3.64, 11.4/9.4, 5.8/3.8 -> median
    assert h["diff"]["ours_over_kernel"] == pytest.approx(5.8 / 3.8)


def test_plots_without_peer_rows(tmp_path):
    results = _synthetic()
    results["peer"] = {"available": False, "note": "no .venv-peer", "rows": [], "failures": {}}
    assert [p.name for p in report.plot(results, tmp_path, only=("bench_peer.png",))] == [
        "bench_peer.png"]
    assert "not measured: no .venv-peer" in report.markdown(results)


def test_load_rejects_missing_keys(tmp_path):
    bad = _synthetic()
    del bad["machine"]
    (tmp_path / "r.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="machine"):
        report.load(tmp_path / "r.json")


def test_committed_results_parse_and_draw(tmp_path):
    """The stored run the docs draw: required keys, every processor on numpy at every grid
    point, the machine described, and the docs figure script draws every plot from it."""
    results = report.load(ROOT / "benchmarks" / "results" / "results.json")
    assert results["schema"] == report.SCHEMA
    assert results["machine"]["cpu"] and results["machine"]["cores"] >= 1
    assert "numpy" in results["machine"]["versions"]
    numpy_points = {(r["processor"], r["chunk"], r["channels"]) for r in results["rows"]
                    if r["backend"] == "numpy"}
    for name in ("diff", "iir", "bandpower"):
        for T, C in results["setup"]["points"]:
            assert (name, T, C) in numpy_points
    for r in results["rows"]:
        assert {"ours_us", "kernel_us", "overhead_us"} <= set(r) and r["ours_us"] > 0
    assert {"available", "rows", "failures"} <= set(results["peer"])

    spec = importlib.util.spec_from_file_location("_bench_fig",
                                                  ROOT / "docs" / "figures" / "benchmarks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(report.PLOTS)


def test_committed_markdown_matches_json():
    folder = ROOT / "benchmarks" / "results"
    assert (folder / "results.md").read_text() == report.markdown(
        report.load(folder / "results.json"))


@pytest.mark.parametrize("name", sweep.PROCESSORS)
def test_bare_kernel_computes_what_the_processor_does(name):
    """The sweep's kernel step (state carried) equals the processor, chunk by chunk."""
    from ezmsg_sigproc_units._backend import resolve

    xp, dev = resolve("numpy", None)
    T, C = 10, 3
    proc, step = sweep.make_processor(name), sweep._kernel(name, xp, dev, C)
    rng = np.random.default_rng(5)
    ours, bare = [], []
    for i in range(70):  # enough for several windows
        x = rng.standard_normal((T, C)).astype(np.float32)
        t = AxisArray.TimeAxis(fs=sweep.FS, offset=i * T / sweep.FS)
        out = proc(AxisArray(x, dims=["time", "ch"], axes={"time": t}))
        if name != "bandpower" or out.data.shape[0]:
            ours.append(out.data)
        y = step(x)
        if y is not None:
            bare.append(y)
    assert len(ours) == len(bare) > 0
    np.testing.assert_array_equal(np.concatenate(ours), np.concatenate(bare))


def test_grid_is_two_lines_through_the_base_point():
    pts = sweep.grid((1, 10, 100), (8, 64), base_chunk=10, base_channels=64)
    assert pts == [(1, 64), (10, 64), (100, 64), (10, 8)]
    assert sweep.parse_points(["10x64", "1x8"]) == [(10, 64), (1, 8)]
