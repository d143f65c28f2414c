"""Streaming FIR kernel: direct and FFT overlap-save, single filters and banks, on every
backend against scipy.signal.lfilter on the whole signal for any chunking."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.signal as ss

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import fir as K
from ezmsg_sigproc_units.testing import Backend, assert_close, random_partitions

FIXED = [0, 1, 30, 0, 70, 49]  # spans direct blocks and FFT frames, empty and 1-sample chunks


def _ref(b, host):
    x = host.astype(np.float64)
    if b.ndim == 1:
        return ss.lfilter(b, [1.0], x, axis=0)
    return np.stack([ss.lfilter(b[:, k], [1.0], x, axis=0) for k in range(b.shape[1])], -1)


def _stream(backend, plan, host, lengths, tail=None):
    xp = backend.xp
    if tail is None:
        tail = K.fir_zero_state(xp, plan, host.shape[1])
    outs, pos = [], 0
    for k in lengths:
        y, tail = K.fir_filter(xp, plan, backend.asarray(host[pos : pos + k]), tail)
        expect = (k, host.shape[1]) + (() if plan.bank is None else (plan.bank,))
        assert tuple(y.shape) == expect
        outs.append(y)
        pos += k
    return backend.xp.concat(outs, axis=0), tail


@pytest.mark.parametrize("ntaps,method", [(1, "gain"), (7, "direct"), (40, "direct"),
                                          (90, "fft")])
@pytest.mark.parametrize("bank", [None, 3])
def test_streaming_matches_lfilter(backend, float_dtype, ntaps, method, bank):
    if backend.value != "numpy" and (ntaps, bank) not in ((1, 3), (40, None), (90, 3)):
        pytest.skip("full grid on numpy only (suite time)")
    if backend.value == "jax" and (float_dtype == "float64" or ntaps == 1):
        pytest.skip("JAX compiles every new shape eagerly (suite time)")
    rng = np.random.default_rng(ntaps)
    b = rng.standard_normal((ntaps,) if bank is None else (ntaps, bank))
    host = rng.standard_normal((150, 2)).astype(float_dtype)
    xp = backend.xp
    plan = K.fir_plan(xp, b, dtype=getattr(xp, float_dtype), device=backend.device)
    mlx64 = backend.value == "mlx" and float_dtype == "float64"
    assert plan.method == ("direct" if mlx64 and method == "fft" else method)
    partitions = [FIXED] + (random_partitions(150, count=3, seed=ntaps, max_chunk=80)[1:]
                            if backend.value == "numpy" else [])
    ref = _ref(b, host)
    for lengths in partitions:
        y, tail = _stream(backend, plan, host, lengths)
        assert_close(y, ref, xp=xp, device=backend.device, dtype=host.dtype,
                     err_msg=f"chunks {lengths}")
        assert_close(tail, host[150 - (ntaps - 1) :], xp=xp, device=backend.device,
                     dtype=host.dtype)


def test_fft_equals_direct():
    import array_api_compat.numpy as xnp

    rng = np.random.default_rng(1)
    b = ss.firwin(101, 0.1)
    host = rng.standard_normal((500, 3))
    direct = K.fir_plan(xnp, b, dtype=np.float64, device="cpu", fft_min_taps=1000)
    fft = K.fir_plan(xnp, b, dtype=np.float64, device="cpu", fft_min_taps=64)
    assert (direct.method, fft.method) == ("direct", "fft")
    for lengths in ([500], [3, 0, 250, 247]):
        a = np.concatenate(_np_stream(direct, host, lengths))
        c = np.concatenate(_np_stream(fft, host, lengths))
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def _np_stream(plan, host, lengths):
    import array_api_compat.numpy as xnp

    tail, pos, outs = K.fir_zero_state(xnp, plan, host.shape[1]), 0, []
    for k in lengths:
        y, tail = K.fir_filter(xnp, plan, host[pos : pos + k], tail)
        outs.append(y)
        pos += k
    return outs


def test_no_channels(backend):
    xp = backend.xp
    plan = K.fir_plan(xp, np.ones((90, 2)), dtype=xp.float32, device=backend.device)
    y, tail = K.fir_filter(xp, plan, backend.asarray(np.zeros((5, 0), "float32")),
                           K.fir_zero_state(xp, plan, 0))
    assert tuple(y.shape) == (5, 0, 2) and tuple(tail.shape) == (89, 0)


def test_steady_state_of_a_constant(backend):
    b = ss.firwin(21, 0.2)
    xp = backend.xp
    plan = K.fir_plan(xp, b, dtype=xp.float32, device=backend.device)
    x0 = np.array([2.0, -1.0], dtype="float32")
    tail = K.fir_initial_state(xp, plan, backend.asarray(x0))
    y, _ = K.fir_filter(xp, plan, backend.asarray(np.tile(x0, (10, 1))), tail)
    assert_close(y, np.tile(x0 * b.sum(), (10, 1)), xp=xp, device=backend.device,
                 dtype=x0.dtype)


@pytest.mark.parametrize("ntaps", [9, 100])
def test_many_channels_numpy(ntaps):
    """Channel counts large enough that NumPy splits its BLAS calls."""
    import array_api_compat.numpy as xnp

    b = ss.firwin(ntaps, 0.3)
    host = np.random.default_rng(2).standard_normal((120, 900)).astype("float32")
    plan = K.fir_plan(xnp, b, dtype=np.float32, device="cpu")
    y = np.concatenate(_np_stream(plan, host, [50, 70]))
    ref = _ref(b, host)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("method,ntaps", [("direct", 9), ("fft", 90)])
def test_nonfinite_reaches_exactly_the_outputs_that_read_it(backend, method, ntaps):
    """Other channels are exact; the NaN's (or infinity's) channel is NaN exactly where the
    taps read it and exact elsewhere (the block products would spread it over whole blocks
    or frames), also when the chunk boundary falls inside the span."""
    b = ss.firwin(ntaps, 0.3)
    host = np.random.default_rng(3).standard_normal((200, 3)).astype("float32")
    host[20, 2], host[150, 1] = np.nan, -np.inf
    plan = K.fir_plan(backend.xp, b, dtype=backend.xp.float32, device=backend.device)
    assert plan.method == method or backend.value == "mlx"
    y = to_host(_stream(backend, plan, host, [24, 176])[0])
    hit = np.zeros(host.shape, bool)
    hit[20 : 20 + ntaps, 2] = hit[150 : 150 + ntaps, 1] = True
    assert np.isnan(y[hit]).all(), "NaN (not +-inf) where the taps read the bad sample"
    ref = _ref(b, np.where(np.isfinite(host), host, 0.0))
    np.testing.assert_allclose(y[~hit], ref[~hit], rtol=1e-5, atol=1e-5)


def test_plan_pickles_as_its_taps(backend):
    xp = backend.xp
    b = np.random.default_rng(4).standard_normal((80, 2))
    plan = K.fir_plan(xp, b, dtype=xp.float32, device=backend.device)
    host = np.random.default_rng(5).standard_normal((40, 2)).astype("float32")
    a = to_host(_stream(backend, plan, host, [40])[0])
    blob = pickle.dumps(plan)
    assert len(blob) < b.nbytes + 1500, f"{len(blob)} bytes: more than the taps"
    again = pickle.loads(blob)
    tail = K.fir_zero_state(xp, again, 2, like=backend.asarray(host))
    c = _stream(backend, again, host, [40], tail=tail)[0]
    assert_close(c, a, xp=xp, device=backend.device, dtype=host.dtype)


@pytest.mark.parametrize("taps,match", [(np.zeros((0,)), "taps"), (np.ones((2, 2, 2)), "taps"),
                                        (np.array([1.0, np.inf]), "finite")])
def test_bad_taps(taps, match):
    import array_api_compat.numpy as xnp

    with pytest.raises(ValueError, match=match):
        K.fir_plan(xnp, taps, dtype=np.float32, device="cpu")


@pytest.mark.parametrize("bank", [None, 3])
def test_numpy_convolve_path_for_long_filters_on_few_columns(bank):
    """Long filters on few columns take ``fir_numpy.convolve_bank`` on NumPy: same numbers
    as the block products (the portable kernel) and as lfilter, for any chunking."""
    from ezmsg_sigproc_units._kernels import fir_numpy

    rng = np.random.default_rng(3)
    ntaps = 300
    b = rng.standard_normal((ntaps,) if bank is None else (ntaps, bank))
    host = rng.standard_normal((700, 4)).astype(np.float32)
    xp = Backend.NUMPY.xp
    plan = K.fir_plan(xp, b, dtype=xp.float32, device=None, fft_min_taps=2**62)
    assert plan.method == "direct" and fir_numpy.prefers_convolve(ntaps, 4 * (bank or 1))
    ref = _ref(b, host)
    for lengths in [[0, 1, 250, 0, 449], random_partitions(700, count=2, seed=1)[1]]:
        y, tail = _stream(Backend.NUMPY, plan, host, lengths)
        assert_close(y, ref, xp=xp, dtype=xp.float32, err_msg=f"chunks {lengths}")
    # the portable block products on the same input give the same numbers
    tail0 = K.fir_zero_state(xp, plan, 4)
    kernel = K._KERNELS[("direct", bank is not None)]
    y_blocks, t_blocks = kernel(xp, plan.on(xp, host), tail0, host)
    y_native, t_native = K.fir_filter(xp, plan, host, tail0)
    np.testing.assert_allclose(y_native, y_blocks, rtol=2e-5, atol=2e-5)
    np.testing.assert_array_equal(t_native, t_blocks)
