"""The scaling kernels' NumPy natives against their portable forms (run through
array-api-strict, which wraps NumPy): adaptive scores of a finite chunk, rolling batch sums,
with and without masked entries."""

from __future__ import annotations

import array_api_strict as xps
import numpy as np

from ezmsg_sigproc_units._backend import namespace_and_device
from ezmsg_sigproc_units._kernels import ewma, scaling


def _host(n=64, c=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, c)) * 3.0 + 2.0


def test_adaptive_scores_native_equals_portable():
    host = _host()
    xp, dev = namespace_and_device(host)
    plan_np = ewma.ewma_plan(xp, 0.1, dtype=host.dtype, device=dev)
    plan_st = ewma.ewma_plan(xps, 0.1, dtype=xps.float64, device=xps.Device())
    z_np = ewma.zero_state(xp, plan_np, 12, host)
    z_st = ewma.zero_state(xps, plan_st, 12, xps.asarray(host))
    for lo, hi in ((0, 20), (20, 21), (21, 64)):  # the state carries over between paths
        chunk = host[lo:hi]
        y_np, z_np = scaling.standard_scores(xp, plan_np, chunk, z_np, host[0] * 0)
        y_st, z_st = scaling.standard_scores(xps, plan_st, xps.asarray(chunk), z_st,
                                             xps.asarray(host[0] * 0))
        np.testing.assert_allclose(y_np, np.asarray(y_st), rtol=1e-10, atol=1e-12)
    bad = host[:8].copy()
    bad[3, 1] = np.nan  # a chunk with a NaN takes the portable path on NumPy too
    y_np, _ = scaling.standard_scores(xp, plan_np, bad, z_np, host[0])
    y_st, _ = scaling.standard_scores(xps, plan_st, xps.asarray(bad), z_st,
                                      xps.asarray(host[0]))
    np.testing.assert_allclose(y_np, np.asarray(y_st), rtol=1e-10, atol=1e-12)
    assert np.isnan(y_np[3, 1]) and np.isfinite(np.delete(y_np.ravel(), 3 * 4 + 1)).all()


def test_rolling_batch_row_native_equals_portable():
    host = _host(n=10, c=3)
    xp, _ = namespace_and_device(host)
    for keep in (np.ones(host.shape, bool), np.random.default_rng(1).random(host.shape) > 0.3):
        got = scaling.batch_row(xp, host, keep)
        want = np.asarray(scaling.batch_row(xps, xps.asarray(host), xps.asarray(keep)))
        np.testing.assert_allclose(got, want, rtol=1e-12)
        kf = keep.astype(float)
        np.testing.assert_allclose(got[0, :3], kf.sum(0))
        np.testing.assert_allclose(got[0, 6:], (kf * host * host).sum(0))


def test_rolling_scores_native_equals_portable():
    host = _host(n=12, c=4)
    host[3, 1] = np.nan
    host[5, 2] = np.inf
    shift = host[:1] * 0 + 1.0
    n = np.array([[0.0, 3.0, 10.0, 10.0]])  # channel 0: no statistics; 1: fewer than min_n
    mean = np.array([[0.0, 0.5, -1.0, 2.0]])
    std = np.array([[1e-8, 2.0, 0.5, 1e-8]])  # channel 3: tiny std, scores clip
    xp, _ = namespace_and_device(host)
    for lim in (10.0, np.inf):
        got = scaling.rolling_scores(xp, host, shift, n, mean, std, lim, 5.0)
        want = scaling.rolling_scores(xps, *map(xps.asarray, (host, shift, n, mean, std)),
                                      lim, 5.0)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, np.asarray(w))
    y = got[0]
    np.testing.assert_array_equal(y[:, :2], host[:, :2])  # not ready: the input
    assert y[5, 2] == 0.0 and np.abs(y[:, 3]).max() > 1e6  # inf scores 0; no clip
