"""Sliding-window buffer kernel: the portable step on every backend, the native (in-place)
step where arrays are mutable, the two against each other and against a plain NumPy
reference."""

from __future__ import annotations

import numpy as np
import pytest

from ezmsg_sigproc_units._backend import slices_are_copies, to_host
from ezmsg_sigproc_units._kernels import windowing as K
from ezmsg_sigproc_units.testing import assert_close, backend_partitions, random_partitions


def _host(n: int, axis: int, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    """3-D data ``(n, 3, 2)`` with the n samples moved to ``axis``."""
    h = np.random.default_rng(seed + n).standard_normal((n, 3, 2)).astype(dtype)
    return np.ascontiguousarray(np.moveaxis(h, 0, axis))


def _ref(h: np.ndarray, axis: int, w: int, hop: int) -> np.ndarray:
    """Every whole window, ``(..., count, w, ...)`` with the window axis at ``axis``."""
    s = np.moveaxis(h, axis, 0)
    count = (s.shape[0] - w) // hop + 1 if s.shape[0] >= w else 0
    wins = np.stack([s[k * hop : k * hop + w] for k in range(count)]) if count else \
        np.zeros((0, w) + s.shape[1:], h.dtype)
    return np.moveaxis(wins, (0, 1), (axis, axis + 1))


def _stream(xp, device, push, h, axis, lengths, w, hop):
    """Feed ``h`` in chunks of ``lengths`` through ``push``; host windows of every call."""
    buf, start, stop, deficit = None, 0, 0, 0
    outs, pos = [], 0
    for k in lengths:
        chunk = _chunk(xp, device, h, axis, pos, k)
        pos += k
        wins, buf, start, stop, deficit = push(xp, buf, start, stop, deficit, chunk, w, hop,
                                               axis, device)
        assert stop - start < w, "more than one window's worth of samples held"
        if wins is not None:
            outs.append(wins)
    return outs, buf, start, stop


def _steps(xp):
    """The streaming steps ``xp`` can run: the portable one, and the in-place one where its
    arrays are mutable buffers."""
    return (K.push,) if slices_are_copies(xp) else (K.push, K.push_inplace)


def _chunk(backend_xp, device, h, axis, pos, k):
    from ezmsg_sigproc_units._backend import asarray

    part = np.ascontiguousarray(np.moveaxis(np.moveaxis(h, axis, 0)[pos : pos + k], 0, axis))
    return asarray(backend_xp, part, dtype=getattr(backend_xp, str(h.dtype)), device=device)


@pytest.mark.parametrize("axis", [0, 2])
@pytest.mark.parametrize("w,hop", [(5, 2), (4, 4), (3, 5), (1, 1)])
def test_take_windows_matches_reference(backend, float_dtype, axis, w, hop):
    h = _host(17, axis, float_dtype)
    wins, rest, over = K.take_windows(backend.xp, backend.asarray(h), w, hop, axis,
                                      backend.device)
    ref = _ref(h, axis, w, hop)
    assert_close(wins, ref, xp=backend.xp, device=backend.device, dtype=h.dtype)
    count = ref.shape[axis]
    used = count * hop
    assert over == max(0, used - 17)
    assert_close(rest, np.take(h, np.arange(min(used, 17), 17), axis=axis), xp=backend.xp,
                 device=backend.device, dtype=h.dtype)


def test_take_windows_none_when_no_window_is_complete(backend):
    h = _host(3, 0)
    wins, rest, over = K.take_windows(backend.xp, backend.asarray(h), 4, 1, 0, backend.device)
    assert wins is None and over == 0
    assert tuple(rest.shape) == h.shape


@pytest.mark.parametrize("axis", [0, 2])
@pytest.mark.parametrize("w,hop", [(5, 2), (6, 6), (3, 7)])
def test_push_streams_like_the_whole(backend, float_dtype, axis, w, hop):
    """Any chunking (empty and length-1 chunks included) gives the windows of the whole."""
    h = _host(40, axis, float_dtype, seed=1)
    ref = _ref(h, axis, w, hop)
    for lengths in backend_partitions(backend, 40, count=4, seed=w + hop):
        for push in _steps(backend.xp):
            outs, *_ = _stream(backend.xp, backend.device, push, h, axis, lengths, w, hop)
            got = backend.xp.concat(outs, axis=axis)
            assert_close(got, ref, xp=backend.xp, device=backend.device, dtype=h.dtype,
                         err_msg=f"{push.__name__} {lengths}")


def test_pusher_chooses_in_place_where_arrays_are_mutable(backend):
    """None: the native (in-place) step where slices are views (mutable buffers), else the
    portable one; False always the portable one; True where arrays are values raises."""
    xp = backend.xp
    mutable = not slices_are_copies(xp)
    assert K.pusher(xp) is (K.push_inplace if mutable else K.push)
    assert K.pusher(xp, False) is K.push
    if mutable:
        assert K.pusher(xp, True) is K.push_inplace
    else:
        with pytest.raises(ValueError, match="^native"):
            K.pusher(xp, True)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("w,hop", [(5, 2), (8, 3), (2, 9), (1, 1)])
def test_in_place_step_equals_portable(backend, axis, w, hop):
    """Where a backend has the native (in-place) step, it gives the portable results call
    by call, over random chunkings (empty chunks included) and all-length-1 chunks."""
    if slices_are_copies(backend.xp):
        pytest.skip(f"{backend.value} arrays are values: no in-place step")
    h = _host(60, axis, "float32", seed=2)
    partitions = random_partitions(60, count=3, seed=3, max_chunk=25) + [[1] * 60]
    for lengths in partitions:
        fast, *_ = _stream(backend.xp, backend.device, K.push_inplace, h, axis, lengths, w,
                           hop)
        slow, *_ = _stream(backend.xp, backend.device, K.push, h, axis, lengths, w, hop)
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow, strict=True):
            assert_close(a, to_host(b), xp=backend.xp, device=backend.device,
                         dtype=h.dtype, rtol=0, atol=0, err_msg=str(lengths))


def test_numpy_fast_path_returns_stable_read_only_windows_and_bounded_memory():
    import array_api_compat.numpy as cnp

    push = K.push_inplace
    w, hop, n = 50, 10, 7
    buf, start, stop, deficit = None, 0, 0, 0
    kept = []
    data = np.random.default_rng(4).standard_normal((5000, 4)).astype("float32")
    for pos in range(0, 5000, n):
        chunk = data[pos : pos + n]
        before = chunk.copy()
        wins, buf, start, stop, deficit = push(cnp, buf, start, stop, deficit, chunk, w, hop,
                                               0, "cpu")
        np.testing.assert_array_equal(chunk, before)  # input untouched
        if wins is not None:
            assert not np.shares_memory(wins, chunk)
            assert not wins.flags.writeable  # a view of the buffer, never written again
            kept.append((wins, wins.copy()))
        assert stop - start < w
        assert buf.shape[0] <= 2 * (w + n)
    for got, snapshot in kept:  # later pushes never overwrote an emitted window
        np.testing.assert_array_equal(got, snapshot)
    ref = _ref(data, 0, w, hop)
    np.testing.assert_array_equal(np.concatenate([g for g, _ in kept]), ref)


def test_steps_do_not_write_into_inputs(backend):
    h = _host(12, 0)
    chunk = backend.asarray(h)
    for push in _steps(backend.xp):
        wins, buf, start, stop, _ = push(backend.xp, None, 0, 0, 0, chunk, 4, 3, 0,
                                         backend.device)
        assert_close(chunk, h, xp=backend.xp, device=backend.device, dtype=h.dtype)
        assert_close(wins, _ref(h, 0, 4, 3), xp=backend.xp, device=backend.device,
                     dtype=h.dtype)
        assert_close(buf[start:stop, ...], h[9:], xp=backend.xp, device=backend.device,
                     dtype=h.dtype)


@pytest.mark.parametrize("step", ["push", "push_inplace"])
def test_deficit_skips_samples_between_windows(backend, step):
    """Hop 5 > window 2: samples 2-4 of each hop are never buffered."""
    push = getattr(K, step)
    if push not in _steps(backend.xp):
        pytest.skip(f"{backend.value} arrays are values: no in-place step")
    h = np.arange(12.0)[:, None]
    x = backend.asarray(h)
    xp, dev = backend.xp, backend.device
    wins, buf, start, stop, deficit = push(xp, None, 0, 0, 0, x[:3, ...], 2, 5, 0, dev)
    assert deficit == 2 and stop - start == 0
    wins2, buf, start, stop, deficit = push(xp, buf, start, stop, deficit, x[3:6, ...], 2, 5,
                                            0, dev)
    assert wins2 is None and deficit == 0 and stop - start == 1
    wins3, *_ = push(xp, buf, start, stop, deficit, x[6:, ...], 2, 5, 0, dev)
    got = np.concatenate([to_host(wins), to_host(wins3)])
    np.testing.assert_array_equal(got[..., 0], [[0.0, 1.0], [5.0, 6.0], [10.0, 11.0]])


def test_append_copies(backend):
    h = _host(4, 0)
    x = backend.asarray(h)
    out = K.append(backend.xp, None, x, 0)
    if isinstance(x, np.ndarray):  # the mutable host case: never the chunk's memory
        assert not np.shares_memory(out, x)
    assert_close(out, h, xp=backend.xp, device=backend.device, dtype=h.dtype)
    both = K.append(backend.xp, out, x, 0)
    assert_close(both, np.concatenate([h, h]), xp=backend.xp, device=backend.device,
                 dtype=h.dtype)


def test_last_window(backend, float_dtype):
    h = _host(9, 2, float_dtype)
    win, rest = K.last_window(backend.xp, backend.asarray(h), 4, 2, backend.device)
    assert_close(win, h[:, :, None, 5:], xp=backend.xp, device=backend.device, dtype=h.dtype)
    assert_close(rest, h[:, :, 5:], xp=backend.xp, device=backend.device, dtype=h.dtype)
