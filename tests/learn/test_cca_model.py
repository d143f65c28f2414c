import pickle

import numpy as np
import pytest

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.learn.linear_model import cca as cca_alias
from ezmsg_sigproc_units.learn.model.cca import IncrementalCCA
from ezmsg_sigproc_units.learn.util import NotFittedError
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_close,
    backend_partitions,
    random_partitions,
)


def _views(n=60, seed=0):
    """Two views sharing two latent signals (d1 = 4, d2 = 3)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    x1 = np.c_[z, rng.standard_normal((n, 2))] @ rng.standard_normal((4, 4))
    x2 = np.c_[z + 0.6 * rng.standard_normal((n, 2)), rng.standard_normal((n, 1))] \
        @ rng.standard_normal((3, 3))
    return x1, x2


def _ref_correlations(x1, x2):
    """Canonical correlations of the uncentred views: the singular values of Q1^T Q2 from
    thin QR factorisations (no second moments formed)."""
    q1, _ = np.linalg.qr(x1)
    q2, _ = np.linalg.qr(x2)
    return np.linalg.svd(q1.T @ q2, compute_uv=False)


def _fit(model, backend, x1, x2, sizes, dtype):
    start = 0
    for k in sizes:
        model.partial_fit(backend.asarray(x1[start:start + k], dtype),
                          backend.asarray(x2[start:start + k], dtype))
        start += k


def _dtype(backend, dtype="float64"):
    """float64 where supported, but float32 on JAX (each dtype costs it a compile of the
    eigen-solves, about a second)."""
    return "float32" if backend is Backend.JAX or not backend.supports_float64() else dtype


def test_cumulative_is_batch_cca_for_any_split(backend, float_dtype):
    if float_dtype != _dtype(backend, float_dtype):
        pytest.skip("JAX: float32 only (compile time); float64 covered on the other backends")
    x1, x2 = _views()
    n = x1.shape[0]
    rtol = 1e-3 if float_dtype == "float32" else 1e-7
    kw = {"xp": backend.xp, "device": backend.device, "dtype": float_dtype}
    parts = random_partitions(n, count=4, seed=1) if backend.value == "numpy" \
        else backend_partitions(backend, n)
    first = None
    for sizes in [[n]] + parts:  # empty and length-1 chunks included
        m = IncrementalCCA(n_components=3, cumulative=True)
        _fit(m, backend, x1, x2, sizes, float_dtype)
        assert_close(m.correlations_, _ref_correlations(x1, x2), rtol=rtol, atol=rtol, **kw)
        z1, z2 = m.transform(backend.asarray(x1, float_dtype), backend.asarray(x2, float_dtype))
        z1, z2 = to_host(z1).astype(np.float64), to_host(z2).astype(np.float64)
        # The canonical variates: unit mean square, uncorrelated, paired by the correlations.
        np.testing.assert_allclose(z1.T @ z1 / n, np.eye(3), atol=10 * rtol)
        np.testing.assert_allclose(z2.T @ z2 / n, np.eye(3), atol=10 * rtol)
        np.testing.assert_allclose(z1.T @ z2 / n, np.diag(_ref_correlations(x1, x2)),
                                   atol=10 * rtol)
        if first is None:
            first = m
        else:  # deterministic signs: the same weights from every split
            assert_close(m.x_weights_, first.x_weights_, rtol=rtol, atol=10 * rtol)
            assert_close(m.y_weights_, first.y_weights_, rtol=rtol, atol=10 * rtol)
        assert m.n_samples_ == n


def _smoothing_reference(batches, base=0.95, lo=0.5, hi=0.99, rate=0.1):
    """The adaptive smoothing of the moments, written out in float64 NumPy."""
    c = [None, None, None]
    cur = base
    for x1, x2 in batches:
        k = x1.shape[0]
        new = [x1.T @ x1 / k, x2.T @ x2 / k, x1.T @ x2 / k]
        if c[0] is None:
            c = [np.zeros_like(a) for a in new]
        elif np.any(c[0] != 0):
            change = np.mean([np.linalg.norm(a - b) / a.size for a, b in zip(new, c, strict=True)])
            cur = (1 - rate) * cur + rate * min(max(base * (1 - change), lo), hi)
        c = [cur * b + (1 - cur) * a for a, b in zip(new, c, strict=True)]
    return c, cur


def test_adaptive_smoothing_follows_its_recursion(backend):
    x1, x2 = _views(n=90, seed=2)
    x2 = x2 * np.r_[np.ones(30), 3.0 * np.ones(60)][:, None]  # a change mid-stream
    sizes = [20, 25, 45]
    dt = _dtype(backend)
    m = IncrementalCCA(n_components=3)  # the shapes of the test above: one JAX compile
    _fit(m, backend, x1, x2, sizes, dt)
    cuts = np.cumsum([0] + sizes)
    (c11, c22, c12), cur = _smoothing_reference(
        [(x1[a:b], x2[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    kw = {"xp": backend.xp, "device": backend.device, "dtype": dt}
    rtol = 1e-4 if dt == "float32" else 1e-10
    for got, ref in ((m.C11, c11), (m.C22, c22), (m.C12, c12)):
        assert_close(got, ref, rtol=rtol, **kw)
    assert_close(m.current_smoothing, np.asarray(cur), rtol=rtol, **kw)
    assert 0.5 <= float(to_host(m.current_smoothing)) < 0.95
    w = np.linalg.eigh(c11 + 1e-8 * np.eye(4))
    k11 = w[1] @ np.diag(w[0] ** -0.5) @ w[1].T
    w = np.linalg.eigh(c22 + 1e-8 * np.eye(3))
    k22 = w[1] @ np.diag(w[0] ** -0.5) @ w[1].T
    assert_close(m.correlations_, np.linalg.svd(k11 @ c12 @ k22, compute_uv=False),
                 rtol=100 * rtol, **kw)
    assert tuple(m.x_weights_.shape) == (4, 3) and tuple(m.y_weights_.shape) == (3, 3)


def test_pickled_model_resumes(backend):
    x1, x2 = _views(n=40, seed=3)
    dt = _dtype(backend)
    a = IncrementalCCA(n_components=3)
    _fit(a, backend, x1, x2, [15], dt)
    b = pickle.loads(pickle.dumps(a))
    _fit(a, backend, x1[15:], x2[15:], [10, 15], dt)
    _fit(b, backend, x1[15:], x2[15:], [10, 15], dt)
    assert_close(b.x_weights_, a.x_weights_)
    assert_close(b.current_smoothing, a.current_smoothing)


def test_bad_input_and_settings():
    m = IncrementalCCA()
    with pytest.raises(NotFittedError):
        m.transform(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="X1, X2"):
        m.partial_fit(np.zeros((5, 3)), np.zeros((4, 2)))
    m.partial_fit(np.zeros((0, 3)), np.zeros((0, 2)))  # no samples: nothing changes
    assert m.n_samples_ == 0 and not hasattr(m, "x_weights_")
    x1, x2 = _views(n=10)
    m.partial_fit(x1[:, :3], x2[:, :2])
    with pytest.raises(ValueError, match="feature counts"):
        m.partial_fit(x1, x2)
    for kw, field in (({"n_components": 0}, "n_components"),
                      ({"base_smoothing": 1.5}, "base_smoothing"),
                      ({"min_smoothing": 0.9, "max_smoothing": 0.8}, "min_smoothing"),
                      ({"adaptation_rate": -0.1}, "adaptation_rate")):
        with pytest.raises(ValueError, match=field):
            IncrementalCCA(**kw)


def test_degenerate_views_stay_finite():
    x1, x2 = _views(n=3)  # fewer samples than features: singular moments
    m = IncrementalCCA(n_components=5, cumulative=True)
    m.partial_fit(x1, np.zeros((3, 3)))
    assert np.all(np.isfinite(m.x_weights_)) and np.all(np.isfinite(m.correlations_))
    assert m.x_weights_.shape == (4, 3)  # at most min(d1, d2) components


def test_defaults_and_alias():
    m = IncrementalCCA()
    assert (m.n_components, m.base_smoothing, m.min_smoothing, m.max_smoothing,
            m.adaptation_rate, m.cumulative) == (2, 0.95, 0.5, 0.99, 0.1, False)
    assert cca_alias.IncrementalCCA is IncrementalCCA
