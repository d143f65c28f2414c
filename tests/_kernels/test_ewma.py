"""EWMA kernel: every backend against scipy.signal.lfilter for any chunking; the NumPy native
path (lfilter, few channels) against the portable block kernel; the bias correction; finite
moments that skip non-finite samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal as ss

from ezmsg_sigproc_units._backend import namespace_and_device
from ezmsg_sigproc_units._kernels import ewma as K
from ezmsg_sigproc_units._kernels import ewma_numpy, iir
from ezmsg_sigproc_units.testing import assert_close, backend_partitions

ALPHA = 0.15


def _host(n=70, c=3, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal((n, c)).astype(dtype)


def _run(backend, plan, host, lengths, z):
    outs, pos = [], 0
    for k in lengths:
        y, z = K.ewma_sums(backend.xp, plan, backend.asarray(host[pos: pos + k]), z)
        assert tuple(y.shape) == (k, host.shape[1])
        outs.append(y)
        pos += k
    return backend.xp.concat(outs, axis=0), z


@pytest.mark.parametrize("channels", [3, ewma_numpy.NARROW_CHANNELS + 5])
def test_sums_match_lfilter_for_any_chunking(backend, float_dtype, channels):
    host = _host(c=channels, dtype=float_dtype)
    plan = K.ewma_plan(backend.xp, ALPHA, dtype=getattr(backend.xp, float_dtype),
                       device=backend.device)
    ref = ss.lfilter([ALPHA], [1.0, ALPHA - 1.0], host.astype(np.float64), axis=0)
    like = backend.asarray(host[:1])
    for lengths in backend_partitions(backend, host.shape[0]):
        z = K.zero_state(backend.xp, plan, channels, like)
        y, _ = _run(backend, plan, host, lengths, z)
        assert_close(y, ref, xp=backend.xp, device=backend.device, dtype=float_dtype,
                     err_msg=str(lengths))


def test_state_after_continues_from_a_previous_output(backend):
    host = _host(c=4)
    xp = backend.xp
    dt = "float64" if backend.supports_float64() else "float32"
    host = host.astype(dt)
    plan = K.ewma_plan(xp, ALPHA, dtype=getattr(xp, dt), device=backend.device)
    z = K.state_after(xp, plan, backend.asarray(host[0]))
    y, _ = K.ewma_sums(xp, plan, backend.asarray(host), z)
    ref, _ = ss.lfilter([ALPHA], [1.0, ALPHA - 1.0], host, axis=0, zi=(1 - ALPHA) * host[:1])
    assert_close(y, ref, xp=xp, device=backend.device, dtype=dt)
    assert_close(y[:1, ...], host[:1], xp=xp, device=backend.device, dtype=dt)


def test_numpy_native_equals_portable():
    host = _host(n=100, c=5)
    xp, dev = namespace_and_device(host)
    plan = K.ewma_plan(xp, ALPHA, dtype=host.dtype, device=dev)
    native, _ = K.ewma_sums(xp, plan, host, ewma_numpy.zero_state(plan, 5))
    portable, _ = iir.iir_filter(xp, plan, host, iir.iir_zero_state(xp, plan, 5), native=False)
    np.testing.assert_allclose(native, portable, rtol=1e-12, atol=1e-12)


def test_empty_chunk_keeps_state():
    host = _host(c=2)
    xp, dev = namespace_and_device(host)
    plan = K.ewma_plan(xp, ALPHA, dtype=host.dtype, device=dev)
    z = K.zero_state(xp, plan, 2, host)
    y, z2 = K.ewma_sums(xp, plan, host[:0], z)
    assert y.shape == (0, 2) and z2 is z


def test_bias_correction_and_settling():
    corr = K.bias_correction(0.5, 2, 3)
    np.testing.assert_allclose(corr[:, 0], [1 - 0.5 ** 3, 1 - 0.5 ** 4, 1 - 0.5 ** 5])
    n = K.settle_count(0.01, float(np.finfo(np.float32).eps))
    assert np.float32(K.bias_correction(0.01, math.ceil(n), 1)[0, 0]) == 1.0
    assert np.float32(K.bias_correction(0.01, math.floor(n) - 30, 1)[0, 0]) < 1.0
    assert K.settle_count(1.0, 1e-7) == 0.0 and K.settle_count(0.0, 1e-7) == math.inf
    assert K.tau_from_alpha(K.alpha_from_tau(0.3, 0.01), 0.01) == pytest.approx(0.3)


def test_weighted_moments_skip_non_finite(backend):
    host = _host(n=30, c=2)
    host[5, 0] = np.nan
    host[9, 1] = np.inf
    host[0, 1] = np.nan  # a channel whose first sample is missing
    xp = backend.xp
    dt = "float64" if backend.supports_float64() else "float32"
    host = host.astype(dt)
    plan = K.ewma_plan(xp, ALPHA, dtype=getattr(xp, dt), device=backend.device)
    x = backend.asarray(host)
    mean, msq, _, w = K.weighted_moments(xp, plan, x, K.zero_state(xp, plan, 6, x))
    v = np.isfinite(host)
    xv = np.where(v, host, 0.0)

    def f(a):
        return ss.lfilter([ALPHA], [1.0, ALPHA - 1.0], a, axis=0)

    w = f(v.astype(float))
    w = np.where(w > 0, w, np.inf)  # no finite sample yet: moments 0
    ref_mean, ref_msq = f(xv) / w, f(xv * xv) / w
    assert_close(mean, ref_mean, xp=xp, device=backend.device, dtype=dt)
    assert_close(msq, ref_msq, xp=xp, device=backend.device, dtype=dt)
    assert np.isfinite(ref_mean).all() and ref_mean[0, 1] == 0.0
    # without gaps: the bias-corrected mean
    clean = f(host[:5, :1]) / K.bias_correction(ALPHA, 0, 5)
    np.testing.assert_allclose(ref_mean[:5, :1], clean, rtol=1e-6)


def test_numpy_filter_falls_back_to_the_public_lfilter(monkeypatch):
    """Without SciPy's private C routine the public ``lfilter`` runs (same numbers)."""
    import sys

    host = _host(n=50, c=3)
    xp, dev = namespace_and_device(host)
    plan = K.ewma_plan(xp, ALPHA, dtype=host.dtype, device=dev)
    fast, _ = K.ewma_sums(xp, plan, host, K.zero_state(xp, plan, 3, host))
    monkeypatch.setattr(ewma_numpy, "_LFILTER", [])
    monkeypatch.setitem(sys.modules, "scipy.signal._sigtools", None)
    slow, _ = K.ewma_sums(xp, plan, host, K.zero_state(xp, plan, 3, host))
    assert ewma_numpy._LFILTER[0].__code__.co_names.count("lfilter") == 1
    np.testing.assert_array_equal(fast, slow)
