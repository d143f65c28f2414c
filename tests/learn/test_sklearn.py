import logging
import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.process.sklearn import (
    PredictMethod,
    SklearnModelProcessor,
    SklearnModelSettings,
    SklearnModelState,
)
from ezmsg_sigproc_units.testing import assert_close
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

sk = pytest.importorskip("sklearn.linear_model")

N_CH = 4
W = np.array([1.0, -2.0, 0.5, 3.0])


def _host(n=30, ch=N_CH, seed=0, dtype="float64"):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, dims=("time", "ch"), value=None):
    axes = {"time": AxisArray.TimeAxis(fs=10.0)}
    attrs = {} if value is None else {
        "trigger": SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0), value=value)}
    data = backend.asarray(host) if backend is not None else host
    return AxisArray(data, dims=list(dims), axes=axes, attrs=attrs)


def _labels(host):
    return np.where(host @ W[: host.shape[1]] > 0, "r", "l")


def _proc(cls="sklearn.linear_model.SGDRegressor", **kw):
    kwargs = kw.pop("model_kwargs", {"random_state": 0})
    return SklearnModelProcessor(SklearnModelSettings(model_class=cls, model_kwargs=kwargs,
                                                      **kw))


def test_regressor_every_backend(backend, float_dtype):
    """partial_fit then predict: scikit-learn's numbers, back in the input's namespace, on its
    device, in its float dtype (targets as an AxisArray on the device, as SeqSeqSampler's)."""
    host = _host(dtype=float_dtype)
    y = (host.astype(np.float64) @ W)[:, None]
    target = AxisArray(backend.asarray(y.astype(float_dtype)), dims=["time", "ch"])
    proc = _proc()
    proc.partial_fit(_msg(backend, host, value=target))
    out = proc(_msg(backend, host[:7]))
    ref = sk.SGDRegressor(random_state=0).partial_fit(host, y[:, 0].astype(float_dtype))
    assert out.dims == ["time", "ch"] and list(out.axes["ch"].data) == [0]
    assert_close(out.data, ref.predict(host[:7])[:, None], xp=backend.xp, device=backend.device,
                 dtype=float_dtype)


def test_predict_proba_every_backend(backend):
    host = _host(dtype="float32", seed=1)
    proc = _proc("sklearn.linear_model.SGDClassifier",
                 model_kwargs={"loss": "log_loss", "random_state": 0},
                 partial_fit_classes=np.array(["l", "r"]), predict_method="predict_proba")
    proc.partial_fit(_msg(backend, host, value=_labels(host)))
    out = proc(_msg(backend, host[:5]))
    ref = sk.SGDClassifier(loss="log_loss", random_state=0).partial_fit(
        host, _labels(host), classes=np.array(["l", "r"]))
    assert list(out.axes["ch"].data) == ["l", "r"]
    assert_close(out.data, ref.predict_proba(host[:5]), xp=backend.xp, device=backend.device,
                 dtype="float32", rtol=1e-5)


def test_one_label_per_sample_message_and_string_predictions():
    """A Sampler epoch carries one label: it labels every sample of the epoch. String class
    predictions cannot live in most array libraries: they stay NumPy."""
    proc = _proc("sklearn.linear_model.SGDClassifier", partial_fit_classes=["l", "r"])
    rng = np.random.default_rng(2)
    for i in range(6):
        lab = "lr"[i % 2]
        proc.partial_fit(_msg(None, rng.standard_normal((5, N_CH)) + (3 if lab == "r" else -3),
                              value=lab))
    out = proc(_msg(None, np.full((2, N_CH), 3.0)))
    assert isinstance(out.data, np.ndarray) and out.data.tolist() == [["r"], ["r"]]


def test_predict_before_fit_publishes_nothing_and_warns_once(caplog):
    proc = _proc()
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert proc(_msg(None, _host(n=3))) is None
        assert proc(_msg(None, _host(n=3))) is None
    assert caplog.text.count("no fitted model yet") == 1


def test_training_before_the_first_prediction_is_kept():
    """(ezmsg-learn rebuilds the model on the first prediction's reset, losing the training.)"""
    host = _host()
    proc = _proc("sklearn.linear_model.LinearRegression", model_kwargs={})
    proc.fit(host.tolist(), list(host @ W))  # plain lists are arrays too
    out = proc(_msg(None, host[:3]))
    np.testing.assert_allclose(out.data[:, 0], host[:3] @ W, rtol=1e-9)


def test_unseen_label_is_a_clear_error():
    proc = _proc("sklearn.linear_model.SGDClassifier", partial_fit_classes=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"partial_fit_classes: training labels \[2\]"):
        proc.partial_fit(_msg(None, _host(n=3), value=np.array([0, 1, 2])))


def test_feature_count_change_starts_a_new_model(caplog):
    proc = _proc()
    proc.partial_fit(_msg(None, _host(), value=_host() @ W))
    assert proc(_msg(None, _host(n=2))) is not None
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        assert proc(_msg(None, _host(n=2, ch=3))) is None  # new model, not trained yet
    assert "feature count changed from 4 to 3" in caplog.text
    proc.partial_fit(_msg(None, _host(ch=3), value=_host(ch=3) @ W[:3]))
    assert proc(_msg(None, _host(n=2, ch=3))).data.shape == (2, 1)


def test_checkpoint_round_trip(tmp_path):
    host = _host()
    proc = _proc("sklearn.linear_model.Ridge", model_kwargs={"alpha": 0.1})
    proc.fit(host, np.stack([host @ W, -(host @ W)], axis=1))
    path = str(tmp_path / "model.pkl")
    proc.save_checkpoint(path)
    loaded = _proc("", checkpoint_path=path)  # model_class is unused with a checkpoint
    got = loaded(_msg(None, host[:4]))
    np.testing.assert_allclose(got.data, proc(_msg(None, host[:4])).data)
    assert list(got.axes["ch"].data) == [0, 1]
    with pytest.raises(ValueError, match="expects 4 features, but got 3"):
        loaded(_msg(None, host[:4, :3]))
    with pytest.raises(RuntimeError, match="Failed to load model"):
        _proc(checkpoint_path=str(tmp_path / "missing.pkl"))(_msg(None, host))


def test_state_pickles_mid_stream():
    host = _host(n=40, seed=3)
    y = host @ W
    a = _proc()
    a.partial_fit(_msg(None, host[:20], value=y[:20]))
    a(_msg(None, host[:1]))
    b = _proc()
    b.state = pickle.loads(pickle.dumps(a.state))
    for p in (a, b):
        p.partial_fit(_msg(None, host[20:], value=y[20:]))
    np.testing.assert_array_equal(a(_msg(None, host[:5])).data, b(_msg(None, host[:5])).data)


def test_other_dims_are_samples_and_features_may_come_first(backend):
    host = _host(n=12)
    proc = _proc("sklearn.linear_model.LinearRegression", model_kwargs={})
    proc.fit(backend.asarray(host), backend.asarray(np.stack([host @ W, 2 * host @ W], 1)))
    x3 = host.reshape(3, 4, N_CH)
    out = proc(_msg(backend, np.ascontiguousarray(np.moveaxis(x3, -1, 0)),
                    dims=("ch", "time", "trial")))
    assert out.dims == ["ch", "time", "trial"]
    ref = np.moveaxis(np.stack([x3 @ W, 2 * x3 @ W], -1), -1, 0)
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype="float64",
                 rtol=1e-9, atol=1e-9)


class _RiverLike:
    """One sample at a time, dict features (River's learn_one / predict_one API)."""

    def __init__(self):
        self.sums = {}

    def learn_one(self, x, y):
        self.sums[y] = self.sums.get(y, 0) + 1
        self.last = x

    def predict_one(self, x):
        return float(sum(x.values()))

    def predict_proba_one(self, x):
        return {"a": 0.25, "b": 0.75}


def test_river_style_estimator_needs_no_pandas():
    proc = SklearnModelProcessor(SklearnModelSettings(model_class=_RiverLike))
    host = _host(n=3)
    proc.partial_fit(_msg(None, host, value=["a", "b", "a"]))
    assert proc.state.model.sums == {"a": 2, "b": 1}
    assert list(proc.state.model.last) == ["f0", "f1", "f2", "f3"]
    np.testing.assert_allclose(proc(_msg(None, host)).data[:, 0], host.sum(1))
    proba = SklearnModelProcessor(SklearnModelSettings(model_class=_RiverLike,
                                                       predict_method="predict_proba"))
    proba.partial_fit(_msg(None, host, value="a"))
    out = proba(_msg(None, host[:2]))
    assert list(out.axes["ch"].data) == ["a", "b"] and out.data.tolist() == [[0.25, 0.75]] * 2


def test_input_not_mutated(backend):
    host = _host()
    msg = _msg(backend, host, value=backend.asarray(host @ W))
    axes = dict(msg.axes)
    proc = _proc()
    proc.partial_fit(msg)
    proc.partial_fit_transform(msg)
    assert msg.axes == axes and msg.dims == ["time", "ch"]
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype="float64")


def test_empty_message_after_fit():
    proc = _proc()
    proc.partial_fit(_msg(None, _host(), value=_host() @ W))
    assert proc(_msg(None, _host(n=2))).data.shape == (2, 1)
    assert proc(_msg(None, _host(n=0))).data.shape == (0, 1)


def test_settings_validation_and_defaults():
    s = SklearnModelSettings("sklearn.linear_model.Ridge")
    assert (s.model_kwargs, s.checkpoint_path, s.partial_fit_classes, s.predict_method) == (
        None, None, None, PredictMethod.PREDICT)
    for bad in [dict(model_class="Ridge"), dict(model_class=3),
                dict(model_class="a.B", model_kwargs=[1]),
                dict(model_class="a.B", partial_fit_classes=[1, 1]),
                dict(model_class="a.B", checkpoint_path=1),
                dict(model_class="a.B", predict_method="decision")]:
        field = next(k for k in bad if k != "model_class") if len(bad) > 1 else "model_class"
        with pytest.raises(ValueError, match=f"^{field}"):
            SklearnModelSettings(**bad)
    with pytest.raises(ValueError, match="^model_class: cannot import"):
        _proc("sklearn.linear_model.NoSuchModel", model_kwargs={}).partial_fit(
            _msg(None, _host(), value=1.0))
    with pytest.raises(ValueError, match="trigger"):
        _proc().partial_fit(_msg(None, _host()))
    assert SklearnModelState().model is None
