"""Per-message cost of the learn family's decoders beside ezmsg-learn 1.16.2, float32,
256 features, 1 and 50 samples per message: prediction and ``partial_fit``.

Cases come from ``benchmarks/cases_learn_*.py``; each module's ``cases()`` returns tuples
``(name, op, ours, peer, inputs)``:

* ``op``: ``"predict"`` (times ``proc(msg)``) or ``"partial_fit"`` (times
  ``proc.partial_fit(sample)``);
* ``ours()`` / ``peer()`` (or None): a fresh processor (imports lazily; ``peer`` is called
  only in the peer's environment, ``.venv-peer``, which has ezmsg-learn with its [sklearn]
  extra);
* ``inputs``: ``"classes"`` (training samples carry a class label, ``"left"``/``"right"``),
  ``"targets"`` (they carry an AxisArray ``(n, 2)`` of regression targets) or ``"signal"``
  (no training: the processor learns from the signal itself; ``op`` is ``"predict"``).

Before timing, every processor is trained on ``WARM_FITS`` samples (not for ``"signal"``) and
run once over the messages (steady state).

    python -m benchmarks.learn            # the Markdown table
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

from .conditioning import _backends, _single_threaded_torch
from .timing import per_call_us, table

N_FEATURES = 256
SAMPLES = (1, 50)
FS = 100.0
N_MSGS = 16
WARM_FITS = 8
LABELS = ("left", "right")


def cases() -> list[tuple[str, str, Callable, Callable | None, str]]:
    out = []
    for spec in sorted(importlib.util.find_spec("benchmarks").submodule_search_locations):
        import pathlib

        for path in sorted(pathlib.Path(spec).glob("cases_learn_*.py")):
            out += importlib.import_module(f"benchmarks.{path.stem}").cases()
    return out


def _ch_axis(n: int, prefix: str = "f") -> Any:
    return AxisArray.CoordinateAxis(data=np.array([f"{prefix}{i}" for i in range(n)]),
                                    dims=["ch"])


def signal_msgs(n: int, convert: Callable = lambda h: h, seed: int = 0) -> list[AxisArray]:
    """``N_MSGS`` consecutive ``(time=n, ch=256)`` float32 messages of one stream."""
    rng = np.random.default_rng(seed)
    ch = _ch_axis(N_FEATURES)
    return [AxisArray(convert(rng.standard_normal((n, N_FEATURES)).astype(np.float32)),
                      dims=["time", "ch"],
                      axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * n / FS), "ch": ch})
            for i in range(N_MSGS)]


def _trigger(t: float, value: Any) -> Any:
    from ezmsg.baseproc import SampleTriggerMessage

    return SampleTriggerMessage(timestamp=t, period=(0.0, 1.0), value=value)


def training_msgs(n: int, inputs: str, convert: Callable = lambda h: h) -> list[AxisArray]:
    """Training samples like ``Sampler``'s: the signal messages with ``attrs["trigger"]``."""
    out = []
    rng = np.random.default_rng(1)
    for i, m in enumerate(signal_msgs(n, convert, seed=2)):
        t = m.axes["time"].offset
        if inputs == "classes":
            value: Any = LABELS[i % 2]
        else:
            value = AxisArray(convert(rng.standard_normal((n, 2)).astype(np.float32)),
                              dims=["time", "ch"],
                              axes={"time": m.axes["time"], "ch": _ch_axis(2, "y")})
        out.append(AxisArray(m.data, dims=m.dims, axes=m.axes,
                             attrs={"trigger": _trigger(t, value)}))
    return out


def measure(factory: Callable, op: str, inputs: str, n: int, convert: Callable = lambda h: h,
            sync: Callable = lambda y: y) -> float | None:
    """Median us per message in steady state; None when a predict case decodes nothing."""
    proc = factory()
    train = [] if inputs == "signal" else training_msgs(n, inputs, convert)
    for s in train[:WARM_FITS]:
        proc.partial_fit(s)
    if op == "predict":
        msgs = signal_msgs(n, convert)

        def step(m: Any) -> Any:
            return sync(proc(m))
    else:
        msgs = train

        def step(m: Any) -> Any:
            proc.partial_fit(m)
            return None
    outputs = [step(m) for m in msgs]
    if op == "predict" and all(y is None for y in outputs):
        return None  # nothing decoded (e.g. training and decoding shapes differ): no figure
    k = [0]

    def one() -> object:
        y = step(msgs[k[0] % len(msgs)])
        k[0] += 1
        return y

    return per_call_us(one, repeats=15)


def peer_main() -> None:
    """In the peer's environment: {"name@n": us} for every case with a peer factory."""
    res: dict[str, float | None] = {}
    for name, op, _, peer, inputs in cases():
        if peer is None:
            continue
        for n in SAMPLES:
            try:
                res[f"{name}@{n}"] = measure(peer, op, inputs, n)
            except Exception:  # noqa: BLE001 - a configuration the peer cannot run
                res[f"{name}@{n}"] = None
    print(json.dumps(res))


def _peer_figures() -> dict[str, float | None]:
    from .peer import run_peer_module

    return run_peer_module("learn")


def run() -> str:
    peer = _peer_figures()
    others = _backends()
    torch_threads = _single_threaded_torch()
    rows = []
    try:
        for name, op, ours, _, inputs in cases():
            for n in SAMPLES:
                us = measure(ours, op, inputs, n)
                p = peer.get(f"{name}@{n}")
                row: list[object] = [name, op, n, us if us is not None else "no output",
                                     p if p is not None else "-",
                                     f"{us / p:.2f}x" if p and us else "-"]
                for _, convert, sync in others:
                    try:
                        t = measure(ours, op, inputs, n, convert,
                                    (lambda y, s=sync: (s(y), y)[1] if y is not None else None))
                        row.append(t if t is not None else "no output")
                    except Exception as exc:  # noqa: BLE001 - shown, not hidden
                        row.append(f"error: {type(exc).__name__}")
                rows.append(row)
    finally:
        if torch_threads:
            import torch

            torch.set_num_threads(torch_threads)
    if not rows:
        return "### Learn family\n\n(no cases)\n"
    headers = (["decoder", "op", "samples/msg", "ours numpy", "ezmsg-learn", "ours/peer"]
               + [f"ours {b}" for b, _, _ in others])
    return ("### Learn family (adaptive decoders), float32, 256 features, median us per message"
            "\n\n" + table(headers, rows)
            + "\n\nPeer: ezmsg-learn 1.16.2 with scikit-learn/river in `.venv-peer`, on the same "
              "messages ('-': no peer figure). Trained on 8 samples first; steady state; torch "
              "on one thread. 'no output': the decoder decodes nothing on that workload "
              "(SGDDecoder learns one observation per sample message, the whole 50 x 256 "
              "sample flattened, so 50-row signal messages are another feature count). "
              "Targets (NumPy input): prediction and partial_fit <= 0.5x the peer for the "
              "native decoders, <= 1.1x for the torch-hosted ones (RNN, Transformer, "
              "TorchModel: the model dominates; both sides on torch CPU).\n")


if __name__ == "__main__":
    if "--peer" in sys.argv:
        peer_main()
    else:
        print(run())
