import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.diff import DiffSettings, DiffState, DiffTransformer, diff
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

FS = 50.0


def _host(n=40, ch=3, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, times=None, dims=("time", "ch")):
    if times is None:
        tax = AxisArray.TimeAxis(fs=FS, offset=2.0)
    else:
        tax = AxisArray.CoordinateAxis(data=times, dims=["time"], unit="s")
    ch = AxisArray.CoordinateAxis(data=np.array([f"c{i}" for i in range(host.shape[1])]),
                                  dims=["ch"])
    return AxisArray(backend.asarray(host), dims=list(dims), axes={"time": tax, "ch": ch})


def _ref(host, dt=None):
    """Whole-signal reference in float64: first sample differenced against itself."""
    d = np.diff(host.astype(np.float64), axis=0, prepend=host[:1].astype(np.float64))
    if dt is not None:
        d = d / dt[:, None]
    return d


@pytest.mark.parametrize("scale_by_fs", [False, True])
def test_chunked_equals_whole_linear_axis(backend, float_dtype, scale_by_fs):
    host = _host(dtype=float_dtype)
    ref = _ref(host) * (FS if scale_by_fs else 1.0)
    assert_chunked_equals_whole(lambda: diff(scale_by_fs=scale_by_fs), _msg(backend, host),
                                reference=ref)


def test_chunked_equals_whole_coordinate_axis(backend, float_dtype):
    """Irregular timestamps: each difference is divided by its own time step."""
    host = _host(dtype=float_dtype, seed=1)
    rng = np.random.default_rng(2)
    times = 10.0 + np.cumsum(rng.uniform(0.005, 0.05, host.shape[0]))
    dt = np.diff(times, prepend=times[0])
    dt[0] = 1.0  # first difference is 0 anyway
    assert_chunked_equals_whole(lambda: diff(scale_by_fs=True), _msg(backend, host, times),
                                reference=_ref(host, dt))


def test_coordinate_axis_without_scaling_is_plain_diff(backend):
    host = _host(n=6)
    times = np.array([0.0, 0.1, 0.3, 0.35, 0.6, 1.0])
    out = diff()(_msg(backend, host, times))
    assert_close(out.data, _ref(host), xp=backend.xp, device=backend.device, dtype=host.dtype)


@pytest.mark.parametrize("scale_by_fs", [False, True])
def test_pickle_resumes(backend, float_dtype, scale_by_fs):
    host = _host(dtype=float_dtype, seed=3)
    assert_pickle_resumes(lambda: diff(scale_by_fs=scale_by_fs), _msg(backend, host),
                          split_at=17)


def test_pickle_resumes_coordinate_axis(backend, float_dtype):
    host = _host(seed=4, dtype=float_dtype)
    times = np.cumsum(np.random.default_rng(5).uniform(0.01, 0.1, host.shape[0]))
    assert_pickle_resumes(lambda: diff(scale_by_fs=True), _msg(backend, host, times),
                          split_at=9)


def test_second_chunk_continues_from_previous(backend):
    host = np.array([[0.0], [1.0], [4.0], [9.0]])
    proc = diff()
    proc(_msg(backend, host[:2]))
    out = proc(_msg(backend, host[2:]))
    assert_close(out.data, np.array([[3.0], [5.0]]), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_empty_first_chunk_keeps_shape_and_state(backend):
    host = _host(n=5)
    proc = diff()
    out = proc(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (0, 3)
    assert proc.state.last_dat is None
    out = proc(_msg(backend, host))
    assert_close(out.data, _ref(host), xp=backend.xp, device=backend.device, dtype=host.dtype)
    out = proc(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (0, 3)
    out = proc(_msg(backend, host[:1]))  # continues from the last sample, not from itself
    assert_close(out.data, host[:1] - host[-1:], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_channel_count_change_resets(backend):
    proc = diff()
    proc(_msg(backend, _host(n=4, ch=3)))
    host = _host(n=4, ch=2, seed=9)
    out = proc(_msg(backend, host))
    assert_close(out.data, _ref(host), xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_dtype_change_resets(backend):
    if not backend.supports_float64():
        pytest.skip(f"{backend.value} has no float64 here")
    proc = diff()
    proc(_msg(backend, _host(n=4, dtype="float32")))
    host = _host(n=4, seed=9)
    out = proc(_msg(backend, host))
    assert_close(out.data, _ref(host), xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_axis_none_follows_stream_dim(backend):
    host = _host(n=6)
    # (ch, time) without a declared stream_dim: "time" is found by name.
    msg = AxisArray(backend.asarray(np.ascontiguousarray(host.T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = diff()(msg)
    assert out.dims == ["ch", "time"]
    assert_close(out.data, _ref(host).T, xp=backend.xp, device=backend.device, dtype=host.dtype)
    # A declared stream_dim wins over the "time" guess.
    win = AxisArray(backend.asarray(host), dims=["win", "time"], axes={}, stream_dim="win")
    out = diff()(win)
    assert_close(out.data, _ref(host), xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_explicit_axis(backend):
    host = _host(n=5)
    out = DiffTransformer(DiffSettings(axis="ch"))(_msg(backend, host))
    ref = np.diff(host, axis=1, prepend=host[:, :1])
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_integer_input_is_computed_in_float(backend):
    host = np.arange(12, dtype="int32").reshape(6, 2) ** 2
    msg = AxisArray(backend.asarray(host), dims=["time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=10.0)})
    out = diff(scale_by_fs=True)(msg)
    dt = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, _ref(host) * 10.0, xp=backend.xp, device=backend.device, dtype=dt)


def test_input_not_mutated(backend):
    host = _host(n=8)
    msg = _msg(backend, host)
    axes_before = dict(msg.axes)
    proc = diff(scale_by_fs=True)
    proc(msg)
    proc(msg)
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype=host.dtype)
    assert msg.axes == axes_before


def test_state_is_not_a_view_of_the_input():
    host = _host(n=4)
    msg = AxisArray(host.copy(), dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)})
    proc = diff()
    proc(msg)
    msg.data[-1, :] = 1e6  # an upstream buffer being reused
    np.testing.assert_array_equal(proc.state.last_dat, host[-1:])


def test_missing_axis_raises(backend):
    with pytest.raises(ValueError, match=r"'nope'.*\['time', 'ch'\]"):
        DiffTransformer(DiffSettings(axis="nope"))(_msg(backend, _host(n=3)))


def test_scale_by_fs_needs_an_axis_object():
    msg = AxisArray(np.zeros((3, 2)), dims=["time", "ch"])
    with pytest.raises(ValueError, match="scale_by_fs.*'time'"):
        diff(scale_by_fs=True)(msg)


def test_settings_validation():
    with pytest.raises(ValueError, match="^axis"):
        DiffSettings(axis=3)
    with pytest.raises(ValueError, match="^scale_by_fs"):
        DiffSettings(scale_by_fs="yes")
    s = DiffSettings()
    assert (s.axis, s.scale_by_fs) == (None, False)
    assert DiffState().last_dat is None and DiffState().last_time is None
    assert pickle.loads(pickle.dumps(diff(axis="time").settings)).axis == "time"
