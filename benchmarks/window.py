"""Per-chunk cost of WindowTransformer on a 64-channel 1 kHz stream in 10-sample chunks
(window 0.5 s, hop 0.1 s: one chunk in ten completes a window)."""

from __future__ import annotations

import importlib.util

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .peer import CH, CHUNK, FS, N_MSGS, messages
from .timing import paired_us, table


def _messages(backend: str) -> list[AxisArray]:
    from ezmsg_sigproc_units._backend import asarray, resolve

    xp, dev = resolve(backend, "cpu" if backend in ("torch", "jax") else None)
    return messages(lambda host: asarray(xp, host, dtype=xp.float32, device=dev))


def _floors():
    """Bare-NumPy floors for the same stream: ``arrays`` copies each chunk into a buffer and
    takes a view of the window every tenth chunk; ``messages`` also wraps each result in an
    AxisArray the ordinary way (its constructor), as a stage of a graph must."""
    host = np.zeros((CHUNK, CH), np.float32)
    buf = np.zeros((2 * 500, CH), np.float32)
    k = [0]

    def arrays() -> object:
        i = k[0] % 10
        k[0] += 1
        buf[i * CHUNK : (i + 1) * CHUNK] = host
        return buf[None, :500] if i == 9 else buf[None, :0]

    def messages() -> object:
        wins = arrays()
        return AxisArray(wins, dims=["win", "time", "ch"],
                         axes={"win": AxisArray.TimeAxis(fs=10.0, offset=k[0] * 0.01),
                               "time": AxisArray.TimeAxis(fs=FS)})

    return arrays, messages


def _case(backend: str) -> list[object]:
    from ezmsg_sigproc_units._backend import materialize
    from ezmsg_sigproc_units.window import windowing

    msgs = _messages(backend)
    arrays, messages = _floors()
    proc = windowing(window_dur=0.5, window_shift=0.1, zero_pad_until="none")
    k = [0]

    def every_chunk() -> object:
        out = proc(msgs[k[0] % N_MSGS])
        k[0] += 1
        materialize(out.data)
        return out

    ours, with_messages, _ = paired_us(every_chunk, messages)
    # Chunks that complete no window: after each call the buffer fields are put back as they
    # were, so the processor keeps holding the same 200 samples and never reaches a window.
    idle = windowing(window_dur=0.5, window_shift=0.1, zero_pad_until="none")
    for m in msgs[:20]:
        idle(m)
    st = idle.state
    held = (st.buffer, st.start, st.stop, st.deficit)

    def no_window() -> object:
        out = idle(msgs[25])
        st.buffer, st.start, st.stop, st.deficit = held
        return out

    quiet, bare, _ = paired_us(no_window, arrays)
    return [backend, ours, quiet, bare, with_messages]


def run() -> str:
    from .peer import figures

    rows = [_case(b) for b in ("numpy", "torch", "mlx") if importlib.util.find_spec(b)]
    peer = figures()
    text = ("### Window (64 ch, 1 kHz, 10-sample float32 chunks, 0.5 s window, 0.1 s hop), "
            "median us per chunk\n\n"
            + table(["backend", "average chunk", "chunk without window",
                     "numpy floor: arrays", "numpy floor: + AxisArray"], rows)
            + "\n\nFloors: copy each chunk into a buffer and view the window every tenth "
            "chunk; then also wrap each result in an AxisArray (its constructor).\n")
    if peer is not None:
        text += (f"Peer (ezmsg-sigproc, `make peer`), numpy average chunk: {peer['window']:.2f} "
                 f"us; ours is {rows[0][1] / peer['window']:.2f}x of it.\n")
    return text + ("Targets (numpy, stated on a machine where the peer took ~10 us): average "
                   "<= 3.5 us, chunk without window < 2 us.\n")


if __name__ == "__main__":
    print(run())
