"""Streaming invariants as reusable helpers.

* ``random_partitions``: chunk-length lists that always include empty and length-1 chunks.
* ``backend_partitions``: many random partitions on NumPy, one short fixed one elsewhere.
* ``time_signal``: a seeded random signal as a (time, ...) AxisArray on a backend.
* ``split_message``: cut one AxisArray into chunks along an axis with correct time offsets.
* ``assert_chunked_equals_whole``: any split of the input gives the output of one call.
* ``assert_pickle_resumes``: state pickled and restored mid-stream gives identical output.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from .._backend.namespace import array_namespace, is_numpy_namespace
from .assertions import assert_close


def random_partitions(
    n: int, *, count: int = 8, seed: int = 0, max_chunk: int | None = None
) -> list[list[int]]:
    """``count`` lists of chunk lengths summing to ``n``.

    The first list is all length-1 chunks with an empty chunk at the start and the end; the
    others are random and each contains at least one empty chunk.
    """
    rng = np.random.default_rng(seed)
    out = [[0] + [1] * n + [0]]
    max_chunk = max_chunk or max(1, n // 2)
    for _ in range(count - 1):
        lengths: list[int] = []
        remaining = n
        while remaining > 0:
            k = int(rng.integers(0, min(max_chunk, remaining) + 1))
            lengths.append(k)
            remaining -= k
        lengths.insert(int(rng.integers(0, len(lengths) + 1)), 0)
        out.append(lengths)
    return out


def backend_partitions(backend: Any, n: int, *, count: int = 3, seed: int = 0) -> list[list[int]]:
    """Chunkings of ``n`` samples to test a stateful processor with on ``backend``.

    NumPy gets ``count`` random partitions (:func:`random_partitions`); the other backends get
    one fixed partition with an empty and a length-1 chunk and few distinct lengths, because
    every new chunk shape costs them a trace or a kernel compile.
    """
    if getattr(backend, "value", backend) == "numpy":
        return random_partitions(n, count=count, seed=seed)
    half = n // 2
    return [[0, 1, half - 1, 0, n - half]] if n >= 2 else [[0, n]]


def time_signal(
    backend: Any,
    shape: Sequence[int] = (48, 3),
    *,
    fs: float,
    dtype: str = "float64",
    dims: Sequence[str] = ("time", "ch"),
    offset: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, AxisArray]:
    """A standard-normal host array and the same data as an AxisArray on ``backend`` with a
    ``TimeAxis`` at ``fs``: the host copy is what an offline (SciPy) reference consumes."""
    host = np.random.default_rng(seed).standard_normal(tuple(shape)).astype(dtype)
    data = backend.asarray(host) if backend is not None else host
    msg = AxisArray(data, dims=list(dims), axes={"time": AxisArray.TimeAxis(fs=fs, offset=offset)})
    return host, msg


def split_message(msg: AxisArray, lengths: Sequence[int], axis: str = "time") -> list[AxisArray]:
    """Chunks of ``msg`` along ``axis`` with the given lengths (LinearAxis offsets advanced)."""
    assert sum(lengths) == msg.data.shape[msg.get_axis_idx(axis)], "lengths must cover the axis"
    idx = msg.get_axis_idx(axis)
    ax = msg.axes.get(axis)
    chunks = []
    start = 0
    for k in lengths:
        sl = (slice(None),) * idx + (slice(start, start + k),) + (Ellipsis,)
        axes = dict(msg.axes)
        if isinstance(ax, LinearAxis):
            axes[axis] = LinearAxis(gain=ax.gain, offset=ax.offset + start * ax.gain, unit=ax.unit)
        elif ax is not None and hasattr(ax, "data"):
            axes[axis] = type(ax)(data=ax.data[start : start + k], dims=ax.dims, unit=ax.unit)
        chunks.append(
            AxisArray(msg.data[sl], dims=list(msg.dims), axes=axes, attrs=dict(msg.attrs),
                      key=msg.key, stream_dim=getattr(msg, "stream_dim", None))
        )
        start += k
    return chunks


def concat_outputs(outputs: Iterable[AxisArray | None], axis: str = "time") -> Any:
    """Concatenate the data of processor outputs along ``axis`` (None outputs are skipped)."""
    outs = [o for o in outputs if o is not None]
    assert outs, "processor produced no output"
    xp = array_namespace(outs[0].data)
    return xp.concat([o.data for o in outs], axis=outs[0].get_axis_idx(axis))


def assert_chunked_equals_whole(
    make_processor: Callable[[], Callable[[AxisArray], AxisArray | None]],
    msg: AxisArray,
    *,
    axis: str = "time",
    out_axis: str | None = None,
    partitions: Sequence[Sequence[int]] | None = None,
    reference: Any = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """For each partition, feeding the chunks to a fresh processor gives the whole-signal
    output (and ``reference``, a host array, when given). Outputs are joined along
    ``out_axis`` (default: ``axis``), e.g. the window axis of a windowing processor.
    Default partitions: 8 from :func:`random_partitions` for NumPy data (the first feeds one
    sample at a time); for other backends, whose every new chunk shape costs a trace or a
    compile, the fixed partition of :func:`backend_partitions` (empty and length-1 chunks
    included) and one random one."""
    whole = make_processor()(msg)
    n = msg.data.shape[msg.get_axis_idx(axis)]
    if reference is not None:
        assert_close(whole.data, reference, xp=array_namespace(msg.data),
                     device=_device(msg), dtype=whole.data.dtype, rtol=rtol, atol=atol,
                     err_msg="whole vs reference")
    if partitions is None:  # other backends trace or compile per new chunk shape: fewer draws
        if is_numpy_namespace(array_namespace(msg.data)):
            partitions = random_partitions(n)
        else:
            partitions = backend_partitions("other", n) + random_partitions(n, count=2)[1:]
    for lengths in partitions:
        proc = make_processor()
        got = concat_outputs([proc(c) for c in split_message(msg, lengths, axis)],
                             out_axis or axis)
        assert_close(got, whole.data, rtol=rtol, atol=atol, err_msg=f"chunks {list(lengths)}")


def assert_pickle_resumes(
    make_processor: Callable[[], Any],
    msg: AxisArray,
    *,
    split_at: int,
    axis: str = "time",
    rtol: float | None = None,
) -> None:
    """Run to ``split_at``, pickle the state into a fresh processor, finish: same output as
    the uninterrupted processor."""
    n = msg.data.shape[msg.get_axis_idx(axis)]
    first, second = split_message(msg, [split_at, n - split_at], axis)
    ref = make_processor()
    ref(first)
    expected = ref(second)
    # The reset hash travels with the state (as ``stateful_op`` defines), or the restored
    # processor would reset on its first message and throw the state away.
    saved, _ = make_processor().stateful_op(None, first)
    _, got = make_processor().stateful_op(pickle.loads(pickle.dumps(saved)), second)
    assert_close(got.data, expected.data, rtol=rtol, err_msg="after pickled state")


def _device(msg: AxisArray) -> Any:
    from .._backend.namespace import device_of

    return device_of(msg.data)
