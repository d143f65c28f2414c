"""Per-chunk cost of FilterTransformer (4th-order Butterworth band-pass 1-40 Hz at 1 kHz as
SOS, float32, carried state) next to raw ``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)`` on the
same NumPy chunk, timed in alternating batches. Framework overhead is included (a fresh
message per call; MLX outputs are evaluated, JAX outputs waited for).

    python -m benchmarks.filter                  # the full table
    python -m benchmarks.filter --quick          # 64 channels only
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .timing import paired_us, table

FS = 1000.0
CHUNKS = (1, 30, 300, 3000)
CHANNELS = (64, 256, 1024)
BACKENDS = ("numpy", "torch", "jax", "mlx")
N_MSGS = 16  # distinct message objects (advancing offsets) over the same data, fed in turn


def _sos() -> np.ndarray:
    import scipy.signal as ss

    return ss.butter(4, (1.0, 40.0), btype="band", fs=FS, output="sos")


def _case(backend: str, T: int, C: int) -> tuple[float, float]:
    """(ours, scipy) median us per chunk."""
    import scipy.signal as ss

    from ezmsg_sigproc_units._backend import asarray, materialize, resolve
    from ezmsg_sigproc_units.filter import filtergen

    sos = _sos()
    xp, dev = resolve(backend, "cpu" if backend in ("torch", "jax") else None)
    host = np.random.default_rng(0).standard_normal((T, C)).astype(np.float32)
    data = asarray(xp, host, dtype=xp.float32, device=dev)
    msgs = [AxisArray(data, dims=["time", "ch"],
                      axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * T / FS)})
            for i in range(N_MSGS)]
    proc = filtergen("time", sos, "sos")
    k = [0]

    def ours() -> object:
        out = proc(msgs[k[0] % N_MSGS])
        k[0] += 1
        materialize(out.data)  # MLX: evaluate
        getattr(out.data, "block_until_ready", lambda: None)()  # JAX: wait for the result
        return out

    zi = [np.zeros((sos.shape[0], 2, C), np.float32)]

    def scipy_sosfilt() -> object:
        y, zi[0] = ss.sosfilt(sos, host, axis=0, zi=zi[0])
        return y

    slow = T * C >= 300 * 1024
    a, b, _ = paired_us(ours, scipy_sosfilt, repeats=9 if slow else 21)
    return a, b


def _torch_one_thread(T: int, C: int) -> float:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _case("torch", T, C)[0]
    finally:
        torch.set_num_threads(threads)


def run(channels=CHANNELS, backends=BACKENDS) -> str:
    backends = [b for b in backends if importlib.util.find_spec(b) is not None]
    rows = []
    for C in channels:
        for T in CHUNKS:
            ours_np, scipy_us = _case("numpy", T, C)
            row: list[object] = [C, T, f"{scipy_us:.1f}",
                                 f"{ours_np:.1f} ({ours_np / scipy_us:.2f}x)"]
            for backend in backends:
                if backend != "numpy":
                    ours, _ = _case(backend, T, C)
                    row.append(f"{ours:.1f} ({ours / ours_np:.1f}x)")
                if backend == "torch":  # small products: torch's thread pool costs more
                    ours = _torch_one_thread(T, C)
                    row.append(f"{ours:.1f} ({ours / ours_np:.1f}x)")
            rows.append(row)
    head = ["channels", "chunk", "scipy sosfilt", "numpy (x scipy)"]
    for b in backends:
        if b != "numpy":
            head.append(f"{b} (x numpy)")
        if b == "torch":
            head.append("torch 1 thread")
    return ("### Filter (4th-order Butterworth band-pass as SOS, float32, 1 kHz), median us "
            "per chunk; numpy as a ratio to raw scipy.signal.sosfilt timed alongside, other "
            "backends as a ratio to numpy\n\n"
            + table(head, rows)
            + "\n\nTargets: numpy <= 0.5x scipy at every chunk size; torch, jax, mlx within 3x "
            "of numpy. 'torch 1 thread': after torch.set_num_threads(1), which small streaming "
            "chunks favour.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="64 channels only")
    args = ap.parse_args()
    print(run(channels=(64,) if args.quick else CHANNELS))


if __name__ == "__main__":
    main()
