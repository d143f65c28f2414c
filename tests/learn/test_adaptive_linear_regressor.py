import pickle

import numpy as np
import pytest
from ezmsg.baseproc import SampleTriggerMessage
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.process.adaptive_linear_regressor import (
    AdaptiveLinearRegressorSettings,
    AdaptiveLinearRegressorState,
    AdaptiveLinearRegressorTransformer,
    AdaptiveLinearRegressorUnit,
)
from ezmsg_sigproc_units.learn.util import AdaptiveLinearRegressor
from ezmsg_sigproc_units.testing import assert_close, random_partitions

FS = 100.0
D, K = 6, 2


def _host(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    Y = X @ rng.standard_normal((D, K)) + 0.2 + 0.05 * rng.standard_normal((n, K))
    return X, Y


def _signal(backend, X, dtype="float64", offset=0.0):
    ch = AxisArray.CoordinateAxis(data=np.array([f"f{i}" for i in range(X.shape[1])]),
                                  dims=["ch"])
    return AxisArray(backend.asarray(X, dtype), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=offset), "ch": ch})


def _sample(backend, X, Y, dtype="float64", offset=0.0):
    sig = _signal(backend, X, dtype, offset)
    ych = AxisArray.CoordinateAxis(data=np.array(["vx", "vy"][:Y.shape[1]]), dims=["ch"])
    tgt = AxisArray(backend.asarray(Y, dtype), dims=["time", "ch"],
                    axes={"time": sig.axes["time"], "ch": ych}, key="vel")
    trig = SampleTriggerMessage(timestamp=offset, period=(0.0, 1.0), value=tgt)
    return AxisArray(sig.data, dims=sig.dims, axes=sig.axes, attrs={"trigger": trig})


def _proc(kind="linear", **kw):
    return AdaptiveLinearRegressorTransformer(
        AdaptiveLinearRegressorSettings(model_type=kind, model_kwargs=kw))


def _train(proc, backend, X, Y, lengths, dtype="float64"):
    start = 0
    for k in lengths:
        proc.partial_fit(_sample(backend, X[start:start + k], Y[start:start + k], dtype,
                                 start / FS))
        start += k
    return proc


def test_linear_any_split_is_least_squares(backend, float_dtype):
    """Recursive least squares: every split of the training samples (empty and length-1
    chunks included) gives the same model: scikit-learn's least squares fit."""
    sk = pytest.importorskip("sklearn.linear_model")
    if backend.value == "jax" and float_dtype == "float64":
        pytest.skip("JAX: float32 covers the compiled path (each dtype compiles again)")
    X, Y = _host()
    Xt = _host(n=8, seed=1)[0]
    want = sk.LinearRegression().fit(X, Y).predict(Xt)
    # other backends: one split with an empty and a length-1 chunk, two chunk shapes (JAX
    # compiles the update once per shape)
    parts = random_partitions(30, count=3, seed=4) if backend.value == "numpy" else [[0, 1, 1,
                                                                                     0, 28]]
    rtol = 1e-3 if float_dtype == "float32" and not backend.supports_float64() else (
        1e-4 if float_dtype == "float32" else 1e-6)
    for lengths in parts:
        out = _train(_proc(), backend, X, Y, lengths, float_dtype)(_signal(backend, Xt,
                                                                           float_dtype))
        assert out.dims == ["time", "ch"] and out.key == "vel_pred"
        assert list(out.axes["ch"].data) == ["vx", "vy"]
        assert_close(out.data, want, xp=backend.xp, device=backend.device, dtype=float_dtype,
                     rtol=rtol, err_msg=f"split {lengths}")


@pytest.mark.parametrize("kind", ["logistic", "sgd", "par"])
def test_online_learners_on_every_backend(backend, kind):
    """Same numbers as on NumPy, in the input's namespace, device and dtype."""
    if backend.value in ("jax", "mlx") and kind != "sgd":
        pytest.skip("one learner on the compiling backends (each new kernel compiles)")
    X, Y = _host(n=12)
    if kind == "logistic":
        Y = (Y > 0.2).astype(float)
    Xt = _host(n=4, seed=2)[0]
    ref = _train(_proc(kind), _Numpy, X, Y, [5, 7])(_signal(_Numpy, Xt)).data
    dt = "float64" if backend.supports_float64() else "float32"
    out = _train(_proc(kind), backend, X, Y, [5, 7], dt)(_signal(backend, Xt, dt))
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=dt,
                 rtol=1e-4 if dt == "float32" else 1e-9)


class _Numpy:
    value = "numpy"

    @staticmethod
    def asarray(x, dtype=None):
        return np.asarray(x, dtype=dtype)


def test_sgd_matches_sklearn_one_target():
    sk = pytest.importorskip("sklearn.linear_model")
    X, Y = _host(n=20)
    ref = sk.SGDRegressor(shuffle=False, eta0=0.02).partial_fit(X[:9], Y[:9, 0])
    ref.partial_fit(X[9:], Y[9:, 0])
    proc = _train(_proc("sgd", eta0=0.02), _Numpy, X, Y[:, :1], [9, 11])
    np.testing.assert_allclose(proc(_signal(_Numpy, X)).data[:, 0], ref.predict(X), rtol=1e-10)


def test_predict_before_fit_returns_none_then_feature_change_resets(caplog):
    proc = _proc()
    X, Y = _host()
    assert proc(_signal(_Numpy, X)) is None
    proc.partial_fit(_sample(_Numpy, X, Y))
    assert proc(_signal(_Numpy, X)).data.shape == (30, 2)
    with caplog.at_level("INFO", logger="ezmsg"):
        assert proc(_signal(_Numpy, X[:, :4])) is None
    assert "feature count changed from 6 to 4" in caplog.text
    proc.partial_fit(_sample(_Numpy, X[:, :4], Y))
    assert proc(_signal(_Numpy, X[:, :4])).data.shape == (30, 2)


def test_state_pickles_and_resumes(backend):
    X, Y = _host(n=20)
    a = _train(_proc(), backend, X, Y, [10])
    b = _proc()
    b.state = pickle.loads(pickle.dumps(a.state))
    for p in (a, b):
        _train(p, backend, X[10:], Y[10:], [10])
    sig = _signal(backend, X)
    assert_close(b(sig).data, a(sig).data)


def test_nan_rows_are_left_out_and_input_untouched():
    X, Y = _host(n=20)
    Xn = X.copy()
    Xn[4, 2] = np.nan
    msg = _sample(_Numpy, Xn, Y)
    a = _proc()
    a.partial_fit(msg)
    b = _train(_proc(), _Numpy, np.delete(X, 4, 0), np.delete(Y, 4, 0), [19])
    np.testing.assert_allclose(a(_signal(_Numpy, X)).data, b(_signal(_Numpy, X)).data,
                               rtol=1e-8)
    assert np.isnan(msg.data[4, 2]) and msg.attrs["trigger"].value.key == "vel"


def test_non_target_sample_raises():
    X, _ = _host(n=3)
    sig = _signal(_Numpy, X)
    with pytest.raises(ValueError, match="trigger"):
        _proc().partial_fit(sig)
    trig = SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0), value="left")
    with pytest.raises(ValueError, match="AxisArray of targets"):
        _proc().partial_fit(AxisArray(X, dims=["time", "ch"], attrs={"trigger": trig}))


def test_settings_path_loads_a_fitted_sklearn_model(tmp_path):
    sk = pytest.importorskip("sklearn.linear_model")
    X, Y = _host(n=20)
    est = sk.SGDRegressor(shuffle=False).partial_fit(X, Y[:, 0])
    path = tmp_path / "sgd.pkl"
    path.write_bytes(pickle.dumps(est))
    proc = AdaptiveLinearRegressorTransformer(
        AdaptiveLinearRegressorSettings(model_type="sgd", settings_path=str(path)))
    out = proc(_signal(_Numpy, X))
    np.testing.assert_allclose(out.data[:, 0], est.predict(X), rtol=1e-10)
    assert list(out.axes["ch"].data) == ["ch0"]
    est.partial_fit(X[:5], Y[:5, 0])  # it goes on learning where the file left it
    proc.partial_fit(_sample(_Numpy, X[:5], Y[:5, :1]))
    np.testing.assert_allclose(proc(_signal(_Numpy, X)).data[:, 0], est.predict(X), rtol=1e-10)


def test_settings_and_names():
    s = AdaptiveLinearRegressorSettings()
    assert (s.model_type, s.settings_path, s.model_kwargs) == (
        AdaptiveLinearRegressor.LINEAR, None, {})
    with pytest.raises(ValueError, match="^model_type"):
        AdaptiveLinearRegressorSettings(model_type="mlp")
    with pytest.raises(ValueError, match="^model_kwargs"):
        AdaptiveLinearRegressorSettings(model_kwargs=[1])
    with pytest.raises(ValueError, match="^settings_path"):
        AdaptiveLinearRegressorSettings(settings_path="")
    with pytest.raises(ValueError, match="^model_kwargs"):
        _proc("linear", bogus=1)
    assert AdaptiveLinearRegressorState().model is None
    assert AdaptiveLinearRegressorUnit.SETTINGS is AdaptiveLinearRegressorSettings


def test_unit_tasks_train_and_predict():
    import asyncio

    X, Y = _host(n=12)
    unit = AdaptiveLinearRegressorUnit(AdaptiveLinearRegressorSettings())
    unit.create_processor()

    async def run():
        fit = [o async for o in unit.on_sample(_sample(_Numpy, X, Y))]
        return fit, [o async for o in unit.on_signal(_signal(_Numpy, X))]

    fit, pred = asyncio.run(run())
    assert fit[0][0] is unit.OUTPUT_SAMPLE and pred[0][0] is unit.OUTPUT_SIGNAL
    np.testing.assert_allclose(pred[0][1].data, fit[0][1].data)
    assert pred[0][1].data.shape == (12, 2)


def test_output_labels_do_not_alias_the_training_sample():
    X, Y = _host(n=10)
    msg = _sample(_Numpy, X, Y)
    proc = _proc()
    proc.partial_fit(msg)
    msg.attrs["trigger"].value.axes["ch"].data[0] = "reused"  # a shared-memory slot reused
    assert list(proc(_signal(_Numpy, X)).axes["ch"].data) == ["vx", "vy"]
