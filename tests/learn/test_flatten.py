import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.process.flatten import (
    FlattenSettings,
    FlattenTransformer,
    LagFlattenState,
    lag_axis,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)


def _windows(backend, n_win=5, n_lag=3, n_ch=2, dtype="float64", seed=0, stream_dim=None,
             extra=0):
    shape = (n_win, n_lag, n_ch) + ((extra,) if extra else ())
    host = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    dims = ["win", "time", "ch"] + (["feat"] if extra else [])
    axes = {"win": AxisArray.TimeAxis(fs=10.0, offset=1.0),
            "time": AxisArray.TimeAxis(fs=100.0),
            "ch": AxisArray.CoordinateAxis(np.array([f"c{i}" for i in range(n_ch)]),
                                           dims=["ch"])}
    return host, AxisArray(backend.asarray(host), dims=dims, axes=axes, stream_dim=stream_dim)


def test_lag_case_every_backend(backend, float_dtype):
    host, msg = _windows(backend, dtype=float_dtype)
    out = FlattenTransformer(FlattenSettings(preserve_axis="win", sample_axis="time"))(msg)
    assert out.dims == ["time", "ch"]
    assert_close(out.data, host.reshape(5, 6), xp=backend.xp, device=backend.device,
                 dtype=float_dtype)
    ch = out.axes["ch"].data
    assert list(ch["label"]) == ["t-2/c0", "t-2/c1", "t-1/c0", "t-1/c1", "t-0/c0", "t-0/c1"]
    assert list(ch["lag"]) == [2, 2, 1, 1, 0, 0] and ch["lag"].dtype == np.int32
    assert list(ch["ch"]) == ["c0", "c1"] * 3
    assert out.axes["time"] is msg.axes["win"]  # the window stamps pass through, renamed


def test_lag_case_extra_feature_dim_folds_fastest(backend):
    host, msg = _windows(backend, n_lag=2, extra=2, stream_dim="win")
    out = FlattenTransformer(FlattenSettings())(msg)
    assert out.dims == ["win", "ch"] and out.stream_dim == "win"
    assert_close(out.data, host.reshape(5, 8), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    assert list(out.axes["ch"].data["label"][:3]) == ["t-1/c0/1", "t-1/c0/2", "t-1/c1/1"]


def test_chunked_along_windows_equals_whole(backend):
    _, msg = _windows(backend, n_win=9, seed=1)
    assert_chunked_equals_whole(lambda: FlattenTransformer(FlattenSettings()), msg, axis="win")


def test_pickle_resumes(backend):
    _, msg = _windows(backend, n_win=8, seed=2)
    assert_pickle_resumes(lambda: FlattenTransformer(FlattenSettings()), msg, split_at=3,
                          axis="win")


def test_without_lag_dim_is_the_general_flatten(backend):
    host = np.arange(24.0).reshape(4, 3, 2)
    msg = AxisArray(backend.asarray(host), dims=["time", "ch", "feat"],
                    axes={"time": AxisArray.TimeAxis(fs=10.0)})
    out = FlattenTransformer(FlattenSettings())(msg)  # no "win": the first dim is kept
    assert out.dims == ["time", "ch"]
    assert_close(out.data, host.reshape(4, 6), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    assert "lag" not in out.axes["ch"].data.dtype.names
    assert list(out.axes["ch"].data["label"][:3]) == ["1/1", "1/2", "2/1"]


def test_unlabelled_features_get_no_lag_axis():
    host = np.zeros((2, 3, 2))
    msg = AxisArray(host, dims=["win", "time", "ch"], axes={})  # "ch" has no coordinates
    out = FlattenTransformer(FlattenSettings())(msg)
    assert "lag" not in out.axes["ch"].data.dtype.names


def test_window_length_change_rebuilds_the_lag_axis():
    proc = FlattenTransformer(FlattenSettings())
    _, msg = _windows(_Numpy, n_lag=3)
    assert proc(msg).data.shape == (5, 6)
    _, msg = _windows(_Numpy, n_lag=2)
    out = proc(msg)
    assert out.data.shape == (5, 4)
    assert list(out.axes["ch"].data["lag"]) == [1, 1, 0, 0]


def test_input_not_mutated(backend):
    host, msg = _windows(backend)
    axes_before = dict(msg.axes)
    proc = FlattenTransformer(FlattenSettings())
    proc(msg)
    proc(msg)
    assert msg.axes == axes_before and msg.dims == ["win", "time", "ch"]
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_lag_axis_shape():
    ax = lag_axis(0)
    assert ax.data.shape == (0,) and ax.dims == ["time"]
    assert list(lag_axis(2).data["label"]) == ["t-1", "t-0"]


def test_settings_validation_and_defaults():
    s = FlattenSettings()
    assert (s.preserve_axis, s.sample_axis, s.feature_axis) == (None, None, "ch")
    with pytest.raises(ValueError, match="^feature_axis"):
        FlattenSettings(sample_axis="ch")
    with pytest.raises(ValueError, match="^feature_axis"):
        FlattenSettings(feature_axis="")
    with pytest.raises(ValueError, match="^preserve_axis"):
        FlattenSettings(preserve_axis=3)
    with pytest.raises(ValueError, match="^preserve_axis"):
        FlattenTransformer(FlattenSettings(preserve_axis="nope"))(_windows(_Numpy)[1])
    with pytest.raises(ValueError, match="^feature_axis"):  # the kept dim is named like it
        FlattenTransformer(FlattenSettings(feature_axis="win"))(_windows(_Numpy)[1])
    assert LagFlattenState().lag_axis is None
    assert pickle.loads(pickle.dumps(s)) == s


class _Numpy:
    """Backend stand-in for the NumPy-only tests."""

    @staticmethod
    def asarray(x):
        return x
