import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._kernels import coordinates
from ezmsg_sigproc_units.coordinatespaces import (
    CoordinateMode,
    CoordinateSpacesSettings,
    CoordinateSpacesTransformer,
    cart2pol,
    cart2z,
    pol2cart,
    polar2z,
    z2cart,
    z2polar,
)
from ezmsg_sigproc_units.testing import assert_close


def _host(shape=(16, 2), dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _msg(backend, host, dims=("time", "comp"), labels=True, **kw):
    axes = {"time": AxisArray.TimeAxis(fs=100.0)}
    if labels:
        axes["comp"] = AxisArray.CoordinateAxis(data=np.array(["x", "y"]), dims=["comp"],
                                                unit="m")
    return AxisArray(backend.asarray(host), dims=list(dims), axes=axes, **kw)


def _cs(**kw):
    return CoordinateSpacesTransformer(CoordinateSpacesSettings(**kw))


def _ref_cart2pol(h, axis=-1):
    x, y = np.take(h, 0, axis=axis), np.take(h, 1, axis=axis)
    return np.stack([np.hypot(x, y), np.arctan2(y, x)], axis=axis)


def _ref_pol2cart(h, axis=-1):
    r, t = np.take(h, 0, axis=axis), np.take(h, 1, axis=axis)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=axis)


def _check(backend, actual, ref, dtype, trig=False):
    # mlx 0.32 (CPU) evaluates float64 cos/sin/exp at about float32 accuracy (~1e-7 relative).
    rtol = 1e-6 if trig and backend.library == "mlx" and "64" in str(dtype) else None
    assert_close(actual, ref, xp=backend.xp, device=backend.device, dtype=dtype, rtol=rtol)


@pytest.mark.parametrize("mode,ref", [("cart2pol", _ref_cart2pol), ("pol2cart", _ref_pol2cart),
                                      (CoordinateMode.POL2CART, _ref_pol2cart)])
def test_transformer_matches_numpy(backend, float_dtype, mode, ref):
    host = _host(dtype=float_dtype)
    out = _cs(mode=mode)(_msg(backend, host))
    _check(backend, out.data, ref(host.astype(np.float64)), float_dtype, trig=True)
    assert out.dims == ["time", "comp"]


def test_round_trip(backend, float_dtype):
    host = _host(dtype=float_dtype)
    pol = _cs(mode="cart2pol")(_msg(backend, host))
    back = _cs(mode="pol2cart")(pol)
    _check(backend, back.data, host, float_dtype, trig=True)


def test_component_axis_first_of_three(backend, float_dtype):
    host = _host(shape=(2, 5, 3), dtype=float_dtype)
    msg = _msg(backend, host, dims=("comp", "time", "ch"), labels=False)
    out = _cs(axis="comp")(msg)
    _check(backend, out.data, _ref_cart2pol(host.astype(np.float64), axis=0), float_dtype)


def test_default_axis_skips_declared_stream_dim(backend):
    host = _host(shape=(2, 6))
    msg = _msg(backend, host, dims=("comp", "time"), labels=False, stream_dim="time")
    out = _cs()(msg)
    _check(backend, out.data, _ref_cart2pol(host, axis=0), "float64")


def test_labels_are_replaced_and_reused(backend):
    proc = _cs()
    msg = _msg(backend, _host())
    out = proc(msg)
    ax = out.axes["comp"]
    assert list(ax.data) == ["r", "theta"] and ax.unit == "m" and ax.dims == ["comp"]
    assert proc(msg).axes["comp"] is ax
    assert list(msg.axes["comp"].data) == ["x", "y"]  # input's axes untouched
    out2 = _cs(mode="pol2cart")(out)
    assert list(out2.axes["comp"].data) == ["x", "y"]
    plain = _cs()(_msg(backend, _host(), labels=False))
    assert "comp" not in plain.axes


def test_integer_input_is_computed_in_float(backend):
    host = np.array([[3, 4], [0, -2]], dtype="int32")
    out = _cs()(_msg(backend, host))
    dt = "float64" if backend.supports_float64() else "float32"
    _check(backend, out.data, _ref_cart2pol(host.astype(np.float64)), dt)


def test_empty_chunk_keeps_shape(backend):
    out = _cs()(_msg(backend, _host(shape=(0, 2), dtype="float32")))
    assert tuple(out.data.shape) == (0, 2)


def test_input_not_mutated(backend):
    host = _host()
    msg = _msg(backend, host)
    _cs()(msg)
    _check(backend, msg.data, host, "float64")


def test_component_axis_must_have_length_2(backend):
    with pytest.raises(ValueError, match=r"^axis: dim 'comp' .* length 3"):
        _cs()(_msg(backend, _host(shape=(4, 3)), labels=False))
    with pytest.raises(ValueError, match=r"^axis: dim 'time' .* length 4"):
        _cs(axis="time")(_msg(backend, _host(shape=(4, 2))))


def test_missing_axis_raises(backend):
    with pytest.raises(ValueError, match=r"'nope'.*\['time', 'comp'\]"):
        _cs(axis="nope")(_msg(backend, _host()))


def test_settings():
    s = CoordinateSpacesSettings()
    assert s.mode is CoordinateMode.CART2POL and s.axis is None
    assert CoordinateMode("pol2cart") is CoordinateMode.POL2CART
    assert CoordinateMode.POL2CART == "pol2cart"
    with pytest.raises(ValueError, match="^mode"):
        CoordinateSpacesSettings(mode="foo")
    with pytest.raises(ValueError, match="^axis"):
        CoordinateSpacesSettings(axis=1)


# -- module-level array functions ---------------------------------------------------------


def test_cart2pol_pol2cart_functions(backend, float_dtype):
    h = _host(shape=(7, 3), dtype=float_dtype)
    g = _host(shape=(7, 3), dtype=float_dtype, seed=1)
    x, y = backend.asarray(h), backend.asarray(g)
    r, t = cart2pol(x, y)
    _check(backend, r, np.hypot(h, g), float_dtype)
    _check(backend, t, np.arctan2(g, h), float_dtype)
    a, b = pol2cart(x, y)
    _check(backend, a, h * np.cos(g), float_dtype, trig=True)
    _check(backend, b, h * np.sin(g), float_dtype, trig=True)


def test_hypot_scaled_has_no_overflow_or_underflow(backend, float_dtype):
    big = 1e30 if float_dtype == "float32" else 1e300
    tiny = 1e-30 if float_dtype == "float32" else 1e-300
    h = np.array([3.0, 0.0, big, tiny, np.inf, -np.inf, 0.0, -5.0], dtype=float_dtype)
    g = np.array([4.0, 0.0, big, tiny, 1.0, np.nan, -0.0, 12.0], dtype=float_dtype)
    got = coordinates.hypot_scaled(backend.xp, backend.asarray(h), backend.asarray(g))
    _check(backend, got, np.hypot(h, g), float_dtype)


def _skip_without_complex(backend, float_dtype):
    if float_dtype == "float64" and not hasattr(backend.xp, "complex128"):
        pytest.skip(f"{backend.value} has no complex128")


def test_complex_functions(backend, float_dtype):
    _skip_without_complex(backend, float_dtype)
    cdt = "complex64" if float_dtype == "float32" else "complex128"
    h = _host(shape=(9,), dtype=float_dtype)
    g = _host(shape=(9,), dtype=float_dtype, seed=1)
    z_ref = (h + 1j * g).astype(cdt)
    x, y = backend.asarray(h), backend.asarray(g)
    _check(backend, cart2z(x, y), z_ref, cdt)
    z = backend.asarray(z_ref)
    re, im = z2cart(z)
    _check(backend, re, h, float_dtype)
    _check(backend, im, g, float_dtype)
    r, t = z2polar(z)
    _check(backend, r, np.abs(z_ref), float_dtype)
    _check(backend, t, np.angle(z_ref), float_dtype)
    _check(backend, polar2z(x, y), (h * np.exp(1j * g)).astype(cdt), cdt, trig=True)


def test_complex128_missing_is_a_clear_error(backend):
    if hasattr(backend.xp, "complex128") or not backend.supports_float64():
        pytest.skip(f"{backend.value} has complex128 (or no float64)")
    x = backend.asarray(_host(shape=(3,)))
    with pytest.raises(ValueError, match="complex128"):
        cart2z(x, x)


def test_functions_reject_mixed_namespaces(backend):
    if backend.library == "numpy":
        pytest.skip("needs a second namespace")
    with pytest.raises(TypeError, match="different namespaces"):
        cart2pol(backend.asarray(_host(shape=(3,))), _host(shape=(3,)))


# ----------------------------------------------------- Python scalars, as the peer accepts
def test_functions_accept_python_scalars():
    from ezmsg_sigproc_units import coordinatespaces as cs

    r, theta = cs.cart2pol(3.0, -4)
    assert isinstance(r, float) and r == 5.0 and theta == np.arctan2(-4.0, 3.0)
    x, y = cs.pol2cart(2, np.pi / 2)
    assert np.isclose(x, 0.0, atol=1e-15) and y == 2.0
    z = cs.cart2z(1, 2.5)
    assert isinstance(z, complex) and z == 1 + 2.5j
    assert cs.z2cart(1 - 2j) == (1.0, -2.0)
    mag, ang = cs.z2polar(-1j)
    assert mag == 1.0 and ang == -np.pi / 2
    assert np.isclose(cs.polar2z(2.0, np.pi), -2.0 + 0j)
    lists = cs.cart2pol([1.0, 0.0], [0.0, 2.0])  # sequences become NumPy arrays
    np.testing.assert_allclose(lists[0], [1.0, 2.0])


def test_scalar_beside_an_array_joins_its_backend(backend, float_dtype):
    from ezmsg_sigproc_units import coordinatespaces as cs

    x = backend.asarray([3.0, -1.0, 0.5], float_dtype)
    r, theta = cs.cart2pol(x, 4.0)
    host = np.array([3.0, -1.0, 0.5])
    _check(backend, r, np.hypot(host, 4.0), float_dtype)
    _check(backend, theta, np.arctan2(4.0, host), float_dtype, trig=True)
    px, py = cs.pol2cart(2.0, x)
    _check(backend, px, 2.0 * np.cos(host), float_dtype, trig=True)
    _check(backend, py, 2.0 * np.sin(host), float_dtype, trig=True)
