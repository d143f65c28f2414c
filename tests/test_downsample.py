import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ezmsg_sigproc_units.downsample import (
    Downsample,
    DownsampleSettings,
    DownsampleTransformer,
    downsample,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    random_partitions,
    split_message,
)


def _partitions(backend, n, seed=0):
    """Random partitions with empty and length-1 chunks. On NumPy: many, of any length; on
    the other backends one, of lengths drawn from a few values, because JAX compiles every
    slice once per start and length."""
    if backend.value == "numpy":
        return random_partitions(n, count=6, seed=seed)
    rng = np.random.default_rng(seed)
    lengths = [0, 1]
    while sum(lengths) < n:
        lengths.append(min(int(rng.choice([0, 1, 5])), n - sum(lengths)))
    return [lengths]


def _msg(backend, host, dims=("time", "ch"), fs=100.0, offset=0.25, axis="time"):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={axis: AxisArray.TimeAxis(fs=fs, offset=offset)})


@pytest.mark.parametrize("q,layout", [(1, ("time", "ch")), (3, ("ch", "time")),
                                      (4, ("a", "time", "b")), (4, ("time", "ch"))])
def test_chunked_equals_strided_whole(backend, q, layout):
    # Pure indexing: the dtype does not matter (integer data is checked below).
    shape = {"time": 19, "ch": 3, "a": 2, "b": 2}
    host = np.random.default_rng(q).standard_normal([shape[d] for d in layout])
    host = host.astype("float32")
    ix = layout.index("time")
    ref = host[(slice(None),) * ix + (slice(None, None, q),)]
    assert_chunked_equals_whole(lambda: downsample(factor=q), _msg(backend, host, layout),
                                reference=ref, partitions=_partitions(backend, 19, q))


def test_output_axis_offsets_follow_the_kept_samples():
    host = np.arange(30.0).reshape(30, 1)
    msg = _msg(_Np, host, fs=100.0, offset=2.0)
    for lengths in random_partitions(30, count=6, seed=3):
        proc = downsample(factor=4)
        pos = 0
        for chunk in split_message(msg, lengths):
            out = proc(chunk)
            ax = out.axes["time"]
            assert ax.gain == pytest.approx(0.04)
            first_kept = -(-pos // 4) * 4  # next multiple of 4 at or after pos
            assert ax.offset == pytest.approx(2.0 + first_kept * 0.01)
            end = pos + chunk.data.shape[0]
            np.testing.assert_array_equal(out.data[:, 0], host[first_kept:end:4, 0])
            pos = end


@pytest.mark.parametrize("target,q", [(30.0, 3), (35.0, 2), (50.0, 2), (100.0, 1), (1000 / 3, 3)])
def test_target_rate_picks_floor_factor(target, q):
    proc = DownsampleTransformer(DownsampleSettings(target_rate=target))
    out = proc(_msg(_Np, np.arange(12.0).reshape(12, 1), fs=100.0 if target < 200 else 1000.0))
    assert proc.state.q == q
    np.testing.assert_array_equal(out.data[:, 0], np.arange(12.0)[::q])


def test_target_rate_above_input_rate_keeps_every_sample():
    proc = downsample(target_rate=150.0)  # input 100 Hz: unreachable, so factor 1 (the peer's)
    host = np.arange(4.0).reshape(4, 1)
    out = proc(_msg(_Np, host))
    assert proc.state.q == 1
    np.testing.assert_array_equal(out.data, host)


def test_target_rate_needs_linear_axis():
    msg = AxisArray(np.zeros((4, 1)), dims=["time", "ch"],
                    axes={"time": CoordinateAxis(data=np.arange(4.0), dims=["time"])})
    with pytest.raises(ValueError, match="^axis"):
        downsample(target_rate=10.0)(msg)


@pytest.mark.parametrize("kw,field", [
    (dict(factor=0), "factor"), (dict(factor=-2), "factor"), (dict(factor=1.5), "factor"),
    (dict(factor=True), "factor"), (dict(target_rate=0.0), "target_rate"),
    (dict(target_rate=-5.0), "target_rate"), (dict(target_rate=float("nan")), "target_rate"),
    (dict(factor=2, target_rate=-1.0), "target_rate"), (dict(axis=""), "axis"),
])
def test_bad_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        DownsampleSettings(**kw)


def test_factor_wins_over_target_rate(backend):
    # As ezmsg-sigproc: with both given, factor is used and target_rate ignored, even a
    # target_rate that would pick another factor or could not be met (150 Hz > 100 Hz).
    host = np.arange(24.0).reshape(12, 2)
    for target in (50.0, 150.0):
        proc = DownsampleTransformer(DownsampleSettings(target_rate=target, factor=3))
        msg = _msg(backend, host)
        out = proc(msg)
        assert proc.state.q == 3
        assert_close(out.data, host[::3], xp=backend.xp, device=backend.device,
                     dtype=msg.data.dtype)
        assert out.axes["time"].gain == pytest.approx(0.03)


def test_neither_setting_keeps_every_sample():
    host = np.arange(6.0).reshape(6, 1)
    out = DownsampleTransformer()(_msg(_Np, host))
    np.testing.assert_array_equal(out.data, host)
    assert out.axes["time"].gain == pytest.approx(0.01)


def test_missing_axis_names_it():
    with pytest.raises(ValueError, match="^axis.*'time'"):
        downsample(factor=2, axis="time")(AxisArray(np.zeros((4, 2)), dims=["x", "y"]))


def test_default_axis_resolution():
    host = np.arange(12.0).reshape(2, 6)
    out = downsample(factor=2)(_msg(_Np, host, dims=("ch", "time")))
    assert out.data.shape == (2, 3)  # "time" chosen although it is not the first dim
    out = downsample(factor=2)(AxisArray(np.arange(12.0).reshape(6, 2), dims=["a", "b"]))
    assert out.data.shape == (3, 2)  # no "time": the first dim
    out = downsample(factor=2, axis="ch")(_msg(_Np, host, dims=("ch", "time")))
    assert out.data.shape == (1, 6)


def test_coordinate_axis_is_subsampled():
    t = np.cumsum(np.random.default_rng(0).uniform(0.5, 1.5, 11))
    msg = AxisArray(np.arange(11.0).reshape(11, 1), dims=["time", "ch"],
                    axes={"time": CoordinateAxis(data=t, dims=["time"], unit="s")})
    proc = downsample(factor=3)
    outs = [proc(c) for c in split_message(msg, [2, 0, 5, 4])]
    np.testing.assert_array_equal(np.concatenate([o.axes["time"].data for o in outs]), t[::3])
    np.testing.assert_array_equal(np.concatenate([o.data for o in outs])[:, 0],
                                  np.arange(11.0)[::3])


def test_integer_data_keeps_dtype(backend):
    host = np.arange(20, dtype="int32").reshape(10, 2)
    out = downsample(factor=3)(_msg(backend, host))
    assert_close(out.data, host[::3], xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_empty_chunk_shape(backend):
    out = downsample(factor=2)(_msg(backend, np.zeros((0, 3), dtype="float32")))
    assert tuple(out.data.shape) == (0, 3)
    assert out.axes["time"].gain == pytest.approx(0.02)


def test_pickle_resumes(backend):
    host = np.random.default_rng(1).standard_normal((17, 2)).astype("float32")
    assert_pickle_resumes(lambda: downsample(factor=4), _msg(backend, host), split_at=7)


def test_gain_change_resets_phase():
    proc = downsample(factor=3)
    proc(_msg(_Np, np.zeros((4, 1)), fs=100.0))  # phase now 2
    out = proc(_msg(_Np, np.arange(4.0).reshape(4, 1), fs=200.0))
    np.testing.assert_array_equal(out.data[:, 0], [0.0, 3.0])


def test_does_not_mutate_input():
    msg = _msg(_Np, np.arange(8.0).reshape(8, 1))
    before = pickle.dumps(msg)
    downsample(factor=2)(msg)
    assert pickle.dumps(msg) == before
    assert isinstance(msg.axes["time"], LinearAxis) and msg.axes["time"].gain == 0.01


def test_unit_uses_settings():
    assert Downsample.SETTINGS is DownsampleSettings


class _Np:  # a minimal stand-in for the numpy backend in host-only tests
    @staticmethod
    def asarray(h):
        return np.asarray(h)
