"""The native linear estimators (``learn.model.linear``) against scikit-learn, on every
backend: closed form, recursive least squares, scikit-learn's SGD and river's logistic step."""

import pickle

import numpy as np
import pytest

from ezmsg_sigproc_units.learn.model import linear as L
from ezmsg_sigproc_units.learn.util import NotFittedError
from ezmsg_sigproc_units.testing import assert_close, random_partitions

sk = pytest.importorskip("sklearn.linear_model")


def _data(n=40, d=5, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, k))
    Y = X @ W + 0.5 + 0.1 * rng.standard_normal((n, k))
    return X, Y


def _eager_only(backend):
    """JAX and MLX compile every new shape: the processor tests run them on one shape."""
    if backend.value in ("jax", "mlx"):
        pytest.skip("JAX/MLX: covered by the processor tests' backend grid")


def _rtol(dtype):
    return 2e-4 if dtype == "float32" else 1e-8


def _check(got, want, backend, dtype, rtol=None):
    assert_close(got, want, xp=backend.xp, device=backend.device, dtype=dtype,
                 rtol=rtol or _rtol(dtype))


@pytest.mark.parametrize("kind,n", [("linear", 40), ("ridge", 40), ("linear", 4), ("ridge", 3)])
def test_closed_form_equals_sklearn(backend, float_dtype, kind, n):
    _eager_only(backend)
    X, Y = _data(n=n)
    ref = (sk.Ridge(alpha=2.0) if kind == "ridge" else sk.LinearRegression()).fit(X, Y)
    ours = (L.Ridge(alpha=2.0) if kind == "ridge" else L.LinearRegression())
    ours.fit(backend.asarray(X, float_dtype), backend.asarray(Y, float_dtype))
    # n < d: scikit-learn's minimum-norm solution; ours within the jitter of its dual solve
    rtol = 1e-2 if (float_dtype == "float32" and n < 5) else None
    _check(ours.coef_, ref.coef_, backend, float_dtype, rtol)
    _check(ours.intercept_, ref.intercept_, backend, float_dtype, rtol)
    Xt = _data(n=6, seed=1)[0]
    _check(ours.predict(backend.asarray(Xt, float_dtype)), ref.predict(Xt), backend,
           float_dtype, rtol)


def test_closed_form_one_target_and_no_intercept():
    X, Y = _data(k=1)
    ref = sk.Ridge(alpha=0.5, fit_intercept=False).fit(X, Y[:, 0])
    ours = L.Ridge(alpha=0.5, fit_intercept=False).fit(X, Y[:, 0])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    assert ours.predict(X).shape == (40,) and float(ours.intercept_) == 0.0


def test_rank_deficient_regularised_not_nan():
    X, Y = _data(n=30)
    X = np.concatenate([X, X[:, :1], np.zeros((30, 1))], axis=1)  # duplicated + constant
    ours = L.LinearRegression().fit(X[:6], Y[:6])  # fewer samples than features too
    assert np.all(np.isfinite(ours.coef_)) and ours.__dict__.get("_regularised_warned")
    ref = sk.LinearRegression().fit(X[:6], Y[:6])  # the minimum-norm solution
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)


def test_rls_any_split_is_least_squares(backend, float_dtype):
    _eager_only(backend)
    X, Y = _data(n=24)
    ref = sk.LinearRegression().fit(X, Y)
    first = None
    parts = random_partitions(24, count=3, seed=2) if backend.value == "numpy" else [[0, 1, 1,
                                                                                     0, 22]]
    for lengths in parts:
        m, start = L.OnlineLinearRegression(), 0
        for k in lengths:
            m.partial_fit(backend.asarray(X[start:start + k], float_dtype),
                          backend.asarray(Y[start:start + k], float_dtype))
            start += k
        tol = 1e-3 if float_dtype == "float32" and not backend.supports_float64() else 1e-5
        _check(m.coef_, ref.coef_, backend, float_dtype, tol)
        _check(m.intercept_, ref.intercept_, backend, float_dtype, tol)
        if first is None:
            first = m.predict(backend.asarray(X, float_dtype))
        else:  # splits agree much more tightly than the ridge prior's distance to lstsq
            _check(m.predict(backend.asarray(X, float_dtype)), first, backend, float_dtype)


def test_rls_long_batch_goes_block_by_block():
    X, Y = _data(n=150, d=4)
    ref = sk.LinearRegression().fit(X, Y)
    m = L.OnlineLinearRegression().partial_fit(X, Y)  # 64 + 64 + 22 samples
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-6)


def test_rls_rows_with_nan_are_left_out():
    X, Y = _data(n=20)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    a = L.OnlineLinearRegression().partial_fit(Xn, Y)
    b = L.OnlineLinearRegression().partial_fit(np.delete(X, 3, 0), np.delete(Y, 3, 0))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8)


def _feed(model, X, y, cuts, backend, dtype, **kw):
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        yb = y[a:b] if y.dtype.kind in "US" else backend.asarray(y[a:b], dtype)
        model.partial_fit(backend.asarray(X[a:b], dtype), yb, **kw)
    return model


@pytest.mark.parametrize("penalty,schedule", [("l2", "invscaling"), ("elasticnet", "constant"),
                                              ("l1", "adaptive"), (None, "invscaling")])
def test_sgd_regressor_equals_sklearn(backend, penalty, schedule):
    _eager_only(backend)
    X, Y = _data(n=25, k=1)
    y = Y[:, 0]
    kw = dict(penalty=penalty, learning_rate=schedule, alpha=0.01, eta0=0.05)
    cuts = [0, 7, 8, 8, 25]
    ref = sk.SGDRegressor(shuffle=False, **kw)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if b > a:
            ref.partial_fit(X[a:b], y[a:b])
    dt = "float64" if backend.supports_float64() else "float32"
    ours = _feed(L.SGDRegressor(**kw), X, y, cuts, backend, dt)
    _check(ours.coef_, ref.coef_, backend, dt, 1e-4 if dt == "float32" else None)
    _check(ours.intercept_, ref.intercept_[0], backend, dt, 1e-4 if dt == "float32" else None)
    assert ours.t_ == ref.t_


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "squared_epsilon_insensitive"])
def test_passive_aggressive_equals_sklearn(loss):
    X, Y = _data(n=30, k=1)
    with pytest.warns(FutureWarning):  # deprecated in scikit-learn 1.8, same numbers
        ref = sk.PassiveAggressiveRegressor(shuffle=False, C=0.5, loss=loss)
    ref.partial_fit(X[:11], Y[:11, 0]).partial_fit(X[11:], Y[11:, 0])
    ours = L.PassiveAggressiveRegressor(C=0.5, loss=loss)
    ours.partial_fit(X[:11], Y[:11, 0]).partial_fit(X[11:], Y[11:, 0])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_[0], rtol=1e-10)


@pytest.mark.parametrize("loss,n_classes,kw", [
    ("hinge", 2, dict(penalty="elasticnet", learning_rate="adaptive", eta0=0.01)),
    ("log_loss", 3, dict(penalty="elasticnet", learning_rate="adaptive", eta0=0.01)),
    ("modified_huber", 3, dict()),
    ("squared_hinge", 2, dict(learning_rate="invscaling", eta0=0.02)),
    ("perceptron", 2, dict(penalty=None, learning_rate="constant", eta0=0.1)),
])
def test_sgd_classifier_equals_sklearn(backend, loss, n_classes, kw):
    _eager_only(backend)
    X, _ = _data(n=24)
    labels = np.array(["a", "b", "c"])[np.random.default_rng(3).integers(0, n_classes, 24)]
    cw = {"a": 2.0, "b": 0.5}
    ref = sk.SGDClassifier(loss=loss, shuffle=False, alpha=0.01, class_weight=cw, **kw)
    ours = L.SGDClassifier(loss=loss, alpha=0.01, class_weight=cw, **kw)
    classes = ["a", "b", "c"][:n_classes]
    for a in range(0, 24, 6):
        ref.partial_fit(X[a:a + 6], labels[a:a + 6], classes=classes)
    dt = "float64" if backend.supports_float64() else "float32"
    _feed(ours, X, labels, list(range(0, 25, 6)) + [24], backend, dt, classes=classes)
    tol = 1e-4 if dt == "float32" else None
    _check(ours.coef_, ref.coef_, backend, dt, tol)
    _check(ours.predict_proba(backend.asarray(X, dt)), ref._predict_proba_lr(X), backend, dt,
           tol)
    np.testing.assert_array_equal(ours.predict(backend.asarray(X, dt)), ref.predict(X))


def test_sgd_classifier_unseen_label_and_classes():
    m = L.SGDClassifier()
    with pytest.raises(ValueError, match="classes"):
        m.partial_fit(np.zeros((1, 3)), ["a"])
    m.partial_fit(np.ones((1, 3)), ["a"], classes=["a", "b"])
    with pytest.raises(ValueError, match=r"\['z'\].*not among"):
        m.partial_fit(np.ones((1, 3)), ["z"])


def test_logistic_equals_river():
    """river 1.x ``LogisticRegression(optimizer=SGD(0.1))``, ``learn_many`` on batches of 5,
    1, 6 samples (figures from ezmsg-learn's environment, where river is installed)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((12, 4))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.standard_normal(12) > 0).astype(float)
    m = L.OnlineLogisticRegression(learn_rate=0.1)
    for sl in (slice(0, 5), slice(5, 6), slice(6, 6), slice(6, 12)):
        m.partial_fit(X[sl], y[sl])
    np.testing.assert_allclose(m.coef_, [0.09639612, -0.03756206, 0.14951125, 0.03434576],
                               rtol=1e-6)
    np.testing.assert_allclose(m.intercept_, -0.005455946511363543, rtol=1e-6)
    np.testing.assert_allclose(m.predict_proba_2d(X[:3])[:, 0],
                               [0.47798085, 0.51074502, 0.51397087], rtol=1e-6)
    np.testing.assert_array_equal(m.predict(X[:3]), [0.0, 1.0, 1.0])
    m1 = L.OnlineLogisticRegression(learn_rate=0.1, l1=0.02)  # river's cumulative L1
    for sl in (slice(0, 5), slice(5, 6), slice(6, 12)):
        m1.partial_fit(X[sl], y[sl])
    np.testing.assert_allclose(m1.coef_, [0.09071268, -0.03164968, 0.14393024, 0.02835804],
                               rtol=1e-6)
    np.testing.assert_allclose(m1.intercept_, -0.005474756236509122, rtol=1e-6)


@pytest.mark.parametrize("make", [L.LinearRegression, L.OnlineLinearRegression, L.SGDRegressor,
                                  L.OnlineLogisticRegression])
def test_not_fitted_and_feature_mismatch(make):
    m = make()
    with pytest.raises(NotFittedError):
        m.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError):  # NotFittedError is a ValueError, as scikit-learn's
        m.coef_  # noqa: B018
    X, Y = _data(n=8, d=3, k=1)
    (m.fit if hasattr(m, "fit") and make is L.LinearRegression else m.partial_fit)(X, Y[:, 0])
    with pytest.raises(ValueError, match="4 features.*expecting 3"):
        m.predict(np.zeros((2, 4)))


@pytest.mark.parametrize("make", [L.OnlineLinearRegression, L.SGDRegressor,
                                  L.PassiveAggressiveRegressor, L.OnlineLogisticRegression])
def test_state_pickles_mid_stream(backend, make):
    _eager_only(backend)
    X, Y = _data(n=20, k=1)
    Y = (Y > 0.5).astype(float) if make is L.OnlineLogisticRegression else Y
    a = make().partial_fit(backend.asarray(X[:9]), backend.asarray(Y[:9]))
    b = pickle.loads(pickle.dumps(a))
    for m in (a, b):
        m.partial_fit(backend.asarray(X[9:]), backend.asarray(Y[9:]))
    assert_close(b.predict(backend.asarray(X)), a.predict(backend.asarray(X)))


def test_nan_batch_skipped_by_sgd():
    X, Y = _data(n=10, k=1)
    m = L.SGDRegressor().partial_fit(X[:5], Y[:5, 0])
    before = np.array(m.coef_)
    Xn = X[5:].copy()
    Xn[0, 0] = np.nan
    m.partial_fit(Xn, Y[5:, 0])
    np.testing.assert_array_equal(m.coef_, before)


def test_constructor_validation():
    with pytest.raises(ValueError, match="^positive"):
        L.LinearRegression(positive=True)
    with pytest.raises(ValueError, match="^alpha"):
        L.Ridge(alpha=-1.0)
    with pytest.raises(ValueError, match="^loss"):
        L.SGDRegressor(loss="hinge")
    with pytest.raises(ValueError, match="^average"):
        L.SGDRegressor(average=True)
    with pytest.raises(ValueError, match="^model_kwargs"):
        L.OnlineLinearRegression(bogus=1)
    L.OnlineLinearRegression(learn_rate=0.1, intercept_lr=0.2)  # river's options: accepted


def test_sgd_squared_loss_block_equals_sample_by_sample():
    """The closed-form block (squared loss, l2) equals the per-sample pass, which one-sample
    calls always take; the schedule and decay carry across the calls."""
    X, Y = _data(n=30, k=2)
    block = L.SGDRegressor(alpha=0.01, eta0=0.05).partial_fit(X, Y)
    single = L.SGDRegressor(alpha=0.01, eta0=0.05)
    for i in range(30):
        single.partial_fit(X[i:i + 1], Y[i:i + 1])
    np.testing.assert_allclose(block.coef_, single.coef_, rtol=1e-10)
    np.testing.assert_allclose(block.intercept_, single.intercept_, rtol=1e-10)
    nob = L.SGDRegressor(fit_intercept=False, penalty=None).partial_fit(X, Y)
    one = L.SGDRegressor(fit_intercept=False, penalty=None)
    for i in range(30):
        one.partial_fit(X[i:i + 1], Y[i:i + 1])
    np.testing.assert_allclose(nob.coef_, one.coef_, rtol=1e-10)
    assert np.all(nob.intercept_ == 0.0)


def test_sgd_long_batch_goes_block_by_block():
    """More samples than one closed-form block (64): the same as one sample at a time."""
    from ezmsg_sigproc_units.learn.model._linear_sgd import BLOCK

    X, Y = _data(n=BLOCK * 2 + 5, k=1)
    whole = L.SGDRegressor(eta0=0.002).partial_fit(X, Y[:, 0])
    one = L.SGDRegressor(eta0=0.002)
    for i in range(X.shape[0]):
        one.partial_fit(X[i:i + 1], Y[i:i + 1, 0])
    np.testing.assert_allclose(whole.coef_, one.coef_, rtol=1e-9)
    Xn = X.copy()
    Xn[-1, 0] = np.nan  # in the last block: the whole message is skipped
    skipped = L.SGDRegressor(eta0=0.002).partial_fit(X[:3], Y[:3, 0])
    before = np.array(skipped.coef_)
    skipped.partial_fit(Xn, Y[:, 0])
    np.testing.assert_array_equal(skipped.coef_, before)


def test_sgd_l1_message_longer_than_a_block_equals_sklearn():
    X, Y = _data(n=150, k=1)
    ref = sk.SGDRegressor(shuffle=False, penalty="elasticnet", alpha=0.01, loss="huber")
    ours = L.SGDRegressor(penalty="elasticnet", alpha=0.01, loss="huber")
    for m in (ref, ours):
        m.partial_fit(X[:140], Y[:140, 0]).partial_fit(X[140:], Y[140:, 0])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
