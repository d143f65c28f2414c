import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.digitize import (
    Digitize,
    DigitizeDType,
    DigitizeSettings,
    DigitizeTransformer,
    digitize,
)
from ezmsg_sigproc_units.testing import assert_chunked_equals_whole, assert_close
from tests.test_quantize import _int_ok


def _msg(backend, host, attrs=None):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=100.0)}, attrs=attrs or {})


def _host(dtype="float64", n=40, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, 3)) * 2.0).astype(dtype)


def _ref(host, lo, hi, name):
    """Offline NumPy reference in the formula's order (input float dtype)."""
    info = np.iinfo(name)
    t = (np.clip(host, lo, hi) - lo) / (hi - lo)
    y = np.round(t * float(int(info.max) - int(info.min)) + float(info.min))
    # The float nearest the top may be one past it: the top is the dtype's maximum.
    return np.array([min(int(v), int(info.max)) for v in y.ravel()],
                    dtype=name).reshape(y.shape)


@pytest.mark.parametrize("dtype", list(DigitizeDType))
def test_every_dtype_matches_reference(backend, float_dtype, dtype):
    name = dtype.value
    host = _host(float_dtype)
    make = lambda: digitize(-3.0, 3.0, dtype)  # noqa: E731
    if not _int_ok(backend, name):
        with pytest.raises(ValueError, match=f"^dtype: {name}"):
            make()(_msg(backend, host))
        return
    ref = _ref(host, -3.0, 3.0, name)
    exact = backend.value.startswith(("numpy", "strict")) and not (
        float_dtype == "float32" and name != "int16")
    # 32- and 64-bit grids from float32 input: the float's own step is coarser than the grid
    # and backends may differ in its last bit; JAX's float32 division may round a half step
    # the other way.
    atol = 0 if exact else max(1, int(2 ** (np.iinfo(name).bits - 23)))
    out = make()(_msg(backend, host))
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=name,
                 rtol=0, atol=atol)
    assert_chunked_equals_whole(make, _msg(backend, host), reference=ref, rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", list(DigitizeDType))
def test_ends_of_the_range_are_the_dtype_limits(backend, float_dtype, dtype):
    name = dtype.value
    if not _int_ok(backend, name):
        pytest.skip(f"{name} is not available on {backend.value}")
    host = np.array([[-10.0, -1.0, 0.0, 1.0, 10.0]], dtype=float_dtype).T
    got = to_host(digitize(-1.0, 1.0, dtype)(_msg(backend, host)).data).ravel()
    info = np.iinfo(name)
    assert got.dtype == np.dtype(name)
    assert [int(v) for v in got[[0, 1, 3, 4]]] == [info.min, info.min, info.max, info.max]
    assert abs(int(got[2])) <= 1


def test_attrs_give_the_inverse_map(backend):
    host = _host(n=10)
    msg = _msg(backend, host, attrs={"keep": 1})
    out = DigitizeTransformer(DigitizeSettings(-5.0, 5.0, "INT16"))(msg)
    assert out.attrs["keep"] == 1 and "conversion" not in msg.attrs
    back = to_host(out.data).astype(float) * out.attrs["conversion"] + out.attrs["offset"]
    np.testing.assert_allclose(back, host, atol=0.5 * out.attrs["conversion"] * 1.0001)
    assert out.attrs["conversion"] == pytest.approx(10.0 / 65535)


def test_integer_input_and_empty_chunks(backend):
    host = np.arange(-6, 6, dtype="int32").reshape(6, 2)
    out = digitize(-6.0, 6.0)(_msg(backend, host))
    assert_close(out.data, _ref(host.astype(float), -6.0, 6.0, "int16"), xp=backend.xp,
                 device=backend.device, dtype="int16", rtol=0, atol=0)
    assert tuple(digitize(-6.0, 6.0)(_msg(backend, host[:0])).data.shape) == (0, 2)


def test_input_not_mutated(backend):
    host = _host("float32", n=6)
    msg = _msg(backend, host)
    digitize(-1.0, 1.0)(msg)
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype="float32")
    assert msg.attrs == {}


def test_settings_validation():
    with pytest.raises(ValueError, match="^max_val"):
        DigitizeSettings(1.0, 1.0)
    with pytest.raises(ValueError, match="^max_val"):
        DigitizeSettings(1.0, -1.0)
    with pytest.raises(ValueError, match="^min_val"):
        DigitizeSettings(None, 1.0)
    with pytest.raises(ValueError, match="^dtype"):
        DigitizeSettings(0.0, 1.0, "int8")
    s = DigitizeSettings(0.0, 1.0)
    assert s.dtype == DigitizeDType.INT16 == "int16"
    assert DigitizeDType.options() == ["int16", "int32", "int64"]
    assert Digitize.SETTINGS is DigitizeSettings
    for spelling in ("Int32", "INT32", DigitizeDType.INT32):
        out = digitize(0.0, 1.0, spelling)(AxisArray(np.ones((2, 1)), dims=["time", "ch"]))
        assert out.data.dtype == np.int32
