import pickle

import numpy as np
import pytest
from ezmsg.baseproc import SampleTriggerMessage
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.process.sgd import (
    SGDDecoder,
    SGDDecoderSettings,
    SGDDecoderState,
    SGDDecoderTransformer,
)
from ezmsg_sigproc_units.learn.util import ClassifierMessage
from ezmsg_sigproc_units.testing import assert_close

sk = pytest.importorskip("sklearn.linear_model")
WEIGHTS = {"rest": 1.0, "left": 2.0, "right": 0.5}  # not in sorted order on purpose


def _epochs(n=18, seed=0, classes=("left", "right", "rest")):
    """``n`` training epochs (time=3, ch=4) and their labels, class-dependent means."""
    rng = np.random.default_rng(seed)
    labels = [classes[i % len(classes)] for i in range(n)]
    shift = {c: i - 1.0 for i, c in enumerate(sorted(classes))}
    X = np.stack([rng.standard_normal((3, 4)) + shift[c] for c in labels])
    return X, labels


def _sample(backend, x, label, dtype="float64"):
    trig = SampleTriggerMessage(timestamp=0.0, period=(0.0, 0.03), value=label)
    return AxisArray(backend.asarray(x, dtype) if backend is not None else x,
                     dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=100.0)},
                     attrs={"trigger": trig})


def _windows(backend, X, dtype="float64"):
    return AxisArray(backend.asarray(X, dtype) if backend is not None else X,
                     dims=["win", "time", "ch"],
                     axes={"win": AxisArray.TimeAxis(fs=2.0, offset=5.0)})


def _reference(X, labels, weights=WEIGHTS, loss="hinge"):
    ref = sk.SGDClassifier(loss=loss, alpha=1e-5, penalty="elasticnet",
                           learning_rate="adaptive", eta0=3e-4, class_weight=weights)
    for i, (x, y) in enumerate(zip(X, labels, strict=True)):
        ref.partial_fit(x.reshape(1, -1), [y], classes=list(weights) if i == 0 else None)
    return ref


def test_probabilities_equal_sklearn(backend):
    X, labels = _epochs()
    ref = _reference(X, labels)
    proc = SGDDecoderTransformer(SGDDecoderSettings(label_weights=WEIGHTS))
    dt = "float64" if backend.supports_float64() else "float32"
    for x, y in zip(X, labels, strict=True):
        proc.partial_fit(_sample(backend, x, y, dt))
    Xt = _epochs(n=5, seed=1)[0]
    out = proc(_windows(backend, Xt, dt))
    assert isinstance(out, ClassifierMessage) and out.dims == ["win", "labels"]
    assert out.labels == ["left", "rest", "right"] == list(ref.classes_)
    assert out.axes["win"].offset == 5.0
    assert_close(out.data, ref._predict_proba_lr(Xt.reshape(5, -1)), xp=backend.xp,
                 device=backend.device, dtype=dt,
                 rtol=1e-4 if dt == "float32" else (1e-6 if backend.value == "mlx" else 1e-9))


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
def test_two_classes_and_other_losses(loss):
    X, labels = _epochs(classes=("a", "b"))
    weights = {"b": 1.0, "a": 3.0}
    ref = _reference(X, labels, weights, loss)
    proc = SGDDecoderTransformer(SGDDecoderSettings(label_weights=weights, loss=loss))
    for x, y in zip(X, labels, strict=True):
        proc.partial_fit(_sample(None, x, y))
    out = proc(_windows(None, X))
    assert out.labels == ["a", "b"]
    np.testing.assert_allclose(out.data, ref._predict_proba_lr(X.reshape(len(X), -1)),
                               rtol=1e-9)


def test_unseen_label_and_missing_classes_raise():
    X, _ = _epochs(n=2)
    proc = SGDDecoderTransformer(SGDDecoderSettings(label_weights=WEIGHTS))
    proc.partial_fit(_sample(None, X[0], "left"))
    with pytest.raises(ValueError, match=r"\['up'\] are not among"):
        proc.partial_fit(_sample(None, X[1], "up"))
    with pytest.raises(ValueError, match="^label_weights"):
        SGDDecoderTransformer(SGDDecoderSettings()).partial_fit(_sample(None, X[0], "left"))


def test_before_fit_none_then_feature_change_resets(caplog):
    X, labels = _epochs(n=3)
    proc = SGDDecoderTransformer(SGDDecoderSettings(label_weights=WEIGHTS))
    assert proc(_windows(None, X)) is None
    for x, y in zip(X, labels, strict=True):
        proc.partial_fit(_sample(None, x, y))
    assert proc(_windows(None, X)).data.shape == (3, 3)
    assert proc(_windows(None, X[:0])) is None
    with caplog.at_level("INFO", logger="ezmsg"):
        assert proc(_windows(None, X[:, :2])) is None
    assert "feature count changed from 12 to 8" in caplog.text


def test_state_pickles_mid_stream(backend):
    X, labels = _epochs(n=8)
    a = SGDDecoderTransformer(SGDDecoderSettings(label_weights=WEIGHTS))
    for x, y in zip(X[:4], labels[:4], strict=True):
        a.partial_fit(_sample(backend, x, y))
    b = SGDDecoderTransformer(SGDDecoderSettings(label_weights=WEIGHTS))
    b.state, b._hash = pickle.loads(pickle.dumps((a.state, a._hash)))
    for p in (a, b):
        for x, y in zip(X[4:], labels[4:], strict=True):
            p.partial_fit(_sample(backend, x, y))
    assert_close(b(_windows(backend, X)).data, a(_windows(backend, X)).data)


def test_settings_path_loads_sklearn_model(tmp_path):
    X, labels = _epochs()
    ref = _reference(X, labels)
    path = tmp_path / "sgd.pkl"
    path.write_bytes(pickle.dumps(ref))
    proc = SGDDecoderTransformer(SGDDecoderSettings(settings_path=str(path),
                                                    label_weights=WEIGHTS))
    out = proc(_windows(None, X))
    np.testing.assert_allclose(out.data, ref._predict_proba_lr(X.reshape(len(X), -1)),
                               rtol=1e-10)
    proc.partial_fit(_sample(None, X[0], labels[0]))  # goes on learning, as scikit-learn
    ref.partial_fit(X[0].reshape(1, -1), [labels[0]])
    np.testing.assert_allclose(proc(_windows(None, X)).data,
                               ref._predict_proba_lr(X.reshape(len(X), -1)), rtol=1e-9)


def test_settings():
    s = SGDDecoderSettings()
    assert (s.alpha, s.eta0, s.loss, s.label_weights, s.settings_path) == (
        1e-5, 3e-4, "hinge", None, None)
    with pytest.raises(ValueError, match="^loss"):
        SGDDecoderSettings(loss="nope")
    with pytest.raises(ValueError, match="^eta0"):
        SGDDecoderSettings(eta0=0.0)
    with pytest.raises(ValueError, match="^label_weights"):
        SGDDecoderSettings(label_weights={"only": 1.0})
    assert SGDDecoderState().b_first_train is True
    assert SGDDecoder.SETTINGS is SGDDecoderSettings


def test_unit_trains_and_decodes_through_its_tasks():
    """The Unit's own (materialising) tasks: a sample trains and is decoded as one window,
    a signal is decoded per window."""
    import asyncio

    X, labels = _epochs(n=4)
    unit = SGDDecoder(SGDDecoderSettings(label_weights=WEIGHTS))
    unit.create_processor()

    async def run():
        for x, y in zip(X, labels, strict=True):
            outs = [o async for o in unit.on_sample(_sample(None, x, y))]
        assert outs[0][0] is unit.OUTPUT_SAMPLE and outs[0][1].data.shape == (1, 3)
        return [o async for o in unit.on_signal(_windows(None, X))]

    (stream, out), = asyncio.run(run())
    assert stream is unit.OUTPUT_SIGNAL and out.data.shape == (4, 3)
    assert out.labels == ["left", "rest", "right"]
