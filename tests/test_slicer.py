import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.slicer import (
    Slicer,
    SlicerSettings,
    SlicerState,
    SlicerTransformer,
    parse_slice,
    slicer,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

LABELS = np.array([f"Ch{i}" for i in range(8)])
STRUCT = np.array([(i, f"E{i}", i // 3) for i in range(8)],
                  dtype=[("x", "i4"), ("label", "U4"), ("bank", "i4")])


def _host(n=12, dtype="float64"):
    return np.random.default_rng(0).standard_normal((n, 8)).astype(dtype)


def _msg(backend, host, ch=None):
    ch = AxisArray.CoordinateAxis(LABELS, dims=["ch"]) if ch is None else ch
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=100.0), "ch": ch})


def _labels(out):
    return [str(v) for v in np.asarray(out.axes["ch"].data)]


# selection -> (positions kept, labels on the output)
CASES = [
    ("", list(range(8))),
    ("2:5", [2, 3, 4]),
    ("::-1", list(range(7, -1, -1))),
    ("Ch3", [3]),
    ("Ch[0-2]", [0, 1, 2]),
    ("Ch5,Ch1,Ch6", [1, 5, 6]),
    ("0:3,1", [0, 1, 2]),
    ("1,3,6", [1, 3, 6]),
    ("Ch1,nope", [1]),
    ("nope", []),
]


@pytest.mark.parametrize("selection,keep", CASES, ids=[c[0] or "all" for c in CASES])
def test_selections_on_every_backend(backend, float_dtype, selection, keep):
    host = _host(dtype=float_dtype)
    make = lambda: slicer(selection)  # noqa: E731
    ref = host[:, keep]
    out = make()(_msg(backend, host))
    assert out.dims == ["time", "ch"] and _labels(out) == [f"Ch{i}" for i in keep]
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=float_dtype)
    assert_chunked_equals_whole(make, _msg(backend, host), reference=ref)


def test_selection_order_and_position_drop(backend):
    host = _host()
    out = slicer("Ch5,Ch1", order="selection")(_msg(backend, host))
    assert _labels(out) == ["Ch5", "Ch1"]
    assert_close(out.data, host[:, [5, 1]], xp=backend.xp, device=backend.device,
                 dtype="float64")
    out = slicer("3")(_msg(backend, host))  # a bare position drops the dim
    assert out.dims == ["time"] and "ch" not in out.axes
    assert_close(out.data, host[:, 3], xp=backend.xp, device=backend.device, dtype="float64")
    out = slicer("-1")(_msg(backend, host))
    assert_close(out.data, host[:, 7], xp=backend.xp, device=backend.device, dtype="float64")


def test_structured_axis_and_field(backend):
    host = _host()
    ax = AxisArray.CoordinateAxis(STRUCT, dims=["ch"])
    out = slicer("E2,E4")(_msg(backend, host, ax))
    assert list(np.asarray(out.axes["ch"].data)["label"]) == ["E2", "E4"]
    out = slicer("1", field="bank")(_msg(backend, host, ax))  # bank value 1, not position 1
    assert_close(out.data, host[:, 3:6], xp=backend.xp, device=backend.device,
                 dtype="float64")
    with pytest.raises(ValueError, match="^field: .*'elec'.*'bank'"):
        slicer("1", field="elec")(_msg(backend, host, ax))
    with pytest.raises(ValueError, match="^field"):
        slicer("1", field="bank")(_msg(backend, host))


def test_linear_axis_follows_a_slice():
    host = _host()
    msg = AxisArray(host, dims=["time", "ch"],
                    axes={"ch": AxisArray.LinearAxis(gain=0.5, offset=10.0)})
    out = slicer("2:7:2")(msg)
    assert (out.axes["ch"].gain, out.axes["ch"].offset) == (1.0, 11.0)
    out = slicer("1,3,5")(msg)  # a progression: same as 1:6:2
    assert (out.axes["ch"].gain, out.axes["ch"].offset) == (1.0, 10.5)
    out = slicer("0,1,5")(msg)  # no LinearAxis describes it: kept as is (as the peer)
    assert out.axes["ch"] is msg.axes["ch"]
    np.testing.assert_array_equal(out.data, host[:, [0, 1, 5]])


def test_missing_labels_raise_with_the_available_ones(backend):
    with pytest.raises(ValueError, match=r"^selection: 'Ch9'.*available: \['Ch0', 'Ch1'"):
        slicer("Ch9", on_empty="raise")(_msg(backend, _host()))
    with pytest.raises(ValueError, match=r"^selection: 'Cx.*'.*available"):
        slicer("Ch1,Cx.*", on_empty="raise")(_msg(backend, _host()))


def test_bad_positions_and_missing_axis(backend):
    with pytest.raises(ValueError, match="^selection: position 8 .* length 8"):
        slicer("8")(_msg(backend, _host()))
    with pytest.raises(ValueError, match="^selection: position -9"):
        slicer("1,-9")(_msg(backend, _host()))
    with pytest.raises(ValueError, match=r"'chan'.*\['time', 'ch'\]"):
        slicer("1", axis="chan")(_msg(backend, _host()))


def test_labels_change_resets(backend):
    host = _host()
    proc = slicer("Ch2,Ch4")
    proc(_msg(backend, host))
    moved = AxisArray.CoordinateAxis(LABELS[::-1].copy(), dims=["ch"])
    out = proc(_msg(backend, host, moved))
    assert_close(out.data, host[:, [3, 5]], xp=backend.xp, device=backend.device,
                 dtype="float64")


def test_pickle_resumes_and_empty_first_chunk(backend, float_dtype):
    host = _host(dtype=float_dtype)
    assert_pickle_resumes(lambda: slicer("Ch6,Ch1,Ch3"), _msg(backend, host), split_at=5)
    proc = slicer("Ch6,Ch1")
    assert tuple(proc(_msg(backend, host[:0])).data.shape) == (0, 2)


def test_output_does_not_alias_state_and_input_is_unchanged(backend):
    host = _host()
    msg = _msg(backend, host)
    axes = dict(msg.axes)
    slicer("Ch1,Ch6")(msg)
    assert msg.axes == axes
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype="float64")


def test_slicing_the_stream_dim_follows_each_message():
    """Along the stream dim the axis moves every message: each output is that message's
    selection, with that message's coordinates."""
    host = _host(n=10)
    msg = AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=10.0)})
    proc = slicer("1:3", axis="time")
    a, b = proc(msg), proc(AxisArray(host[:4], dims=["time", "ch"],
                                     axes={"time": AxisArray.TimeAxis(fs=10.0, offset=5.0)}))
    np.testing.assert_array_equal(b.data, host[1:3])
    assert (a.axes["time"].offset, b.axes["time"].offset) == (0.1, 5.1)
    out = proc(AxisArray(host[:2], dims=["time", "ch"]))
    np.testing.assert_array_equal(out.data, host[1:2])


def test_default_axis_skips_the_stream_dim():
    host = _host()
    msg = AxisArray(np.ascontiguousarray(host.T), dims=["ch", "time"],
                    axes={"ch": AxisArray.CoordinateAxis(LABELS, dims=["ch"])},
                    stream_dim="time")
    out = slicer("Ch1")(msg)
    assert out.dims == ["ch", "time"]
    np.testing.assert_array_equal(out.data, host.T[[1]])


def test_parse_slice():
    ax = AxisArray.CoordinateAxis(LABELS, dims=["ch"])
    assert parse_slice("") == parse_slice(":") == parse_slice("None") == (slice(None),)
    assert parse_slice("1:5:2") == (slice(1, 5, 2),)
    assert parse_slice(" :3") == (slice(None, 3),)
    assert parse_slice("4") == (4,)
    assert parse_slice("Ch2,1:3", ax) == (2, slice(1, 3))
    assert parse_slice("Ch[67]", ax) == (6, 7)
    assert parse_slice("zz", ax, allow_empty=True) == ()
    pre = AxisArray.CoordinateAxis(np.array(["a1", "a10", "b1"]), dims=["ch"])
    assert parse_slice("a", pre, allow_empty=True) == ()  # a regex matches whole labels
    assert parse_slice("a1.*", pre) == (0, 1)
    nums = AxisArray.CoordinateAxis(np.array([5, 6, 1]), dims=["ch"])
    assert parse_slice("1", nums) == (1,)  # a number label never matches text exactly
    texts = AxisArray.CoordinateAxis(np.array(["5", "6", "1"]), dims=["ch"])
    assert parse_slice("1", texts) == (2,)  # a text label wins over the position
    with pytest.raises(ValueError, match="^selection: 'x'.*no labels"):
        parse_slice("x")
    with pytest.raises(ValueError, match="^selection"):
        parse_slice("1:2:3:4")
    with pytest.raises(ValueError, match="^selection"):
        parse_slice("a:b")
    with pytest.raises(ValueError, match="^selection: '\\('"):
        parse_slice("(", ax)


def test_settings():
    s = SlicerSettings()
    assert (s.selection, s.axis, s.field, s.order, s.on_empty) == ("", None, None, "axis",
                                                                   "warn")
    for kw, name in [({"order": "sorted"}, "order"), ({"on_empty": "ignore"}, "on_empty"),
                     ({"selection": 3}, "selection"), ({"axis": ""}, "axis"),
                     ({"field": 2}, "field")]:
        with pytest.raises(ValueError, match=f"^{name}"):
            SlicerSettings(**kw)
    assert SlicerState().key is None and Slicer.SETTINGS is SlicerSettings
    assert isinstance(slicer(), SlicerTransformer)
    assert pickle.loads(pickle.dumps(SlicerSettings("Ch1"))).selection == "Ch1"
