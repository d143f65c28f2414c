import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.linear import (
    LinearTransformSettings,
    LinearTransformState,
    LinearTransformTransformer,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)


def _host(shape=(10, 3), dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _msg(backend, host, dims=("time", "ch"), **kw):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=100.0)}, **kw)


def _lt(**kw):
    return LinearTransformTransformer(LinearTransformSettings(**kw))


CASES = [
    ({}, lambda h: h),
    ({"scale": 2.5, "offset": -1.0}, lambda h: h * 2.5 - 1.0),
    ({"scale": [1.0, -2.0, 0.5]}, lambda h: h * np.array([1.0, -2.0, 0.5])),
    ({"scale": [1.0, 2.0, 3.0], "offset": [10, 20, 30]},
     lambda h: h * np.array([1.0, 2.0, 3.0]) + np.array([10.0, 20.0, 30.0])),
    ({"scale": 3.0, "offset": np.array([0.1, 0.2, 0.3])},
     lambda h: h * 3.0 + np.array([0.1, 0.2, 0.3])),
    ({"scale": [[1.0, 2.0, 3.0]]}, lambda h: h * np.array([[1.0, 2.0, 3.0]])),
]


@pytest.mark.parametrize("kw,ref", CASES)
def test_matches_numpy_and_streams(backend, float_dtype, kw, ref):
    host = _host(dtype=float_dtype)
    assert_chunked_equals_whole(lambda: _lt(**kw), _msg(backend, host), reference=ref(host))
    assert_pickle_resumes(lambda: _lt(**kw), _msg(backend, host), split_at=4)


def test_vector_along_named_axis(backend, float_dtype):
    host = _host(shape=(4, 3, 2), dtype=float_dtype)
    out = _lt(scale=[1.0, 2.0, 3.0], axis="ch")(_msg(backend, host, dims=("time", "ch", "f")))
    ref = host * np.array([1.0, 2.0, 3.0])[None, :, None]
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_default_axis_skips_declared_stream_dim(backend):
    host = _host(shape=(3, 5))  # (ch, time) with time declared as the stream dim
    msg = _msg(backend, host, dims=("ch", "time"), stream_dim="time")
    out = _lt(scale=[1.0, 2.0, 3.0])(msg)
    assert_close(out.data, host * np.array([[1.0], [2.0], [3.0]]), xp=backend.xp,
                 device=backend.device, dtype=host.dtype)


def test_coefficients_live_on_the_device(backend, float_dtype):
    proc = _lt(scale=[1.0, 2.0, 3.0], offset=0.5)
    proc(_msg(backend, _host(dtype=float_dtype)))
    assert_close(proc.state.scale, np.array([[1.0, 2.0, 3.0]]), xp=backend.xp,
                 device=backend.device, dtype=float_dtype)
    assert proc.state.offset == 0.5


def test_dtype_change_resets(backend):
    if not backend.supports_float64():
        pytest.skip(f"{backend.value} has no float64 here")
    proc = _lt(scale=[1.0, 2.0, 3.0])
    proc(_msg(backend, _host(dtype="float32")))
    host = _host(dtype="float64")
    out = proc(_msg(backend, host))
    assert_close(out.data, host * np.array([1.0, 2.0, 3.0]), xp=backend.xp,
                 device=backend.device, dtype="float64")


def test_namespace_change_resets(backend):
    proc = _lt(scale=[1.0, 2.0, 3.0])
    proc(AxisArray(_host(), dims=["time", "ch"]))
    host = _host(dtype="float32")
    out = proc(_msg(backend, host))
    assert_close(out.data, host * np.array([1.0, 2.0, 3.0]), xp=backend.xp,
                 device=backend.device, dtype="float32")


def test_integer_input_is_computed_in_float(backend):
    host = np.arange(6, dtype="int32").reshape(3, 2)
    out = _lt(scale=2.0, offset=1.0)(_msg(backend, host))
    dt = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, host * 2.0 + 1.0, xp=backend.xp, device=backend.device, dtype=dt)


def test_complex_input(backend):
    host = (_host() + 1j * _host(seed=1)).astype("complex64")
    out = _lt(scale=[1.0, 2.0, 3.0], offset=1.0)(_msg(backend, host))
    assert_close(out.data, host * np.array([1.0, 2.0, 3.0]) + 1.0, xp=backend.xp,
                 device=backend.device, dtype="complex64")


@pytest.mark.parametrize("kw", [{"scale": 2.0}, {"scale": [1.0, 2.0, 3.0]}])
def test_empty_chunk_keeps_shape(backend, kw):
    out = _lt(**kw)(_msg(backend, _host(shape=(0, 3), dtype="float32")))
    assert tuple(out.data.shape) == (0, 3)


def test_input_not_mutated(backend):
    host = _host()
    msg = _msg(backend, host)
    _lt(scale=[1.0, 2.0, 3.0], offset=1.0)(msg)
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype=host.dtype)


@pytest.mark.parametrize("kw,match", [
    ({"scale": [1.0, 2.0]}, r"^scale: has 2 values but axis 'ch' has length 3"),
    ({"offset": [1.0, 2.0, 3.0, 4.0]}, r"^offset: has 4 values but axis 'ch' has length 3"),
    ({"scale": np.ones((2, 3))}, r"^scale: shape \(2, 3\) does not broadcast"),
    ({"axis": "nope"}, r"'nope'.*\['time', 'ch'\]"),
    ({"scale": [1.0], "axis": "nope"}, r"'nope'.*\['time', 'ch'\]"),
])
def test_mismatch_with_message_raises(backend, kw, match):
    with pytest.raises(ValueError, match=match):
        _lt(**kw)(_msg(backend, _host()))


def test_axis_length_change_revalidates():
    proc = _lt(scale=[1.0, 2.0, 3.0])
    proc(AxisArray(_host(), dims=["time", "ch"]))
    with pytest.raises(ValueError, match="^scale: has 3 values but axis 'ch' has length 4"):
        proc(AxisArray(_host(shape=(10, 4)), dims=["time", "ch"]))


@pytest.mark.parametrize("kw,match", [
    ({"scale": "a"}, "^scale"),
    ({"scale": [1.0, float("nan")]}, "^scale"),
    ({"offset": 1j}, "^offset"),
    ({"offset": [[1.0], [2.0, 3.0]]}, "^offset"),
    ({"axis": 3}, "^axis"),
])
def test_settings_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        LinearTransformSettings(**kw)


def test_defaults():
    s = LinearTransformSettings()
    assert (s.scale, s.offset, s.axis) == (1.0, 0.0, None)
    st = LinearTransformState()
    assert st.scale is None and st.offset is None
