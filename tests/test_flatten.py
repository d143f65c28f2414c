import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.flatten import (
    Flatten,
    FlattenSettings,
    FlattenState,
    FlattenTransformer,
    axis_labels,
    normalize_axis_label,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

CH = np.array([(1.0, 2.0, "A"), (3.0, 4.0, "B")], dtype=[("x", "f8"), ("y", "f8"),
                                                        ("label", "U4")])


def _host(n=10, dtype="float64"):
    return np.random.default_rng(0).standard_normal((n, 2, 3, 2)).astype(dtype)


def _msg(backend, host, dims=("time", "ch", "feature", "z"), stream_dim=None):
    axes = {"time": AxisArray.TimeAxis(fs=10.0, offset=1.0),
            "ch": AxisArray.CoordinateAxis(CH, dims=["ch"]),
            "feature": AxisArray.CoordinateAxis(np.array(["f0", "f1", "f2"]), dims=["feature"])}
    return AxisArray(backend.asarray(host), dims=list(dims), axes=axes, stream_dim=stream_dim)


def _make(**kw):
    return lambda: FlattenTransformer(FlattenSettings(**kw))


def test_default_merges_everything_but_time(backend, float_dtype):
    host = _host(dtype=float_dtype)
    msg = _msg(backend, host)
    ref = host.reshape(host.shape[0], -1)
    out = _make()()(msg)
    assert out.dims == ["time", "ch"] and out.axes["time"] is msg.axes["time"]
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=float_dtype)
    merged = out.axes["ch"].data
    assert merged.dtype.names == ("x", "y", "label", "feature", "z")
    assert list(merged["label"][:3]) == ["A/f0/1", "A/f0/2", "A/f1/1"]
    assert list(merged["label"][-1:]) == ["B/f2/2"]
    assert list(merged["x"]) == [1.0] * 6 + [3.0] * 6
    assert list(merged["z"][:2]) == [1, 2] and merged["z"].dtype == np.uint32
    assert_chunked_equals_whole(_make(), msg, reference=ref)


def test_order_rest_rename_and_separator(backend):
    host = _host()
    win = _msg(backend, host, dims=("win", "ch", "feature", "z"))
    out = _make(preserve_axis="win", sample_axis="time", flatten_axes=("feature", "ch"),
                output_axis="fc", label_separator="")()(win)
    assert out.dims == ["time", "fc", "z"]
    ref = np.transpose(host, (0, 2, 1, 3)).reshape(host.shape[0], 6, 2)
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype="float64")
    lab = out.axes["fc"].data
    assert lab.dtype.names == ("feature", "x", "y", "label")
    assert list(lab["label"]) == ["f0A", "f0B", "f1A", "f1B", "f2A", "f2B"]
    assert "time" not in out.axes  # "win" had no axis to carry over


def test_kept_coordinate_axis_is_renamed_and_stream_dim_follows():
    host = _host(n=3)
    times = np.array([0.1, 0.25, 0.3])
    msg = AxisArray(host, dims=["win", "ch", "feature", "z"],
                    axes={"win": AxisArray.CoordinateAxis(times, dims=["win"])},
                    stream_dim="win")
    out = _make(preserve_axis="win", sample_axis="time")()(msg)
    assert out.stream_dim == "time" and out.axes["time"].dims == ["time"]
    np.testing.assert_array_equal(out.axes["time"].data, times)
    # Folding the stream dim itself: the output declares none.
    folded = _make(preserve_axis="ch", output_axis="m")()(msg)
    assert folded.dims == ["ch", "m"] and folded.stream_dim is None


def test_nothing_to_merge_gives_one_entry():
    msg = AxisArray(np.arange(6.0).reshape(3, 2), dims=["time", "x"])
    out = _make(flatten_axes=())()(msg)
    assert out.dims == ["time", "ch", "x"] and out.data.shape == (3, 1, 2)
    assert list(out.axes["ch"].data["label"]) == [""]


def test_empty_chunks_and_pickle(backend, float_dtype):
    host = _host(dtype=float_dtype)
    proc = _make()()
    out = proc(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (0, 12)
    assert_pickle_resumes(_make(), _msg(backend, host), split_at=4)


def test_layout_change_rebuilds_the_axis():
    proc = _make()()
    proc(AxisArray(np.zeros((2, 3)), dims=["time", "ch"],
                   axes={"ch": AxisArray.CoordinateAxis(np.array(["a", "b", "c"]), dims=["ch"])}))
    out = proc(AxisArray(np.zeros((2, 2)), dims=["time", "ch"],
                         axes={"ch": AxisArray.CoordinateAxis(np.array(["p", "q"]), dims=["ch"])}))
    assert list(out.axes["ch"].data["label"]) == ["p", "q"]


def test_errors():
    msg = AxisArray(np.zeros((2, 3)), dims=["time", "ch"])
    with pytest.raises(ValueError, match=r"^preserve_axis: .*'win'"):
        _make(preserve_axis="win")()(msg)
    with pytest.raises(ValueError, match=r"^flatten_axes: .*'nope'"):
        _make(flatten_axes=("nope",))()(msg)
    with pytest.raises(ValueError, match="^output_axis"):
        _make(flatten_axes=(), output_axis="ch")()(msg)
    with pytest.raises(ValueError, match="^flatten_axes"):
        FlattenSettings(preserve_axis="time", flatten_axes=("time",))
    with pytest.raises(ValueError, match="^flatten_axes"):
        FlattenSettings(flatten_axes=("ch", "ch"))
    with pytest.raises(ValueError, match="^flatten_axes"):
        FlattenSettings(flatten_axes="ch")
    with pytest.raises(ValueError, match="^output_axis"):
        FlattenSettings(output_axis="time", preserve_axis="time")
    with pytest.raises(ValueError, match="^label_separator"):
        FlattenSettings(label_separator=None)
    clash = AxisArray(np.zeros((1, 2, 2)), dims=["time", "a", "b"],
                      axes={"a": AxisArray.CoordinateAxis(
                          np.array([(1,), (2,)], dtype=[("k", "i4")]), dims=["a"]),
                            "b": AxisArray.CoordinateAxis(
                          np.array([("x",), ("y",)], dtype=[("k", "U1")]), dims=["b"])})
    with pytest.raises(ValueError, match="^flatten_axes: field 'k'"):
        _make()()(clash)


def test_label_helpers():
    assert normalize_axis_label(np.float64(2.5)) == 2.5
    assert normalize_axis_label(CH[1]) == "B"
    st = np.array([(1, "a")], dtype=[("n", "i4"), ("s", "U1")])
    assert normalize_axis_label(st[0]) == (("n", 1), ("s", "a"))
    assert normalize_axis_label([1, 2]) == "[1, 2]"
    assert axis_labels(np.array(["a", "b"])) == ["a", "b"]


def test_settings_defaults():
    s = FlattenSettings()
    assert (s.preserve_axis, s.sample_axis, s.flatten_axes, s.output_axis,
            s.label_separator) == (None, None, None, "ch", "/")
    assert FlattenState().perm is None and Flatten.SETTINGS is FlattenSettings
    assert pickle.loads(pickle.dumps(s)) == s
