"""Per-chunk cost of ezmsg-sigproc's Window, Spectrogram and BandPower on the workload of
``benchmarks.window`` and ``benchmarks.spectral`` (64 ch, 1 kHz, 10-sample float32 NumPy
chunks, 0.5 s window, 0.1 s hop). It imports nothing of ours, so it runs in the peer's own
environment (``make .venv-peer``); ``benchmarks.run`` calls it there when that environment
exists and prints its figures beside ours. Prints one JSON object of median us per chunk."""

from __future__ import annotations

import json
import pathlib
import subprocess
from collections.abc import Callable
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .timing import per_call_us

FS, CH, CHUNK, N_MSGS = 1000.0, 64, 10, 1000
BANDS = [(8.0, 12.0), (18.0, 30.0)]


PEER_PYTHON = pathlib.Path(__file__).resolve().parent.parent / ".venv-peer" / "bin" / "python"
_FIGURES: list[dict[str, float] | None] = []


def run_peer_module(module: str) -> dict[str, float | None]:
    """``python -m benchmarks.<module> --peer`` in the peer's environment: the JSON object it
    prints last ({} without ``.venv-peer`` or when it fails, with the reason printed)."""
    if not PEER_PYTHON.exists():
        return {}
    done = subprocess.run([str(PEER_PYTHON), "-W", "ignore", "-m", f"benchmarks.{module}",
                           "--peer"], cwd=PEER_PYTHON.parent.parent.parent, capture_output=True,
                          text=True)
    if done.returncode != 0:
        print(f"(peer {module} benchmark failed: {done.stderr.strip().splitlines()[-1:]})")
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


def figures() -> dict[str, float] | None:
    """The peer's median us per chunk (keys window, spectrogram, bandpower), timed once per
    run in its own environment; None when ``make peer`` has not created it."""
    if not _FIGURES:
        out = None
        if PEER_PYTHON.exists():
            done = subprocess.run([str(PEER_PYTHON), "-W", "ignore", "-m", "benchmarks.peer"],
                                  cwd=PEER_PYTHON.parent.parent.parent, capture_output=True,
                                  text=True)
            if done.returncode == 0:
                out = json.loads(done.stdout)
            else:  # a broken peer environment costs its column, not the whole benchmark
                print(f"(peer benchmark failed, exit {done.returncode}: "
                      f"{done.stderr.strip().splitlines()[-1:]})")
        _FIGURES.append(out)
    return _FIGURES[0]


def messages(convert: Callable[[np.ndarray], Any] = lambda host: host) -> list[AxisArray]:
    """The benchmark stream, the one workload of the window and spectral tables (ours and
    the peer's): 1000 distinct messages (distinct offsets) of one float32 chunk, fed
    cyclically; ``convert`` moves the chunk to another backend."""
    host = np.random.default_rng(0).standard_normal((CHUNK, CH)).astype(np.float32)
    x = convert(host)
    return [AxisArray(x, dims=["time", "ch"],
                      axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * CHUNK / FS)})
            for i in range(N_MSGS)]


def per_chunk_us(proc, msgs: list[AxisArray]) -> float:
    k = [0]

    def chunk() -> object:
        out = proc(msgs[k[0] % N_MSGS])
        k[0] += 1
        return out

    return per_call_us(chunk)


def main() -> None:
    from ezmsg.sigproc.bandpower import BandPowerSettings, BandPowerTransformer
    from ezmsg.sigproc.spectrogram import SpectrogramSettings, SpectrogramTransformer
    from ezmsg.sigproc.window import WindowSettings, WindowTransformer

    msgs = messages()
    spec = SpectrogramSettings(window_dur=0.5, window_shift=0.1)
    procs = {
        "window": WindowTransformer(WindowSettings(window_dur=0.5, window_shift=0.1,
                                                   zero_pad_until="none")),
        "spectrogram": SpectrogramTransformer(spec),
        "bandpower": BandPowerTransformer(BandPowerSettings(spectrogram_settings=spec,
                                                            bands=BANDS)),
    }
    print(json.dumps({name: per_chunk_us(p, msgs) for name, p in procs.items()}))


if __name__ == "__main__":
    main()
