import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.aggregate import AggregationFunction as A
from ezmsg_sigproc_units.binned_aggregate import (
    BinnedAggregateSettings,
    BinnedAggregateState,
    BinnedAggregateTransformer,
)
from ezmsg_sigproc_units.testing import Backend, assert_chunked_equals_whole, assert_close

FS = 1000.0
T0 = 2.0
N = 120


def _host(n=N, ch=3, dtype="float32"):
    return np.random.default_rng(4).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, start=0):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=T0 + start / FS),
                           "ch": AxisArray.CoordinateAxis(data=np.array(["a", "b", "c"]),
                                                          dims=["ch"])})


def _proc(**kw):
    return lambda: BinnedAggregateTransformer(BinnedAggregateSettings(**kw))


_NP = {"mean": np.mean, "min": np.min, "max": np.max, "median": np.median, "std": np.std,
       "sum": np.sum, "nanmean": np.nanmean}


def _reference(host, bin_duration, ops, fractional=True):
    """Offline: bin m spans int((m-1)*spb):int(m*spb) of the whole signal."""
    spb = bin_duration * FS if fractional else float(int(bin_duration * FS))
    n, ends, m = host.shape[0], [], 1
    while int(m * spb) <= n:
        ends.append(int(m * spb))
        m += 1
    starts = [0, *ends[:-1]]
    t = T0 + np.arange(n) / FS
    cols = []
    for op in ops:
        rows = []
        for s, e in zip(starts, ends, strict=True):
            seg = host[s:e].astype(np.float64)
            if op == "argmax":
                rows.append(t[s:e][np.argmax(seg, axis=0)])
            elif op == "trapezoid":
                rows.append(np.trapezoid(seg, t[s:e], axis=0))
            else:
                rows.append(_NP[op](seg, axis=0))
        cols.append(np.stack(rows))
    return cols


@pytest.mark.parametrize("bin_duration", [0.02, 0.0137])  # equal-width bins / fractional
def test_mean_equals_offline_reference(backend, float_dtype, bin_duration):
    host = _host(dtype=float_dtype)
    (ref,) = _reference(host, bin_duration, ["mean"])
    assert_chunked_equals_whole(_proc(bin_duration=bin_duration), _msg(backend, host),
                                reference=ref)
    out = _proc(bin_duration=bin_duration)()(_msg(backend, host))
    assert out.dims == ["time", "ch"] and list(out.axes["ch"].data) == ["a", "b", "c"]
    assert out.axes["time"].gain == pytest.approx(bin_duration)
    assert out.axes["time"].offset == pytest.approx(T0)


@pytest.mark.parametrize("fractional", [True, False])
def test_envelope_stacks_on_a_trailing_axis(backend, fractional):
    host = _host()
    ops = (A.MIN, A.MAX, A.MEDIAN)
    refs = _reference(host, 0.0137, ["min", "max", "median"], fractional)
    make = _proc(bin_duration=0.0137, operation=ops, fractional=fractional)
    assert_chunked_equals_whole(make, _msg(backend, host), reference=np.stack(refs, axis=-1))
    out = make()(_msg(backend, host))
    assert out.dims == ["time", "ch", "metric"]
    assert list(out.axes["metric"].data) == ["min", "max", "median"]
    gain = 0.0137 if fractional else 13 / FS
    assert out.axes["time"].gain == pytest.approx(gain)


def test_coordinate_operations(backend):
    host = _host(dtype="float64" if backend.supports_float64() else "float32")
    refs = _reference(host, 0.02, ["argmax", "trapezoid"])
    make = _proc(bin_duration=0.02, operation=(A.ARGMAX, A.TRAPEZOID))
    assert_chunked_equals_whole(make, _msg(backend, host), reference=np.stack(refs, axis=-1),
                                rtol=1e-5, atol=1e-6)


def test_no_bin_closed_gives_an_empty_message_of_the_right_shape():
    proc = _proc(bin_duration=0.05, operation=(A.MIN, A.MAX))()
    out = proc(_msg(Backend.NUMPY, _host(30)))
    assert out.data.shape == (0, 3, 2) and out.dims == ["time", "ch", "metric"]
    out = proc(_msg(Backend.NUMPY, _host(30), start=30))
    assert out.data.shape == (1, 3, 2)


def test_passthrough_and_fresh_schedule_after_it():
    host = _host()
    proc = _proc(bin_duration=0.02)()
    proc(_msg(Backend.NUMPY, host[:30]))  # 10 samples carried
    proc.settings = BinnedAggregateSettings(bin_duration=0.02, passthrough=True)
    msg = _msg(Backend.NUMPY, host[30:60], start=30)
    assert proc(msg) is msg
    proc.settings = BinnedAggregateSettings(bin_duration=0.02)
    out = proc(_msg(Backend.NUMPY, host[60:100], start=60))  # nothing from before the gap
    assert_close(out.data, np.stack([host[60:80].mean(0), host[80:100].mean(0)]))
    assert out.axes["time"].offset == pytest.approx(T0 + 0.06)


def test_input_not_kept_and_state_pickles():
    host = _host()
    data = host[:50].copy()
    proc = _proc(bin_duration=0.02)()
    proc(_msg(Backend.NUMPY, data))
    data[:] = 0.0  # the carried 10 samples were copied
    again = _proc(bin_duration=0.02)()
    again.state = pickle.loads(pickle.dumps(proc.state))
    again._hash = proc._hash
    assert isinstance(again.state, BinnedAggregateState)
    nxt = _msg(Backend.NUMPY, host[50:90], start=50)
    assert_close(again(nxt).data, proc(nxt).data)
    assert_close(proc(_msg(Backend.NUMPY, host[90:100], start=90)).data,
                 host[80:100].mean(0, keepdims=True))


def test_bad_settings_and_messages():
    with pytest.raises(ValueError, match="^bin_duration"):
        BinnedAggregateSettings(bin_duration=0.0)
    with pytest.raises(ValueError, match="^operation"):
        BinnedAggregateSettings(operation=A.NONE)
    with pytest.raises(ValueError, match="^operation"):
        BinnedAggregateSettings(operation=("mean", "bogus"))
    with pytest.raises(ValueError, match="^newaxis"):
        BinnedAggregateSettings(newaxis="")
    assert BinnedAggregateSettings(operation="max").operation is A.MAX
    with pytest.raises(ValueError, match="^axis"):
        _proc(axis="win")()(_msg(Backend.NUMPY, _host()))
    with pytest.raises(ValueError, match="^axis"):  # no LinearAxis to bin by duration
        _proc()()(AxisArray(np.zeros((4, 2)), dims=["time", "ch"]))
