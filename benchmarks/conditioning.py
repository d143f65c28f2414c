"""Per-chunk cost of the conditioning and spatial families beside the peer and a bare-NumPy
floor, on two float32 workloads: (time=200, ch=8) and (time=30, ch=256), 1 kHz, channel
labels on a CoordinateAxis.

Cases come from ``benchmarks/cases_*.py``; each module's ``cases()`` returns tuples
``(name, ours, peer, floor)``:

* ``ours()``: a fresh processor of ours (imports ``ezmsg_sigproc_units`` lazily);
* ``peer()`` or None: the peer's processor with the same configuration (imports
  ``ezmsg.sigproc`` lazily; called only in the peer's environment, ``.venv-peer``);
* ``floor()`` or None: a fresh function ``f(x)`` of the chunk's NumPy array doing the same
  math with bare NumPy (it may keep state across calls).

The peer's figures are timed in its own environment (``python -m benchmarks.conditioning
--peer`` there, one JSON object) when ``make peer`` has created it.

    python -m benchmarks.conditioning            # the Markdown table
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .timing import per_call_us, table

SHAPES = [(200, 8), (30, 256)]
FS = 1000.0
N_MSGS = 64
FAMILIES = ("cases_scaling", "cases_spatial", "cases_channels", "cases_notch", "cases_buffers",
            "cases_events", "cases_routing", "cases_wavelets")


def cases() -> list[tuple[str, Callable, Callable | None, Callable | None]]:
    out = []
    for fam in FAMILIES:
        if importlib.util.find_spec(f"benchmarks.{fam}") is not None:
            out += importlib.import_module(f"benchmarks.{fam}").cases()
    return out


def messages(shape: tuple[int, int], convert: Callable[[np.ndarray], Any] = lambda h: h
             ) -> list[AxisArray]:
    """``N_MSGS`` consecutive chunks of one stream (distinct data, contiguous offsets)."""
    n, ch = shape
    rng = np.random.default_rng(0)
    labels = np.array([f"Ch{i}" for i in range(ch)])
    ch_ax = AxisArray.CoordinateAxis(data=labels, dims=["ch"])
    out = []
    for i in range(N_MSGS):
        host = rng.standard_normal((n, ch)).astype(np.float32)
        out.append(AxisArray(convert(host), dims=["time", "ch"],
                             axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * n / FS),
                                   "ch": ch_ax}))
    return out


def per_chunk_us(proc: Callable[[Any], Any], msgs: list[Any], sync: Callable = lambda y: y
                 ) -> float:
    """Median us per chunk in steady state: one pass over the messages first (JAX compiles
    once per distinct shape a stage meets, which can take several chunks to see)."""
    for m in msgs:
        sync(proc(m))
    k = [0]

    def chunk() -> object:
        y = sync(proc(msgs[k[0] % N_MSGS]))
        k[0] += 1
        return y

    return per_call_us(chunk, repeats=15)


def peer_main() -> None:
    """In the peer's environment: {"name@NxC": us} for every case with a peer factory."""
    res: dict[str, float | None] = {}
    for name, _, peer, _ in cases():
        if peer is None:
            continue
        for shape in SHAPES:
            key = f"{name}@{shape[0]}x{shape[1]}"
            try:
                res[key] = per_chunk_us(peer(), messages(shape))
            except Exception:  # noqa: BLE001 - a configuration the peer cannot run
                res[key] = None
    print(json.dumps(res))


def _peer_figures() -> dict[str, float | None]:
    from .peer import run_peer_module

    return run_peer_module("conditioning")


def _backends() -> list[tuple[str, Callable, Callable]]:
    """(name, host -> array, sync(output)) for the other CPU backends installed."""
    out = []
    if importlib.util.find_spec("torch"):
        import torch

        out.append(("torch", torch.from_numpy, lambda y: y))  # run() sets one thread
    if importlib.util.find_spec("jax"):
        import jax.numpy as jnp

        out.append(("jax", jnp.asarray, lambda y: y.data.block_until_ready()))
    if importlib.util.find_spec("mlx"):
        import mlx.core as mx

        out.append(("mlx", mx.array, lambda y: mx.eval(y.data)))
    return out


def run() -> str:
    peer = _peer_figures()
    others = _backends()
    torch_threads = _single_threaded_torch()
    try:
        return _table(peer, others)
    finally:
        if torch_threads:
            import torch

            torch.set_num_threads(torch_threads)


def _single_threaded_torch() -> int:
    """Torch on one intra-op thread while this table runs (returns the previous count, 0
    without torch): on a small shared machine its default two threads contend with the
    benchmark process itself and single ops jump from microseconds to milliseconds."""
    if not importlib.util.find_spec("torch"):
        return 0
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    return n


def _table(peer: dict, others: list) -> str:
    rows = []
    for name, ours, _, floor in cases():
        for shape in SHAPES:
            key = f"{name}@{shape[0]}x{shape[1]}"
            msgs = messages(shape)
            us = per_chunk_us(ours(), msgs)
            row: list[object] = [name, f"{shape[0]}x{shape[1]}", us]
            p = peer.get(key)
            row += [p if p is not None else "-", f"{us / p:.2f}x" if p else "-"]
            if floor is not None:
                f = floor()
                bare = per_chunk_us(lambda m: f(m.data), msgs)
                row += [bare, us - bare]
            else:
                row += ["-", "-"]
            for _, convert, sync in others:
                try:
                    row.append(per_chunk_us(ours(), messages(shape, convert), sync))
                except Exception as exc:  # noqa: BLE001 - shown, not hidden
                    row.append(f"error: {type(exc).__name__}")
            rows.append(row)
    if not rows:
        return "### Conditioning and spatial families\n\n(no cases)\n"
    headers = (["processor", "chunk", "ours numpy", "peer numpy", "ours/peer", "numpy floor",
                "over floor"] + [f"ours {b}" for b, _, _ in others])
    return ("### Conditioning and spatial families, float32, median us per chunk\n\n"
            + table(headers, rows)
            + "\n\nPeer: ezmsg-sigproc 3.11.1 in `.venv-peer` on the same messages ('-': "
              "no peer figure). Floor: the same math in bare NumPy on the chunk's array. "
              "Steady state (one pass over the 64 messages first); torch on one thread.\n"
              "Targets (NumPy): EWMA and the scalers <= 0.5x the peer, the adaptive notch "
              "<= 0.1x, the others <= 5 us over the floor.\n")


if __name__ == "__main__":
    if "--peer" in sys.argv:
        peer_main()
    else:
        print(run())
