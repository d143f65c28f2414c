"""The Array API Riccati solver against scipy.linalg.solve_discrete_are on every backend."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from ezmsg_sigproc_units._kernels import riccati
from ezmsg_sigproc_units.testing import assert_close


def _system(n: int, m: int, seed: int, radius: float):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    a *= radius / max(abs(np.linalg.eigvals(a)))
    b = rng.standard_normal((n, m))
    qh = rng.standard_normal((n, n))
    rh = rng.standard_normal((m, m))
    return a, b, qh @ qh.T + 0.1 * np.eye(n), rh @ rh.T + np.eye(m)


@pytest.mark.parametrize("n,m,radius", [(4, 2, 0.9), (6, 3, 1.3), (3, 3, 0.999)])
def test_matches_scipy(backend, float_dtype, n, m, radius):
    a, b, q, r = _system(n, m, seed=n + m, radius=radius)
    ref = sl.solve_discrete_are(a, b, q, r)
    args = [backend.asarray(v.astype(float_dtype)) for v in (a, b, q, r)]
    x = riccati.solve_discrete_are(backend.xp, *args)
    tol = dict(rtol=2e-3, atol=2e-3 * abs(ref).max()) if float_dtype == "float32" else {}
    assert_close(x, ref, xp=backend.xp, device=backend.device,
                 dtype=getattr(backend.xp, float_dtype), **tol)


def test_kalman_gain_is_the_steady_state_of_the_filter_recursion():
    rng = np.random.default_rng(1)
    a = np.array([[1.0, 0.01], [0.0, 0.98]])
    h = rng.standard_normal((5, 2))
    w = np.diag([1e-4, 1e-3])
    q = 0.5 * np.eye(5)
    k = riccati.kalman_gain(np, a, h, w, q)
    p = np.eye(2)  # iterate the covariance recursion to its fixed point
    for _ in range(20000):
        p_pred = a @ p @ a.T + w
        gain = p_pred @ h.T @ np.linalg.inv(h @ p_pred @ h.T + q)
        p = (np.eye(2) - gain @ h) @ p_pred
    np.testing.assert_allclose(k, gain, rtol=1e-8, atol=1e-10)
