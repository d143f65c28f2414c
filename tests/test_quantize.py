import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.quantize import QuantizerUnit, QuantizeSettings, QuantizeTransformer
from ezmsg_sigproc_units.testing import assert_chunked_equals_whole, assert_close


def _msg(backend, host):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=100.0)})


def _host(dtype="float64", n=40, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, 3)) * 2.0).astype(dtype)


def _ref(host, lo, hi, bits):
    """Offline NumPy reference, in the formula's order, in the input's float dtype."""
    t = (np.clip(host, lo, hi) - lo) / (hi - lo)
    y = np.round((2**bits - 1) * t)
    if bits == 1:
        return y.astype(bool)
    width = next(w for w in (8, 16, 32, 64) if bits <= w)
    return y.astype(f"uint{width}")


def _int_ok(backend, name):
    from ezmsg_sigproc_units._kernels.quantize import integer_dtype

    try:
        integer_dtype(backend.xp, name, backend.device)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("bits", [1, 4, 8, 12, 16, 20])
def test_matches_reference_every_backend(backend, float_dtype, bits):
    host = _host(float_dtype)
    ref = _ref(host, -3.0, 3.0, bits)
    proc = lambda: QuantizeTransformer(QuantizeSettings(max_val=3.0, min_val=-3.0, bits=bits))  # noqa: E731
    out = proc()(_msg(backend, host))
    # Exact on NumPy and array-api-strict; elsewhere float32 may round a value that lies at
    # a half step the other way (JAX's division differs in the last bit).
    atol = 0 if backend.value.startswith(("numpy", "strict")) or bits == 1 else 1
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=ref.dtype,
                 rtol=0, atol=atol)
    assert_chunked_equals_whole(proc, _msg(backend, host), reference=ref, rtol=0, atol=atol)


@pytest.mark.parametrize("bits", [24, 32, 48, 64])
def test_wide_grids_never_wrap(backend, float_dtype, bits):
    """The top of the range is exactly 2**bits - 1 (the float nearest it may be one past it),
    the bottom 0, and the output is monotonic in the input."""
    name = "uint32" if bits <= 32 else "uint64"
    if not _int_ok(backend, name):
        with pytest.raises(ValueError, match="^dtype: uint64"):
            QuantizeTransformer(QuantizeSettings(max_val=1.0, bits=bits))(
                _msg(backend, np.zeros((2, 3), dtype=float_dtype)))
        return
    host = np.linspace(-0.5, 1.5, 33).astype(float_dtype).reshape(11, 3)
    out = QuantizeTransformer(QuantizeSettings(max_val=1.0, bits=bits))(_msg(backend, host))
    got = _to_host(out.data)
    assert got.dtype == np.dtype(name)
    flat = got.ravel()
    assert int(flat[-1]) == 2**bits - 1 and int(flat[0]) == 0
    assert np.all(np.diff(flat.astype(object)) >= 0)
    if float_dtype == "float64" and bits <= 48:
        np.testing.assert_array_equal(got, _ref(host, 0.0, 1.0, bits))


def _to_host(a):
    from ezmsg_sigproc_units._backend import to_host

    return to_host(a)


def test_integer_input_is_computed_in_float(backend):
    host = np.arange(-4, 8, dtype="int32").reshape(6, 2)
    out = QuantizeTransformer(QuantizeSettings(max_val=6.0, bits=4))(_msg(backend, host))
    assert_close(out.data, _ref(host.astype(float), 0.0, 6.0, 4), xp=backend.xp,
                 device=backend.device, dtype="uint8", rtol=0, atol=0)


def test_empty_input_and_no_mutation(backend):
    host = _host("float32", n=5)
    msg = _msg(backend, host)
    proc = QuantizeTransformer(QuantizeSettings(max_val=3.0, min_val=-3.0))
    assert tuple(proc(_msg(backend, host[:0])).data.shape) == (0, 3)
    out = proc(msg)
    assert out.dims == msg.dims and out.axes["time"] is msg.axes["time"]
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype="float32")


def test_settings_validation():
    with pytest.raises(ValueError, match="^max_val"):
        QuantizeSettings(max_val=1.0, min_val=1.0)
    with pytest.raises(ValueError, match="^max_val"):
        QuantizeSettings(max_val=float("nan"))
    with pytest.raises(ValueError, match="^min_val"):
        QuantizeSettings(max_val=1.0, min_val="0")
    with pytest.raises(ValueError, match="^bits"):
        QuantizeSettings(max_val=1.0, bits=0)
    with pytest.raises(ValueError, match="^bits"):
        QuantizeSettings(max_val=1.0, bits=65)
    s = QuantizeSettings(2.0)
    assert (s.max_val, s.min_val, s.bits) == (2.0, 0.0, 8)
    assert QuantizerUnit.SETTINGS is QuantizeSettings


def test_settings_update_takes_effect():
    host = _host(n=4)
    proc = QuantizeTransformer(QuantizeSettings(max_val=3.0, min_val=-3.0, bits=8))
    msg = AxisArray(host, dims=["time", "ch"])
    proc(msg)
    proc.settings = QuantizeSettings(max_val=3.0, min_val=-3.0, bits=4)
    np.testing.assert_array_equal(proc(msg).data, _ref(host, -3.0, 3.0, 4))
