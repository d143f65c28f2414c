"""Block state-space IIR kernel: every backend against scipy.signal.sosfilt on the whole
signal for any chunking; float32 accuracy over orders 1-8 x four band types (NumPy); state
conventions (zero, steady, scipy zi); the NumPy native path against the portable one;
non-finite input exactly as scipy; lean plans that pickle as their coefficients."""

from __future__ import annotations

import functools
import pickle

import numpy as np
import pytest
import scipy.signal as ss

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import iir as K
from ezmsg_sigproc_units.testing import assert_close, random_partitions

FS = 1000.0
DESIGNS = {  # a small representative set for every backend
    "band4": ("band", (1.0, 40.0), 4),
    "bandstop3": ("bandstop", (8.0, 12.0), 3),
    "high1": ("high", 5.0, 1),
    "low5": ("low", 40.0, 5),
}


def _sos(btype, wn, order):
    return ss.butter(order, wn, btype=btype, fs=FS, output="sos")


def _stream(backend, plan, host, lengths, z=None, fn=K.iir_filter):
    xp = backend.xp
    if z is None:
        z = K.iir_zero_state(xp, plan, host.shape[1])
    outs, pos = [], 0
    for k in lengths:
        y, z = fn(xp, plan, backend.asarray(host[pos : pos + k]), z)
        assert tuple(y.shape) == (k, host.shape[1])
        outs.append(y)
        pos += k
    return xp.concat(outs, axis=0), z


# Crosses block boundaries, ends on a tail; empty and single-sample chunks. (JAX compiles
# every new shape eagerly, so other backends get this one partition; NumPy gets random ones.)
FIXED = [0, 1, 30, 0, 64, 55]


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("block", [8, 32])
def test_streaming_matches_sosfilt(backend, float_dtype, design, block):
    if backend.value != "numpy" and (block != 32 or design in ("bandstop3", "low5")):
        pytest.skip("full grid on numpy only (suite time)")
    if backend.value == "jax" and design != "band4":
        pytest.skip("JAX compiles every new shape eagerly: one design (suite time)")
    sos = _sos(*DESIGNS[design])
    host = np.random.default_rng(1).standard_normal((150, 3)).astype(float_dtype)
    ref, zf = ss.sosfilt(sos, host.astype(np.float64), axis=0,
                         zi=np.zeros((sos.shape[0], 2, 3)))
    xp = backend.xp
    plan = K.iir_plan(xp, sos, dtype=getattr(xp, float_dtype), device=backend.device,
                      block=block)
    partitions = [FIXED]
    if backend.value == "numpy":
        partitions += random_partitions(150, count=4, seed=block, max_chunk=70)[1:] + [[150]]
    for lengths in partitions:
        y, z = _stream(backend, plan, host, lengths)
        assert_close(y, ref, xp=xp, device=backend.device, dtype=host.dtype,
                     err_msg=f"chunks {lengths}")
        assert_close(K.zi_to_scipy(xp, plan, z), zf, xp=xp, device=backend.device,
                     dtype=host.dtype, rtol=1e-4 if float_dtype == "float32" else 1e-9)


def test_single_samples_and_empty_chunks(backend):
    sos = _sos(*DESIGNS["band4"])
    host = np.random.default_rng(2).standard_normal((40, 2)).astype("float32")
    plan = K.iir_plan(backend.xp, sos, dtype=backend.xp.float32, device=backend.device)
    y, _ = _stream(backend, plan, host, [0, 1, 1, 0, 1, 37, 0])
    assert_close(y, ss.sosfilt(sos, host.astype(np.float64), axis=0), xp=backend.xp,
                 device=backend.device, dtype=host.dtype)


@pytest.mark.parametrize("btype,wns", [("low", (8.0, 40.0)), ("high", (8.0, 40.0)),
                                       ("band", ((1.0, 40.0), (8.0, 12.0))),
                                       ("bandstop", ((1.0, 40.0), (8.0, 12.0)))])
@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-10)])
def test_accuracy_orders_1_to_8(btype, wns, dtype, tol):
    """NumPy, against an extended-precision sosfilt, relative to the output's peak. (A float32
    cascade in scipy's own coordinates misses 1e-5 by up to 4 decades on these designs.)"""
    host = np.random.default_rng(3).standard_normal((2000, 2)).astype(dtype)
    import array_api_compat.numpy as xnp

    for wn in wns:
        for order in range(1, 9):
            sos = _sos(btype, wn, order)
            ref = ss.sosfilt(sos.astype(np.longdouble), host.astype(np.longdouble), axis=0)
            plan = K.iir_plan(xnp, sos, dtype=np.dtype(dtype), device="cpu")
            for native in (True, False):
                fn = functools.partial(K.iir_filter, native=native)
                y, _ = fn(xnp, plan, host[:1000], K.iir_zero_state(xnp, plan, 2))
                y2, _ = fn(xnp, plan, host[1000:], _)
                err = np.abs(np.concatenate([y, y2]) - ref).max() / np.abs(ref).max()
                assert err < tol, f"{btype} {wn} order {order} native={native}: {err:.1e}"


def test_float32_cascade_in_scipy_coordinates_would_fail():
    """Guard for the test above: the hard case really is hard in direct form."""
    sos = _sos("bandstop", (1.0, 40.0), 8)
    host = np.random.default_rng(3).standard_normal((2000, 2))
    ref = ss.sosfilt(sos, host, axis=0)
    y = ss.sosfilt(sos.astype(np.float32), host.astype(np.float32), axis=0)
    assert np.abs(y - ref).max() / np.abs(ref).max() > 1e-3


def test_steady_initial_state(backend, float_dtype):
    if backend.value == "jax" and float_dtype == "float64":
        pytest.skip("JAX compiles every new shape eagerly (suite time)")
    sos = _sos(*DESIGNS["low5"])
    xp = backend.xp
    plan = K.iir_plan(xp, sos, dtype=getattr(xp, float_dtype), device=backend.device)
    x0 = np.array([1.5, -2.0, 0.0], dtype=float_dtype)
    z = K.iir_initial_state(xp, plan, backend.asarray(x0))
    ref_zi = ss.sosfilt_zi(sos)[:, :, None] * x0[None, None, :]
    assert_close(K.zi_to_scipy(xp, plan, z), ref_zi, xp=xp, device=backend.device,
                 dtype=x0.dtype, rtol=1e-5 if float_dtype == "float32" else 1e-9)
    y, _ = K.iir_filter(xp, plan, backend.asarray(np.tile(x0, (50, 1))), z)
    assert_close(y, np.tile(x0, (50, 1)), xp=xp, device=backend.device, dtype=x0.dtype)


def test_zi_round_trip_and_resume_from_scipy_state():
    import array_api_compat.numpy as xnp

    sos = _sos(*DESIGNS["band4"])
    host = np.random.default_rng(4).standard_normal((100, 2))
    _, zi = ss.sosfilt(sos, host[:60], axis=0, zi=np.zeros((4, 2, 2)))
    plan = K.iir_plan(xnp, sos, dtype=np.float64, device="cpu")
    z = K.zi_from_scipy(xnp, plan, zi)
    np.testing.assert_allclose(K.zi_to_scipy(xnp, plan, z), zi, rtol=1e-9, atol=1e-12)
    y, _ = K.iir_filter(xnp, plan, host[60:], z)
    np.testing.assert_allclose(y, ss.sosfilt(sos, host[60:], axis=0, zi=zi)[0], rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_input_reaches_what_sosfilt_reaches(backend, bad):
    """A NaN or an infinity mid-block: its channel is exact before it and NaN from it on,
    for ever (the state is NaN); the other channels are untouched. Chunks take the tail, the
    few-blocks and the scan paths (JAX: not the scan; it compiles each new shape)."""
    sos = _sos(*DESIGNS["band4"])
    host = np.random.default_rng(5).standard_normal((600, 3)).astype("float32")
    host[10, 1] = bad
    plan = K.iir_plan(backend.xp, sos, dtype=backend.xp.float32, device=backend.device)
    lengths = [7, 20, 73] if backend.value == "jax" else [7, 20, 573]
    y, z = _stream(backend, plan, host, lengths)
    y, z = to_host(y), to_host(z)
    ref = ss.sosfilt(sos, host[: y.shape[0]].astype(np.float64), axis=0)
    assert np.all(np.isnan(y[10:, 1])), "NaN (not +-inf) from the non-finite sample on"
    np.testing.assert_allclose(y[:10, 1], ref[:10, 1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y[:, [0, 2]], ref[:, [0, 2]], rtol=1e-5, atol=1e-5)
    assert np.all(np.isnan(z[:, 1])) and np.all(np.isfinite(z[:, [0, 2]]))
    y2, _ = K.iir_filter(backend.xp, plan, backend.asarray(host[:5]), backend.asarray(z))
    assert np.all(np.isnan(to_host(y2)[:, 1])), "a NaN state keeps the channel NaN"


def test_kernels_never_read_data_back():
    """Under an outer ``jax.jit`` every value is a tracer: any ``bool()``/``float()``/host
    read of data in the IIR or FIR path (guard included) would raise."""
    jax = pytest.importorskip("jax")
    from ezmsg_sigproc_units._kernels import fir as F
    from ezmsg_sigproc_units.testing import Backend

    b = Backend.JAX
    host = np.random.default_rng(12).standard_normal((40, 3)).astype("float32")
    host[5, 2] = np.nan
    plan = K.iir_plan(b.xp, _sos(*DESIGNS["band4"]), dtype=b.xp.float32, device=b.device)
    fplan = F.fir_plan(b.xp, ss.firwin(9, 40.0, fs=FS), dtype=b.xp.float32, device=b.device)
    x = b.asarray(host)
    y, _ = jax.jit(lambda x, z: K.iir_filter(b.xp, plan, x, z))(
        x, K.iir_zero_state(b.xp, plan, 3))
    assert_close(y, ss.sosfilt(_sos(*DESIGNS["band4"]), host.astype(np.float64), axis=0),
                 xp=b.xp, device=b.device, dtype=host.dtype)
    yf, _ = jax.jit(lambda x, t: F.fir_filter(b.xp, fplan, x, t))(
        x, F.fir_zero_state(b.xp, fplan, 3))
    assert np.isnan(to_host(yf)[5:14, 2]).all() and np.isfinite(to_host(yf)[:5, 2]).all()


@pytest.mark.parametrize("channels", [1, 700])
def test_numpy_native_equals_portable(channels):
    """The native NumPy path (sequential block states, BLAS calls split by channel groups)
    against the portable one, including a channel count that needs the split."""
    import array_api_compat.numpy as xnp

    sos = _sos("band", (8.0, 12.0), 8)
    host = np.random.default_rng(6).standard_normal((230, channels)).astype("float32")
    plan = K.iir_plan(xnp, sos, dtype=np.float32, device="cpu")
    z0 = K.iir_initial_state(xnp, plan, host[0])
    for lengths in ([230], [31, 1, 0, 66, 132]):
        a, za = _stream_np(plan, host, lengths, z0, K.iir_filter)
        b, zb = _stream_np(plan, host, lengths, z0, functools.partial(K.iir_filter,
                                                                      native=False))
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())
        np.testing.assert_allclose(za, zb, rtol=1e-5, atol=1e-5 * np.abs(zb).max())


def _stream_np(plan, host, lengths, z, fn):
    import array_api_compat.numpy as xnp

    outs, pos = [], 0
    for k in lengths:
        y, z = fn(xnp, plan, host[pos : pos + k], z)
        outs.append(y)
        pos += k
    return np.concatenate(outs), z


def test_pure_gain_and_first_order_sections():
    import array_api_compat.numpy as xnp

    host = np.random.default_rng(7).standard_normal((70, 2))
    sos = np.array([[2.0, 0, 0, 1, 0, 0], [1.0, 0.5, 0, 1, -0.3, 0]])
    plan = K.iir_plan(xnp, sos, dtype=np.float64, device="cpu")
    assert plan.n == 1
    y, z = K.iir_filter(xnp, plan, host, K.iir_zero_state(xnp, plan, 2))
    ref, zf = ss.sosfilt(sos, host, axis=0, zi=np.zeros((2, 2, 2)))
    np.testing.assert_allclose(y, ref, rtol=1e-12)
    np.testing.assert_allclose(K.zi_to_scipy(xnp, plan, z), zf, rtol=1e-12, atol=1e-14)
    gain = K.iir_plan(xnp, sos[:1], dtype=np.float64, device="cpu")
    np.testing.assert_allclose(K.iir_filter(xnp, gain, host, K.iir_zero_state(
        xnp, gain, 2))[0], 2.0 * host)


def test_plan_pickles_as_its_coefficients(backend):
    """A used plan pickles to its coefficients (no device matrices); the copy rebuilds them
    on the data's device at first use and gives the same output."""
    sos = _sos(*DESIGNS["band4"])
    xp = backend.xp
    plan = K.iir_plan(xp, sos, dtype=xp.float32, device=backend.device)
    host = np.random.default_rng(8).standard_normal((40, 2)).astype("float32")
    a, _ = _stream(backend, plan, host, [40])
    blob = pickle.dumps(plan)
    assert len(blob) < 2000, f"a plan pickles to {len(blob)} bytes"
    again = pickle.loads(blob)
    b, z = _stream(backend, again, host, [40], z=K.iir_zero_state(xp, again, 2,
                                                                  like=backend.asarray(host)))
    assert_close(b, to_host(a), xp=xp, device=backend.device, dtype=host.dtype)
    assert_close(K.zi_to_scipy(xp, again, z), ss.sosfilt(sos, host.astype(np.float64), axis=0,
                 zi=np.zeros((4, 2, 2)))[1], xp=xp, device=backend.device, dtype=host.dtype,
                 rtol=1e-4)


def test_unpickled_plan_needs_data_to_place_its_matrices():
    import array_api_compat.numpy as xnp

    plan = pickle.loads(pickle.dumps(K.iir_plan(xnp, _sos(*DESIGNS["band4"]),
                                                dtype=np.float32, device="cpu")))
    with pytest.raises(ValueError, match="like"):
        K.iir_zero_state(xnp, plan, 2)


@pytest.mark.parametrize("sos,match", [(np.ones((2, 5)), "sos"), (np.zeros((0, 6)), "sos"),
                                       (np.array([[1.0, 0, 0, 0, 0, 0]]), "a0"),
                                       (np.array([[np.nan, 0, 0, 1, 0, 0]]), "finite")])
def test_bad_coefficients(sos, match):
    import array_api_compat.numpy as xnp

    with pytest.raises(ValueError, match=match):
        K.iir_plan(xnp, sos, dtype=np.float32, device="cpu")


def test_compile_kernel_compiles_on_jax_and_mlx_only():
    """``compile_kernel`` gives one cached compiled function per kernel on JAX (``jax.jit``)
    and MLX (``mx.compile``), and the eager kernel with ``xp`` bound elsewhere."""
    import array_api_compat.numpy as xnp

    from ezmsg_sigproc_units._backend import compile_kernel, compiles

    def kernel(xp, a):
        return a * 2.0

    h = compile_kernel(xnp, kernel)
    assert not compiles(xnp) and h.func is kernel and h(np.ones(2))[0] == 2.0
    compiled = 0
    for name in ("jax.numpy", "mlx.core"):
        try:
            xp = __import__(name, fromlist=["_"])
        except ImportError:
            continue
        g = compile_kernel(xp, kernel)
        assert compiles(xp) and g is compile_kernel(xp, kernel)
        assert type(g) is not functools.partial, f"{name} gets its compiler"
        assert float(g(xp.ones(2))[0]) == 2.0
        compiled += 1
    if not compiled:
        pytest.skip("neither JAX nor MLX installed")
