import pickle

import numpy as np
import pytest
from ezmsg.baseproc import SampleTriggerMessage
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.process.linear_regressor import (
    AdaptiveLinearRegressorUnit,
    LinearRegressorSettings,
    LinearRegressorState,
    LinearRegressorTransformer,
    LinearRegressorUnit,
)
from ezmsg_sigproc_units.learn.util import StaticLinearRegressor
from ezmsg_sigproc_units.testing import assert_close

sk = pytest.importorskip("sklearn.linear_model")
FS = 50.0


def _host(n=25, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal((d, 2)) - 1.0 + 0.1 * rng.standard_normal((n, 2))


def _msg(backend, X, Y=None, dtype="float64", dims=("time", "ch")):
    data = backend.asarray(X, dtype) if backend is not None else X
    axes = {"time": AxisArray.TimeAxis(fs=FS, offset=1.0)}
    attrs = {}
    if Y is not None:
        ych = AxisArray.CoordinateAxis(data=np.array(["x", "y"]), dims=["ch"])
        tgt = AxisArray(backend.asarray(Y, dtype) if backend is not None else Y,
                        dims=["time", "ch"], axes={"time": axes["time"], "ch": ych}, key="pos")
        attrs = {"trigger": SampleTriggerMessage(timestamp=1.0, period=(0.0, 0.5), value=tgt)}
    return AxisArray(data, dims=list(dims), axes=axes, attrs=attrs)


def _proc(kind="linear", **kw):
    return LinearRegressorTransformer(LinearRegressorSettings(model_type=kind, model_kwargs=kw))


@pytest.mark.parametrize("kind,kw", [("linear", {}), ("ridge", {"alpha": 3.0})])
def test_fit_and_predict_equal_sklearn(backend, float_dtype, kind, kw):
    if backend.value in ("jax", "mlx") and (kind, float_dtype) != ("linear", "float32"):
        pytest.skip("JAX/MLX: one configuration (each one compiles the fit again)")
    X, Y = _host()
    Xt = _host(n=7, seed=1)[0]
    ref = (sk.Ridge(**kw) if kind == "ridge" else sk.LinearRegression()).fit(X, Y)
    proc = _proc(kind, **kw)
    proc.partial_fit(_msg(backend, X, Y, float_dtype))
    out = proc(_msg(backend, Xt, dtype=float_dtype))
    assert out.dims == ["time", "ch"] and out.key == "pos_pred"
    assert list(out.axes["ch"].data) == ["x", "y"] and out.axes["time"].offset == 1.0
    assert_close(out.data, ref.predict(Xt), xp=backend.xp, device=backend.device,
                 dtype=float_dtype, rtol=1e-4 if float_dtype == "float32" else 1e-9)


def test_each_sample_replaces_the_model():
    X, Y = _host(n=40)
    proc = _proc()
    proc.partial_fit(_msg(None, X[:20], Y[:20]))
    proc.partial_fit(_msg(None, X[20:], Y[20:]))
    want = sk.LinearRegression().fit(X[20:], Y[20:]).predict(X)
    np.testing.assert_allclose(proc(_msg(None, X)).data, want, rtol=1e-9)


def test_nan_rows_left_out_and_lengths_cut_to_the_shorter():
    X, Y = _host()
    Xn = X.copy()
    Xn[2, 0] = np.nan
    proc = _proc("ridge")
    proc.partial_fit(_msg(None, Xn, Y[:-1]))  # one target fewer: X is cut to 24 rows
    keep = [i for i in range(24) if i != 2]
    want = sk.Ridge().fit(X[keep], Y[keep]).predict(X)
    np.testing.assert_allclose(proc(_msg(None, X)).data, want, rtol=1e-9)


def test_before_fit_none_and_feature_change_drops_model(caplog):
    X, Y = _host()
    proc = _proc()
    assert proc(_msg(None, X)) is None
    proc.partial_fit(_msg(None, X, Y))
    with caplog.at_level("INFO", logger="ezmsg"):
        assert proc(_msg(None, X[:, :3])) is None
    assert "feature count changed from 4 to 3" in caplog.text
    assert proc(_msg(None, X)) is None  # no model until the next training sample


def test_other_dims_are_flattened_into_features():
    rng = np.random.default_rng(5)
    X3 = rng.standard_normal((30, 2, 3))
    Y = X3.reshape(30, 6) @ rng.standard_normal((6, 2))
    proc = _proc()
    msg = _msg(None, X3, Y, dims=("time", "ch", "freq"))
    proc.partial_fit(msg)
    np.testing.assert_allclose(proc(_msg(None, X3, dims=("time", "ch", "freq"))).data, Y,
                               atol=1e-9)


def test_state_pickles(backend):
    if backend.value == "jax":
        pytest.skip("JAX model state pickling: test_adaptive_linear_regressor, test_sgd")
    X, Y = _host()
    a = _proc()
    a.partial_fit(_msg(backend, X, Y))
    b = _proc()
    b.state = pickle.loads(pickle.dumps(a.state))
    assert_close(b(_msg(backend, X)).data, a(_msg(backend, X)).data)


def test_settings_path_reads_sklearn_pickle(tmp_path):
    X, Y = _host()
    est = sk.Ridge(alpha=0.3).fit(X, Y)
    path = tmp_path / "ridge.pkl"
    path.write_bytes(pickle.dumps(est))
    proc = LinearRegressorTransformer(LinearRegressorSettings(settings_path=str(path)))
    out = proc(_msg(None, X))
    np.testing.assert_allclose(out.data, est.predict(X), rtol=1e-10)
    assert list(out.axes["ch"].data) == ["ch0", "ch1"]


def test_settings_and_names():
    s = LinearRegressorSettings()
    assert (s.model_type, s.settings_path, s.model_kwargs) == (
        StaticLinearRegressor.LINEAR, None, {})
    with pytest.raises(ValueError, match="^model_type"):
        LinearRegressorSettings(model_type="lasso")
    with pytest.raises(ValueError, match="^positive"):
        _proc("linear", positive=True)
    assert LinearRegressorState().template is None
    assert LinearRegressorUnit is AdaptiveLinearRegressorUnit
    assert AdaptiveLinearRegressorUnit.SETTINGS is LinearRegressorSettings
