"""Masks of the outputs a non-finite input reaches, against direct loops; the FIR guard of a
bank, whose kernels forget an input after their own length."""

from __future__ import annotations

import numpy as np
import pytest

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import nonfinite as nf


def _bad(backend, seed=0, shape=(23, 4), p=0.08):
    host = np.random.default_rng(seed).random(shape) < p
    host[:, 0] = False  # a channel without any
    return host, backend.asarray(host.astype(np.float32)) > 0.5


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
# one row; small and large (eager: the running sum along time, then over the transposed
# view; compiled backends mark rows from each channel's first non-finite one)
@pytest.mark.parametrize("shape", [(1, 4), (23, 4), (70, 130)])
def test_nan_from_first(backend, value, shape):
    host, _ = _bad(backend, shape=shape, p=0.3 if shape[0] == 1 else 0.08)
    want = np.zeros(host.shape)
    for c in range(host.shape[1]):
        hits = np.flatnonzero(host[:, c])
        if hits.size:
            want[hits[0]:, c] = np.nan
    x = np.random.default_rng(1).standard_normal(host.shape).astype(np.float32)
    x[host] = value
    with np.errstate(invalid="ignore"):
        got = to_host(nf.nan_from_first(backend.xp, backend.asarray(x)))
    np.testing.assert_array_equal(got, want)  # NaN where wanted, exactly 0 elsewhere


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 9, 23])
def test_within(backend, width):
    host, bad = _bad(backend, seed=width)
    want = np.array([host[n:n + width].any(axis=0) for n in range(host.shape[0] - width + 1)])
    np.testing.assert_array_equal(to_host(nf.within(backend.xp, bad, width)), want)


def test_zero_nonfinite(backend):
    x = np.array([[1.0, np.nan], [np.inf, -np.inf], [-2.0, 0.5]], np.float32)
    got = nf.zero_nonfinite(backend.xp, backend.asarray(x))
    np.testing.assert_array_equal(to_host(got), [[1.0, 0.0], [0.0, 0.0], [-2.0, 0.5]])


def test_guard_fir_bank_spans(backend):
    """Kernels of 2 and 4 taps (the first zero-padded to 4): a NaN reaches 2 and 4 outputs."""
    import scipy.signal as ss

    from ezmsg_sigproc_units._kernels import fir

    taps = np.array([[1.0, 0.5], [2.0, -1.0], [0.0, 0.25], [0.0, 1.0]])
    host = np.random.default_rng(3).standard_normal((12, 2)).astype(np.float32)
    host[5, 1] = np.nan
    xp = backend.xp
    plan = fir.fir_plan(xp, taps, dtype=xp.float32, device=backend.device)
    assert plan.spans == (2, 4)
    y, _ = fir.fir_filter(xp, plan, backend.asarray(host), fir.fir_zero_state(xp, plan, 2))
    y = to_host(y)
    clean = np.where(np.isfinite(host), host, 0.0).astype(np.float64)
    for k, span in enumerate((2, 4)):
        ref = ss.lfilter(taps[:span, k], [1.0], clean, axis=0)
        hit = np.zeros(host.shape, bool)
        hit[5 : 5 + span, 1] = True
        assert np.isnan(y[hit, k]).all() and np.isfinite(y[~hit, k]).all()
        np.testing.assert_allclose(y[~hit, k], ref[~hit], rtol=1e-5, atol=1e-5)


def test_numpy_all_finite():
    from ezmsg_sigproc_units._kernels.linalg_numpy import all_finite

    assert all_finite(np.ones((3, 5), np.float32))
    for bad in (np.nan, np.inf, -np.inf):
        host = np.ones((3, 5), np.float32)
        host[2, 4] = bad
        assert not all_finite(host)
