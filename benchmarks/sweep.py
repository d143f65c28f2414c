"""The benchmark report's sweep: median microseconds per chunk of three representative
processors (Diff: cheap and elementwise; the 4th-order Butterworth band-pass 1-40 Hz as SOS;
BandPower: window 0.5 s, hop 0.1 s, two bands) against chunk size and channel count, per
backend (numpy, torch, jax and mlx; ``array_api_strict`` on request), each timed beside the
pure kernel functions it composes (called directly on the same arrays, state carried), and
ezmsg-sigproc's figures on the same inputs (its own environment, ``make peer``).

The grid is two lines through one point: chunk sizes ``CHUNKS`` at ``BASE_CHANNELS``
channels, and channel counts ``CHANNELS`` at ``BASE_CHUNK`` samples. float32, 1 kHz, 16
distinct messages (advancing offsets) of one chunk fed in turn; MLX outputs are evaluated and
JAX outputs waited for on both sides, so every figure is the cost of a finished chunk. Each
timed call feeds a group of chunks spanning one hop (100 samples), so every batch carries its
share of the window work; figures are per chunk.

    python -m benchmarks.sweep --peer      # the peer's rows, as JSON (run in .venv-peer)

``benchmarks.report`` runs the sweep and writes ``benchmarks/results/``. This module imports
nothing of ours at its top, so the peer's environment can run its ``--peer`` side.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .timing import paired_us, per_call_us

FS = 1000.0
CHUNKS = (1, 10, 100, 1000)
CHANNELS = (1, 8, 64, 256, 1024)
BASE_CHUNK, BASE_CHANNELS = 10, 64
BACKENDS = ("numpy", "torch", "jax", "mlx")
PROCESSORS = ("diff", "iir", "bandpower")
WINDOW_S, HOP_S = 0.5, 0.1
BANDS = [(8.0, 12.0), (18.0, 30.0)]
N_MSGS = 16
POINTS_ENV = "BENCH_SWEEP_POINTS"  # the grid the peer's side runs, when not the default
# The peer's environment holds numpy and torch (not JAX or MLX); it is tried on both.
PEER_BACKENDS = ("numpy", "torch")
LABELS = {
    "diff": "Diff (first difference)",
    "iir": "Butterworth IIR (4th order band-pass, SOS)",
    "bandpower": "BandPower (0.5 s window, 0.1 s hop, 2 bands)",
}


def grid(chunks: Iterable[int] = CHUNKS, channels: Iterable[int] = CHANNELS,
         base_chunk: int = BASE_CHUNK, base_channels: int = BASE_CHANNELS) -> list[tuple[int, int]]:
    """The (chunk, channels) points: the chunk-size line, then the channel line (the shared
    point once)."""
    points = [(t, base_channels) for t in chunks]
    points += [(base_chunk, c) for c in channels if (base_chunk, c) not in points]
    return points


def host_chunk(T: int, C: int) -> np.ndarray:
    """The one chunk every side of a point is fed (float32, seeded)."""
    return np.random.default_rng(0).standard_normal((T, C)).astype(np.float32)


def messages(data: Any, T: int) -> list[AxisArray]:
    """``N_MSGS`` messages of ``data`` (time x ch) with advancing offsets."""
    return [AxisArray(data, dims=["time", "ch"],
                      axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * T / FS)})
            for i in range(N_MSGS)]


def group_size(T: int) -> int:
    """Chunks per timed call: enough to span one hop, so that every timed batch holds the
    same share of window work (a median over batches of single chunks would pick the
    chunks that complete no window)."""
    return max(1, -(-round(HOP_S * FS) // T))


def feeder(step: Callable[[Any], Any], items: list, wait: Callable[[Any], Any],
           group: int = 1) -> Callable[[], Any]:
    """A no-argument call that feeds the next ``group`` of ``items`` (cyclically) to
    ``step``, waiting for each result."""
    k = [0]

    def call() -> Any:
        for _ in range(group):
            out = step(items[k[0] % len(items)])
            k[0] += 1
            wait(out)
        return out

    return call


def _repeats(T: int, C: int) -> int:
    return 7 if T * C >= 64_000 else 15


def warm_calls(T: int) -> int:
    """Grouped calls before timing: every message twice and two full windows, so that each
    shape a chunk size brings (JAX compiles per shape) is seen before the clock starts."""
    chunks = max(2 * N_MSGS, 2 * round((WINDOW_S + HOP_S) * FS) // T + 2)
    return -(-chunks // group_size(T))


# ----------------------------------------------------------------------------------- ours
def make_processor(name: str, package: str = "ezmsg_sigproc_units") -> Any:
    """A fresh processor ``name`` from ``package`` (ours, or the peer's ``ezmsg.sigproc``:
    the same public module paths and settings)."""
    def mod(module: str) -> Any:
        return importlib.import_module(f"{package}.{module}")

    if name == "diff":
        m = mod("diff")
        return m.DiffTransformer(m.DiffSettings(axis="time"))
    if name == "iir":
        m = mod("butterworthfilter")
        return m.ButterworthFilterTransformer(m.ButterworthFilterSettings(
            axis="time", order=4, cuton=1.0, cutoff=40.0, coef_type="sos"))
    m = mod("bandpower")
    spec = mod("spectrogram").SpectrogramSettings(window_dur=WINDOW_S, window_shift=HOP_S)
    return m.BandPowerTransformer(m.BandPowerSettings(spectrogram_settings=spec, bands=BANDS))


def _kernel(name: str, xp: Any, dev: Any, C: int) -> Callable[[Any], Any]:
    """The pure kernel functions ``name`` composes, as one step on a chunk ``(T, C)`` that
    carries its state: what the processor costs without messages, settings, checks and
    resets."""
    import scipy.signal as ss

    from ezmsg_sigproc_units._backend import asarray, zeros
    from ezmsg_sigproc_units._kernels import difference, iir, spectral, tapers, windowing

    if name == "diff":
        prev = [None]

        def diff_step(x: Any) -> Any:
            y, prev[0] = difference.diff_with_prev(xp, x, prev[0], 0)
            return y

        return diff_step
    if name == "iir":
        sos = ss.butter(4, (1.0, 40.0), btype="band", fs=FS, output="sos")
        plan = iir.iir_plan(xp, sos, dtype=xp.float32, device=dev)
        z = [None]

        def iir_step(x: Any) -> Any:
            if z[0] is None:  # the Filter's default initial_state="steady"
                z[0] = iir.iir_initial_state(xp, plan, x[0, ...])
            y, z[0] = iir.iir_filter(xp, plan, x, z[0])
            return y

        return iir_step
    # The Spectrogram's defaults: a Hamming taper, forward norm (1 / w), relative dB, and the
    # window pre-filled with w - h zeros (its zero_pad_until="shift"): the same numbers.
    w, h = round(WINDOW_S * FS), round(HOP_S * FS)
    taper = tapers.window("hamming", w)
    win = asarray(xp, (taper / w)[None, :, None], dtype=xp.float32, device=dev)
    weight = spectral.power_scale(taper, FS, "relative", None)
    freqs = np.fft.rfftfreq(w, 1.0 / FS)
    sels = [(int(np.argmax(freqs >= lo)), int(np.nonzero(freqs <= hi)[0][-1]) + 1)
            for lo, hi in BANDS]
    push = windowing.pusher(xp)
    ring: list = [zeros(xp, (w - h, C), dtype=xp.float32, device=dev), 0, w - h, 0]

    def bandpower_step(x: Any) -> Any:
        wins, *ring[:] = push(xp, ring[0], ring[1], ring[2], ring[3], x, w, h, 0, dev)
        if wins is None:
            return None
        f = spectral.windowed_fft(xp, wins, axis=1, nfft=w, win=win, one_sided=True,
                                  take=None)
        db = spectral.finish(xp, f, "db", weight)
        return xp.stack([xp.mean(db[:, lo:hi, :], axis=1) for lo, hi in sels], axis=1)

    return bandpower_step


def _wait(out: Any) -> None:
    """Until ``out`` is computed: MLX evaluated, JAX waited for, a CUDA stream synchronised."""
    from ezmsg_sigproc_units._backend import materialize

    data = out.data if isinstance(out, AxisArray) else out
    if data is None:
        return
    materialize(data)
    getattr(data, "block_until_ready", lambda: None)()
    if getattr(getattr(data, "device", None), "type", None) == "cuda":  # torch on a GPU
        import torch

        torch.cuda.synchronize(data.device)
    elif type(data).__module__.startswith("cupy"):
        import cupy

        cupy.cuda.get_current_stream().synchronize()


def backend_device(spec: str) -> tuple[str, str | None]:
    """``"torch"`` -> ``("torch", "cpu")``; ``"torch:cuda"`` -> ``("torch", "cuda")``: a
    backend name and the device to run on (torch and JAX default to the CPU here, the
    others to their default device)."""
    name, _, device = spec.partition(":")
    return name, device or ("cpu" if name in ("torch", "jax") else None)


def ours_point(backend: str, name: str, T: int, C: int) -> dict[str, float]:
    """Ours and the bare kernel at one point, timed in alternating batches: us per chunk.
    ``backend`` is a name, or ``name:device`` (e.g. ``torch:cuda``)."""
    from ezmsg_sigproc_units._backend import asarray, resolve

    xp, dev = resolve(*backend_device(backend))
    data = asarray(xp, host_chunk(T, C), dtype=xp.float32, device=dev)
    msgs = messages(data, T)
    proc, step = make_processor(name), _kernel(name, xp, dev, C)
    g = group_size(T)
    ours = feeder(proc, msgs, _wait, g)
    bare = feeder(step, [m.data for m in msgs], _wait, g)
    for _ in range(warm_calls(T)):
        ours()
        bare()
    a, b, d = paired_us(ours, bare, repeats=_repeats(T, C))
    return {"ours_us": a / g, "kernel_us": b / g, "overhead_us": d / g}


def available_backends(backends: Iterable[str] = BACKENDS) -> list[str]:
    """``backends`` (``_backend`` names, ``array_api_strict`` too, each optionally
    ``:device``) whose library is installed."""
    return [b for b in backends
            if b == "numpy" or importlib.util.find_spec(backend_device(b)[0])]


def run_ours(backends: Iterable[str] = BACKENDS, processors: Iterable[str] = PROCESSORS,
             points: list[tuple[int, int]] | None = None,
             log: Callable[[str], Any] = lambda s: None) -> list[dict]:
    """One row per (processor, backend, chunk, channels)."""
    rows = []
    for backend in available_backends(backends):
        for name in processors:
            for T, C in points or grid():
                t0 = time.perf_counter()
                row = {"processor": name, "backend": backend, "chunk": T, "channels": C}
                row.update(ours_point(backend, name, T, C))
                rows.append(row)
                log(f"{name:9s} {backend:10s} {T:5d}x{C:<5d} {row['ours_us']:10.1f} us "
                    f"(kernel {row['kernel_us']:.1f}) [{time.perf_counter() - t0:.1f} s]")
    return rows


# ----------------------------------------------------------------------------------- peer
def peer_rows(backends: Iterable[str] = PEER_BACKENDS, processors: Iterable[str] = PROCESSORS,
              points: list[tuple[int, int]] | None = None) -> dict:
    """ezmsg-sigproc on the same inputs: ``{"rows": [...], "failures": {backend/name: why}}``.
    A backend it cannot run costs that processor's rows and records the error once."""
    rows, failures = [], {}
    for backend in backends:
        convert = (lambda a: a) if backend == "numpy" else None
        if backend == "torch":
            import torch

            convert = torch.from_numpy
        for name in processors:
            for T, C in points or grid():
                proc, g = make_processor(name, "ezmsg.sigproc"), group_size(T)
                call = feeder(proc, messages(convert(host_chunk(T, C)), T), lambda out: None, g)
                try:
                    for _ in range(warm_calls(T)):  # a failure shows in the first windows
                        call()
                except Exception as e:  # noqa: BLE001 - the peer's failure is the finding
                    failures[f"{backend}/{name}"] = f"{type(e).__name__}: {e}"[:200]
                    break
                us = per_call_us(call, repeats=_repeats(T, C)) / g
                rows.append({"processor": name, "backend": backend, "chunk": T,
                             "channels": C, "peer_us": us})
    return {"rows": rows, "failures": failures}


def peer_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ezmsg-sigproc")
    except PackageNotFoundError:
        return None


def run_peer(points: list[tuple[int, int]] | None = None) -> dict:
    """The peer's side, run in its own environment: its rows, failures and version, or
    ``{"available": False, "note": why}``."""
    from .peer import PEER_PYTHON, run_peer_module

    if not PEER_PYTHON.exists():
        return {"available": False, "note": "no .venv-peer (make peer)", "rows": [],
                "failures": {}}
    old = os.environ.get(POINTS_ENV)
    if points is not None:  # run_peer_module passes no arguments: the grid goes by env
        os.environ[POINTS_ENV] = " ".join(f"{t}x{c}" for t, c in points)
    try:
        got = run_peer_module("sweep")
    finally:
        if old is None:
            os.environ.pop(POINTS_ENV, None)
        else:
            os.environ[POINTS_ENV] = old
    if not got:
        return {"available": False, "note": "the peer's sweep failed", "rows": [],
                "failures": {}}
    return {"available": True, **got}


def parse_points(text: Iterable[str]) -> list[tuple[int, int]]:
    """``["10x64", ...]`` -> ``[(10, 64), ...]`` (chunk x channels)."""
    return [(int(a), int(b)) for a, b in (p.split("x") for p in text)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer", action="store_true", help="run the peer's side (its venv)")
    ap.add_argument("--points", nargs="*", help="chunk x channels points, e.g. 10x64")
    args = ap.parse_args()
    given = args.points or os.environ.get(POINTS_ENV, "").split()
    points = parse_points(given) if given else None
    if args.peer:
        out = peer_rows(points=points)
        out["version"] = peer_version()
        print(json.dumps(out))
    else:
        run_ours(points=points, log=print)


if __name__ == "__main__":
    main()
