"""WindowTransformer: layout and axes as ezmsg-sigproc 3.11.1 gives them, streaming invariants
on every backend, resets, and the native (in-place) step against the portable one."""

from __future__ import annotations

import asyncio
import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ezmsg_sigproc_units._backend import slices_are_copies, to_host
from ezmsg_sigproc_units._kernels import windowing as K
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    backend_partitions,
    concat_outputs,
    split_message,
)
from ezmsg_sigproc_units.window import (
    Anchor,
    Window,
    WindowSettings,
    WindowState,
    WindowTransformer,
    windowing,
)

FS = 10.0


def _host(n=40, ch=(3,), dtype="float64", seed=0, time_last=False):
    h = np.random.default_rng(seed).standard_normal((n, *ch)).astype(dtype)
    return np.ascontiguousarray(np.moveaxis(h, 0, -1)) if time_last else h


def _msg(backend, host, time_last=False, offset=5.0, ch_axis=None):
    dims = ["time"] + [f"d{i}" for i in range(host.ndim - 1)]
    if time_last:
        dims = dims[1:] + ["time"]
    axes = {"time": AxisArray.TimeAxis(fs=FS, offset=offset)}
    if ch_axis is not None:
        axes["d0"] = ch_axis
    return AxisArray(backend.asarray(host), dims=dims, axes=axes)


def _ref(host, w, h, pad, ix=0):
    """Plain NumPy sliding windows of the zero-padded stream, window axis at ``ix``."""
    s = np.moveaxis(host, ix, 0)
    s = np.concatenate([np.zeros((pad,) + s.shape[1:], s.dtype), s])
    count = (s.shape[0] - w) // h + 1 if s.shape[0] >= w else 0
    wins = np.stack([s[k * h : k * h + w] for k in range(count)])
    return np.moveaxis(wins, (0, 1), (ix, ix + 1))


def _chunked(make, msg, lengths):
    proc = make()
    return [proc(c) for c in split_message(msg, lengths)]


# --------------------------------------------------------------------------- layout and axes
def test_layout_and_axes_like_the_peer():
    """Values observed from ezmsg-sigproc 3.11.1 (10 Hz, 0.5 s windows, 0.2 s hop)."""
    host = np.arange(20.0)[:, None] + 1
    msg = AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS,
                                                                                offset=5.0)})
    out = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="shift")(msg)
    assert out.dims == ["win", "time", "ch"] and out.stream_dim == "win"
    assert out.data.shape == (10, 5, 1)
    assert out.axes["win"] == LinearAxis(gain=0.2, offset=5.0 - 3 * 0.1, unit="s")
    assert out.axes["time"] == LinearAxis(gain=0.1, offset=0.0, unit="s")
    np.testing.assert_array_equal(out.data[:2, :, 0], [[0, 0, 0, 1, 2], [0, 1, 2, 3, 4]])
    chunks = _chunked(lambda: windowing(window_dur=0.5, window_shift=0.2,
                                        zero_pad_until="none"), msg, [1, 1, 1, 17])
    assert [c.data.shape[0] for c in chunks] == [0, 0, 0, 8]
    # a message without windows is labelled with its own start
    assert [c.axes["win"].offset for c in chunks] == pytest.approx([5.0, 5.1, 5.2, 5.0])


@pytest.mark.parametrize("anchor,lead", [("beginning", 0.0), ("middle", 0.25), ("end", 0.5),
                                         (Anchor.END, 0.5)])
def test_anchor_moves_window_times(backend, anchor, lead):
    host = _host(20)
    out = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none",
                    anchor=anchor)(_msg(backend, host))
    assert out.axes["win"].offset == pytest.approx(5.0 + lead)
    assert out.axes["time"].offset == pytest.approx(-lead)


def test_anchor_change_does_not_reset(backend):
    host = _host(30)
    msg = _msg(backend, host)
    a, b = split_message(msg, [13, 17])
    proc = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none")
    first = proc(a)
    proc.update_settings(WindowSettings(window_dur=0.5, window_shift=0.2,
                                        zero_pad_until="none", anchor="end"))
    second = proc(b)
    got = backend.xp.concat([first.data, second.data], axis=0)
    assert_close(got, _ref(host, 5, 2, 0), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    assert second.axes["win"].offset == pytest.approx(5.0 + 1.0 + 0.5)  # 6th window
    assert second.axes["time"].offset == pytest.approx(-0.5)


@pytest.mark.parametrize("shape,ix", [((30,), 0), ((30, 3), 0), ((3, 30), 1),
                                      ((30, 2, 3), 0), ((2, 3, 30), 2), ((2, 30, 3), 1)])
def test_dims_from_1d_to_3d(backend, float_dtype, shape, ix):
    host = np.random.default_rng(1).standard_normal(shape).astype(float_dtype)
    dims = [f"d{i}" for i in range(len(shape))]
    dims[ix] = "time"
    msg = AxisArray(backend.asarray(host), dims=dims,
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = windowing(window_dur=0.4, window_shift=0.3, zero_pad_until="none")(msg)
    assert out.dims == dims[:ix] + ["win"] + dims[ix:]
    assert_close(out.data, _ref(host, 4, 3, 0, ix), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


# --------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("pad", ["none", "shift"])
@pytest.mark.parametrize("dur,shift", [(0.5, 0.2), (0.4, 0.4), (0.3, 0.7), (0.1, 0.1)])
@pytest.mark.parametrize("time_last", [False, True], ids=["time-first", "time-last"])
def test_chunked_equals_whole_and_reference(backend, float_dtype, pad, dur, shift, time_last):
    host = _host(40, ch=(3,), dtype=float_dtype, seed=2, time_last=time_last)
    msg = _msg(backend, host, time_last=time_last)
    ix = 1 if time_last else 0
    w, h = round(dur * FS), round(shift * FS)
    ref = _ref(host, w, h, max(0, w - h) if pad == "shift" else 0, ix)

    def make():
        return windowing(window_dur=dur, window_shift=shift, zero_pad_until=pad)

    whole = make()(msg)
    assert_close(whole.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)
    for lengths in backend_partitions(backend, 40, count=6, seed=w + h):
        outs = _chunked(make, msg, lengths)
        assert_close(concat_outputs(outs, axis="win"), whole.data, err_msg=str(lengths))
        done = 0  # each message's window axis starts where the whole stream's k-th window does
        for o in outs:
            if o.data.shape[ix]:
                assert o.axes["win"].offset == pytest.approx(
                    whole.axes["win"].offset + done * h / FS), str(lengths)
            done += o.data.shape[ix]


@pytest.mark.parametrize("pad", ["input", "full"])
def test_input_and_full_pad_to_the_first_nonempty_message(backend, pad):
    """``window - n`` zeros, n the first non-empty message's length (0 when n >= window)."""
    host = _host(40, seed=3)
    msg = _msg(backend, host)
    for lengths in backend_partitions(backend, 40, count=6, seed=4):
        n_first = next(k for k in lengths if k)
        got = concat_outputs(_chunked(lambda: windowing(window_dur=0.5, window_shift=0.2,
                                                        zero_pad_until=pad), msg, lengths),
                             axis="win")
        assert_close(got, _ref(host, 5, 2, max(0, 5 - n_first)), xp=backend.xp,
                     device=backend.device, dtype=host.dtype, err_msg=str(lengths))


def test_one_window_per_message_without_shift(backend, float_dtype):
    host = _host(20, dtype=float_dtype, seed=5)
    msg = _msg(backend, host)
    padded = np.concatenate([np.zeros((5, 3), host.dtype), host])
    proc = windowing(window_dur=0.5)
    pos = 0
    for c, k in zip(split_message(msg, [3, 0, 1, 16]), [3, 0, 1, 16], strict=True):
        pos += k
        out = proc(c)
        assert out.data.shape == (1, 5, 3)
        assert out.axes["win"].gain == 0.0
        assert out.axes["win"].offset == pytest.approx(5.0 + (pos - 5) / FS)
        assert_close(out.data, padded[None, pos : pos + 5], xp=backend.xp,
                     device=backend.device, dtype=host.dtype)


@pytest.mark.parametrize("pad", ["none", "shift"])
def test_batch_windows_rejoins_along_time(backend, pad):
    host = _host(40, seed=6)
    msg = _msg(backend, host)
    padded = _ref(host, 5, 5, 0 if pad == "none" else 0)
    ref = np.reshape(padded, (-1, 3))

    def make():
        return windowing(window_dur=0.5, window_shift=0.5, batch_windows=True,
                         zero_pad_until=pad)

    out = make()(msg)
    assert out.dims == ["time", "d0"] and out.axes["time"] == LinearAxis(gain=0.1, offset=5.0,
                                                                          unit="s")
    assert_chunked_equals_whole(make, msg, reference=ref)


@pytest.mark.parametrize("pad", ["none", "shift", "full"])
def test_pickle_resumes(backend, float_dtype, pad):
    host = _host(40, dtype=float_dtype, seed=7)
    for split in (3, 17):
        assert_pickle_resumes(lambda: windowing(window_dur=0.5, window_shift=0.3,
                                                zero_pad_until=pad), _msg(backend, host),
                              split_at=split)
    assert_pickle_resumes(lambda: windowing(window_dur=0.3, window_shift=0.7),
                          _msg(backend, host), split_at=12)  # mid-skip


def test_empty_first_message(backend):
    host = _host(12)
    for pad in ("none", "input", "shift", "full"):
        proc = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until=pad)
        out = proc(_msg(backend, host[:0]))
        assert tuple(out.data.shape) == (0, 5, 3) and out.dims == ["win", "time", "d0"]
        assert_close(out.data, np.zeros((0, 5, 3)), xp=backend.xp, device=backend.device,
                     dtype=host.dtype)
        out = proc(_msg(backend, host))
        pad_n = {"none": 0, "shift": 3}.get(pad, 0)
        assert_close(out.data, _ref(host, 5, 2, pad_n), xp=backend.xp, device=backend.device,
                     dtype=host.dtype)


# --------------------------------------------------------------------------- resets
def test_channel_count_change_resets(backend):
    proc = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none")
    proc(_msg(backend, _host(13, ch=(3,))))
    host = _host(13, ch=(2,), seed=8)
    out = proc(_msg(backend, host))
    assert_close(out.data, _ref(host, 5, 2, 0), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_dtype_and_relabel_reset_but_same_labels_do_not(backend):
    labels = CoordinateAxis(data=np.array(["a", "b", "c"]), dims=["d0"])
    proc = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none")
    host = _host(13, seed=9)
    proc(_msg(backend, host[:7], ch_axis=labels))
    same = CoordinateAxis(data=np.array(["a", "b", "c"]), dims=["d0"])  # equal, new object
    out = proc(_msg(backend, host[7:], offset=5.7, ch_axis=same))
    assert_close(out.data, _ref(host, 5, 2, 0)[2:], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    other = CoordinateAxis(data=np.array(["x", "y", "z"]), dims=["d0"])
    out = proc(_msg(backend, host[:6], ch_axis=other))
    assert_close(out.data, _ref(host[:6], 5, 2, 0), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    if backend.supports_float64():
        h32 = host.astype("float32")
        out = proc(_msg(backend, h32[:6], ch_axis=other))
        assert_close(out.data, _ref(h32[:6], 5, 2, 0), xp=backend.xp, device=backend.device,
                     dtype="float32")


def test_gain_change_resets(backend):
    proc = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none")
    proc(_msg(backend, _host(7)))
    host = _host(30, seed=10)
    msg = AxisArray(backend.asarray(host), dims=["time", "d0"],
                    axes={"time": AxisArray.TimeAxis(fs=20.0)})
    out = proc(msg)
    assert_close(out.data, _ref(host, 10, 4, 0), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_native_choice(backend):
    """None takes the in-place step where arrays are mutable buffers; True elsewhere, or a
    value that is not a bool, raises ValueError naming ``native``."""
    msg = _msg(backend, _host(12))
    settings = WindowSettings(window_dur=0.5, window_shift=0.2)
    mutable = not slices_are_copies(backend.xp)
    proc = WindowTransformer(settings)
    proc(msg)
    assert proc.plan.push is (K.push_inplace if mutable else K.push)
    for native, step in ((False, K.push), (True, K.push_inplace)):
        proc = WindowTransformer(settings, native=native)
        if native and not mutable:
            with pytest.raises(ValueError, match="^native"):
                proc(msg)
        else:
            proc(msg)
            assert proc.plan.push is step
    with pytest.raises(ValueError, match="^native"):
        WindowTransformer(settings, native="yes")


@pytest.mark.parametrize("dur,shift,pad,anchor,batch", [
    (0.5, 0.2, "none", "beginning", False), (0.5, 0.1, "full", "middle", False),
    (0.3, 0.7, "none", "end", False), (0.4, 0.4, "shift", "beginning", False),
    (0.1, 0.1, "input", "end", False), (0.4, 0.4, "none", "beginning", True),
    (0.5, None, "full", "middle", False)])
@pytest.mark.parametrize("time_last", [False, True], ids=["time-first", "time-last"])
def test_native_and_portable_steps_give_the_same_messages(backend, dur, shift, pad, anchor,
                                                          batch, time_last):
    """The in-place (native) step and the portable one give the very same messages: data,
    dims, every axis (offsets bit for bit), attrs, key and stream_dim, over random and
    all-length-1 chunkings. Where a backend has no native step (JAX, MLX), its automatic
    choice is compared with the portable one the same way."""
    host = _host(120, ch=(3,), seed=14, time_last=time_last)
    msg = _msg(backend, host, time_last=time_last, offset=1.2345)
    msg.attrs["origin"] = "test"
    msg.key = "k"
    settings = WindowSettings(window_dur=dur, window_shift=shift, zero_pad_until=pad,
                              anchor=anchor, batch_windows=batch)
    native = None if slices_are_copies(backend.xp) else True

    def run(lengths, native):
        proc = WindowTransformer(settings, native=native)
        return [proc(c) for c in split_message(msg, lengths)]

    for lengths in backend_partitions(backend, 120, count=4, seed=15) + [[1] * 120]:
        for a, b in zip(run(lengths, native), run(lengths, False), strict=True):
            assert type(a) is type(b) and a.dims == b.dims and a.axes == b.axes
            assert (a.attrs, a.key, a.stream_dim) == (b.attrs, b.key, b.stream_dim)
            assert a.data.dtype == b.data.dtype
            assert_close(a.data, to_host(b.data), xp=backend.xp, device=backend.device,
                         dtype=host.dtype, rtol=0, atol=0, err_msg=str(lengths))
            if isinstance(a.data, np.ndarray) and shift is not None and not batch:
                assert a.data.size == 0 or not a.data.flags.writeable  # views: read-only


# --------------------------------------------------------------------------- safety
@pytest.mark.parametrize("shift,lengths", [(0.2, [12, 1, 9, 18]), (0.5, [5] * 8),
                                           (0.5, [3, 4, 3, 5, 5, 10, 10])],
                         ids=["overlapping", "tiling", "tiling-uneven"])
@pytest.mark.parametrize("native", [None, False], ids=["auto", "portable"])
def test_input_not_mutated_and_outputs_not_aliased(backend, shift, lengths, native):
    """Tiling windows empty the buffer, so a preallocated one is written again from its
    start: an output that viewed it would change under a later message."""
    host = _host(40, seed=13)
    msg = _msg(backend, host)
    axes_before = dict(msg.axes)
    proc = WindowTransformer(WindowSettings(window_dur=0.5, window_shift=shift,
                                            zero_pad_until="none"), native=native)
    outs = []
    for c in split_message(msg, lengths):
        out = proc(c)
        if isinstance(out.data, np.ndarray):
            assert not np.shares_memory(out.data, c.data)
            # a view of the buffer must be read-only (the buffer is never rewritten there)
            assert out.data.size == 0 or not np.shares_memory(
                out.data, proc.state.buffer) or not out.data.flags.writeable
        outs.append((out, to_host(out.data).copy()))
    for out, snapshot in outs:  # later messages never overwrote an earlier output
        np.testing.assert_array_equal(to_host(out.data), snapshot)
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype=host.dtype)
    assert msg.axes == axes_before and msg.dims == ["time", "d0"]


def test_passthrough_without_window_dur(backend):
    msg = _msg(backend, _host(5))
    assert windowing()(msg) is msg


def test_newaxis_name_and_collision(backend):
    out = windowing(newaxis="w2", window_dur=0.5, window_shift=0.2)(_msg(backend, _host(9)))
    assert out.dims == ["w2", "time", "d0"] and out.stream_dim == "w2" and "w2" in out.axes
    host = _host(20, ch=(2,), time_last=True)
    msg = AxisArray(backend.asarray(host), dims=["win", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = windowing(window_dur=0.5, window_shift=0.2)(msg)
    assert out.dims == ["win", "win_win", "time"] and out.stream_dim == "win_win"


def test_axis_resolution_and_errors(backend):
    host = _host(20, ch=(2,), time_last=True)
    msg = AxisArray(backend.asarray(host), dims=["ch", "t2"],
                    axes={"t2": AxisArray.TimeAxis(fs=FS)}, stream_dim="t2")
    out = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none")(msg)
    assert out.dims == ["ch", "win", "t2"]
    with pytest.raises(ValueError, match=r"'nope'.*\['time', 'd0'\]"):
        windowing(axis="nope", window_dur=0.5)(_msg(backend, _host(5)))
    coord = AxisArray(backend.asarray(_host(5)), dims=["time", "d0"],
                      axes={"time": CoordinateAxis(data=np.arange(5.0), dims=["time"])})
    with pytest.raises(ValueError, match="^axis.*LinearAxis"):
        windowing(window_dur=0.5)(coord)
    with pytest.raises(ValueError, match="^window_dur.*shorter than one sample"):
        windowing(window_dur=0.05)(_msg(backend, _host(5)))
    with pytest.raises(ValueError, match="^window_shift.*shorter than one sample"):
        windowing(window_dur=0.5, window_shift=0.05)(_msg(backend, _host(5)))


def test_durations_are_floored_robustly():
    """0.29 s at 100 Hz is 29 samples (a plain int(0.29 * 100) would give 28)."""
    host = np.zeros((100, 1))
    msg = AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=100.0)})
    out = windowing(window_dur=0.29, window_shift=0.07, zero_pad_until="none")(msg)
    assert out.data.shape == (11, 29, 1) and out.axes["win"].gain == pytest.approx(0.07)
    out = windowing(window_dur=0.295, window_shift=0.07, zero_pad_until="none")(msg)
    assert out.data.shape[1] == 29


def test_settings_validation():
    bad = [dict(window_dur=0.0), dict(window_dur=-1.0), dict(window_dur=float("nan")),
           dict(window_shift=0.0), dict(window_shift=-0.1), dict(zero_pad_until="bogus"),
           dict(anchor="bogus"), dict(axis=3), dict(newaxis=""), dict(batch_windows="yes"),
           dict(buffer_update_strategy="bogus")]
    for kw in bad:
        field = next(iter(kw))
        with pytest.raises(ValueError, match=f"^{field}"):
            WindowSettings(**kw)
    with pytest.raises(ValueError, match="^batch_windows"):
        WindowSettings(window_dur=0.5, window_shift=0.2, batch_windows=True)
    with pytest.raises(ValueError, match="^batch_windows"):
        WindowSettings(window_dur=0.5, window_shift=None, batch_windows=True)
    with pytest.raises(ValueError, match="^batch_windows"):
        WindowSettings(window_dur=0.5, window_shift=0.5, batch_windows=True, anchor="end")
    WindowSettings(window_dur=0.3, window_shift=0.7)  # a hop longer than the window is fine
    s = WindowSettings()
    assert (s.axis, s.newaxis, s.window_dur, s.window_shift, s.zero_pad_until, s.anchor,
            s.batch_windows, s.buffer_update_strategy) == (
        None, None, None, None, "full", Anchor.BEGINNING, False, "immediate")
    assert WindowTransformer.NONRESET_SETTINGS_FIELDS == frozenset({"anchor"})
    assert Window.SETTINGS is WindowSettings and WindowState().buffer is None
    assert pickle.loads(pickle.dumps(windowing(window_dur=0.5).settings)).window_dur == 0.5


def test_async_call_matches_sync(backend):
    host = _host(20, seed=14)
    msg = _msg(backend, host)
    got = asyncio.run(windowing(window_dur=0.5, window_shift=0.2).__acall__(msg))
    want = windowing(window_dur=0.5, window_shift=0.2)(msg)
    assert_close(got.data, to_host(want.data), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_device_change_resets():

    a, b = Backend.ARRAY_API_STRICT, Backend.ARRAY_API_STRICT_DEVICE1
    if a.unavailable_reason() is not None:
        pytest.skip(a.unavailable_reason())
    proc = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none")
    proc(_msg(a, _host(7)))
    host = _host(9, seed=15)
    out = proc(_msg(b, host))  # a different device: fresh buffer there, no mixing
    assert_close(out.data, _ref(host, 5, 2, 0), xp=b.xp, device=b.device, dtype=host.dtype)


def test_key_change_and_settings_update_reset(backend):
    proc = windowing(window_dur=0.5, window_shift=0.2, zero_pad_until="none")
    proc(_msg(backend, _host(7)))
    host = _host(9, seed=16)
    msg = _msg(backend, host)
    other = AxisArray(msg.data, dims=msg.dims, axes=msg.axes, key="another-stream")
    out = proc(other)
    assert_close(out.data, _ref(host, 5, 2, 0), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    proc.update_settings(WindowSettings(window_dur=0.3, window_shift=0.2,
                                        zero_pad_until="none"))
    out = proc(other)
    assert_close(out.data, _ref(host, 3, 2, 0), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
