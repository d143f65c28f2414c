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

from .timing import paired_us, per_call_us, table

FS = 1000.0
CHUNKS = (1, 30, 300, 3000)
CHANNELS = (64, 256, 1024)
BACKENDS = ("numpy", "torch", "jax", "mlx")
N_MSGS = 16  # distinct message objects (advancing offsets) over the same data, fed in turn


def _sos() -> np.ndarray:
    import scipy.signal as ss

    return ss.butter(4, (1.0, 40.0), btype="band", fs=FS, output="sos")


def _workload(backend: str, T: int, C: int) -> tuple[np.ndarray, list, object]:
    """(host chunk, N_MSGS messages of it on ``backend``, a fresh FilterTransformer)."""
    from ezmsg_sigproc_units._backend import asarray, resolve
    from ezmsg_sigproc_units.filter import filtergen

    xp, dev = resolve(backend, "cpu" if backend in ("torch", "jax") else None)
    host = np.random.default_rng(0).standard_normal((T, C)).astype(np.float32)
    data = asarray(xp, host, dtype=xp.float32, device=dev)
    msgs = [AxisArray(data, dims=["time", "ch"],
                      axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * T / FS)})
            for i in range(N_MSGS)]
    return host, msgs, filtergen("time", _sos(), "sos")


def _case(backend: str, T: int, C: int) -> tuple[float, float]:
    """(ours, scipy) median us per chunk."""
    import scipy.signal as ss

    from ezmsg_sigproc_units._backend import materialize

    sos = _sos()
    host, msgs, proc = _workload(backend, T, C)
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


def _jax_streamed(T: int, C: int, chunks: int = 400) -> float:
    """Median us per chunk when JAX outputs are not waited for one by one (a pipeline that
    queues the next chunk while the device computes): ``chunks`` chunks, then one wait."""
    _, msgs, proc = _workload("jax", T, C)

    def run() -> None:
        out = None
        for i in range(chunks):
            out = proc(msgs[i % N_MSGS])
        out.data.block_until_ready()

    run()  # compile
    return per_call_us(run, repeats=7) / chunks


def _jax_floor(T: int, C: int) -> float:
    """Median us per call of the least a JAX chunk costs here: one jitted product of the
    kernel's shape for a chunk shorter than a block (``G_r [z; x]``, ``r = T`` rows of
    output plus the 8 state rows), waited for. JAX's own dispatch sets it."""
    import jax
    import jax.numpy as jnp

    n = 8
    g = jnp.ones((T + n, n + T), jnp.float32)
    v = jnp.ones((n + T, C), jnp.float32)
    product = jax.jit(lambda g, v: g @ v)
    return per_call_us(lambda: product(g, v).block_until_ready())


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
                if backend == "jax":
                    for us in (_jax_streamed(T, C), _jax_floor(T, C) if T < 32 else None):
                        row.append("" if us is None else f"{us:.1f} ({us / ours_np:.1f}x)")
            rows.append(row)
    head = ["channels", "chunk", "scipy sosfilt", "numpy (x scipy)"]
    for b in backends:
        if b != "numpy":
            head.append(f"{b} (x numpy)")
        if b == "torch":
            head.append("torch 1 thread")
        if b == "jax":
            head += ["jax streamed", "jax floor"]
    return ("### Filter (4th-order Butterworth band-pass as SOS, float32, 1 kHz), median us "
            "per chunk; numpy as a ratio to raw scipy.signal.sosfilt timed alongside, other "
            "backends as a ratio to numpy\n\n"
            + table(head, rows)
            + "\n\nTargets: numpy <= 0.5x scipy at every chunk size; torch, jax, mlx within 3x "
            "of numpy. 'torch 1 thread': after torch.set_num_threads(1), which small streaming "
            "chunks favour. 'jax streamed': chunks fed without waiting for each output (one wait "
            "after 400), as a pipeline that keeps the device busy sees them. 'jax floor' "
            "(chunks shorter than a block): one jitted product of the kernel's shape per call, "
            "waited for, nothing else: what JAX's own dispatch costs here; a waited chunk is "
            "that one compiled call plus the message bookkeeping.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="64 channels only")
    args = ap.parse_args()
    print(run(channels=(64,) if args.quick else CHANNELS))


if __name__ == "__main__":
    main()
