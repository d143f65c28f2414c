import logging
import pickle
import subprocess
import sys

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.linear_model import slda as slda_alias
from ezmsg_sigproc_units.learn.process.slda import (
    SLDA,
    SLDASettings,
    SLDAState,
    SLDATransformer,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_close,
    backend_partitions,
    random_partitions,
)
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

sklearn_da = pytest.importorskip("sklearn.discriminant_analysis")


def _data(n=48, p=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + 3.0 + 0.8 * y[:, None]
    return x, y


def _msg(backend, host, dtype=None, label=None, fs=10.0):
    attrs = {}
    if label is not None:
        attrs["trigger"] = SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0), value=label)
    ch = AxisArray.CoordinateAxis(data=np.array([f"f{i}" for i in range(host.shape[1])]),
                                  dims=["ch"])
    return AxisArray(backend.asarray(host, dtype), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=fs), "ch": ch}, attrs=attrs)


def _train(proc, backend, x, y, lengths, labels=None):
    """Feed the observations in chunks of ``lengths``, each chunk split by class."""
    i = 0
    for n in lengths:
        xs, ys = x[i:i + n], y[i:i + n]
        i += n
        if n == 0:
            proc.partial_fit(_msg(backend, xs, label=0))
            continue
        for k in np.unique(ys):
            lab = labels[k] if labels is not None else int(k)
            proc.partial_fit(_msg(backend, xs[ys == k], label=lab))
    return proc


def _ref(x, y):
    return sklearn_da.LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x, y)


def test_streaming_fit_equals_sklearn(backend, float_dtype):
    # three classes (softmax) on NumPy; two (logistic) elsewhere: each class count is a new
    # set of shapes, and JAX compiles every operation once per shape
    k = 3 if backend.value == "numpy" else 2
    x, y = _data(k=k, seed=k)
    ref = _ref(x, y)
    xq = np.random.default_rng(9).standard_normal((7, x.shape[1])) + 3.5
    for lengths in backend_partitions(backend, x.shape[0], count=2, seed=k):
        proc = _train(SLDATransformer(SLDASettings()), backend, x, y, lengths)
        out = proc(_msg(backend, xq, float_dtype))
        assert out.dims == ["time", "classes"] and out.labels == list(range(k))
        # MLX's float64 linear algebra runs at about float32 precision
        rtol = 2e-4 if float_dtype == "float32" else 1e-6 if backend.value == "mlx" else 1e-8
        assert_close(out.data, ref.predict_proba(xq), xp=backend.xp, device=backend.device,
                     dtype=float_dtype, rtol=rtol, atol=rtol)
    st = proc.state
    assert_close(st.coef, ref.coef_, xp=backend.xp, device=backend.device, dtype=st.coef.dtype,
                 rtol=1e-4 if backend.value in ("jax", "mlx") else 1e-8)


@pytest.mark.parametrize("k", [2, 3])
def test_any_split_gives_the_same_model(k):
    x, y = _data(n=40, p=4, k=k, seed=5)
    coefs = [_train(SLDATransformer(SLDASettings()), Backend.NUMPY, x, y, lengths).state.coef
             for lengths in random_partitions(x.shape[0], count=4, seed=3)]
    for c in coefs[1:]:
        np.testing.assert_allclose(c, coefs[0], rtol=1e-9, atol=1e-12)
    ref = _ref(x, y)
    np.testing.assert_allclose(coefs[0], ref.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(proc_out := _train(SLDATransformer(SLDASettings()), Backend.NUMPY,
                                                  x, y, [40])(_msg(Backend.NUMPY, x)).data,
                               ref.predict_proba(x), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ref.classes_[np.argmax(proc_out, axis=1)], ref.predict(x))


def test_string_labels_sorted_like_sklearn():
    backend = Backend.NUMPY  # host bookkeeping: one backend is enough
    x, y = _data(n=30, p=4, k=2, seed=2)
    names = np.array(["right", "left"])
    proc = _train(SLDATransformer(SLDASettings()), backend, x, y, [30], labels=names)
    ref = _ref(x, names[y])
    out = proc(_msg(backend, x[:4]))
    assert out.labels == ["left", "right"] == ref.classes_.tolist()
    assert list(out.axes["classes"].data) == ["left", "right"]
    assert_close(out.data, ref.predict_proba(x[:4]), xp=backend.xp, device=backend.device,
                 dtype=out.data.dtype, rtol=2e-4, atol=2e-4)


def test_pickle_resumes_mid_training(backend):
    if backend.value == "jax":
        pytest.skip("the fit's per-operation compiles on JAX are paid once, by "
                    "test_streaming_fit_equals_sklearn (which runs JAX's fit end to end)")
    x, y = _data(n=30, p=4, k=2, seed=4)
    whole = _train(SLDATransformer(SLDASettings()), backend, x, y, [30])
    half = _train(SLDATransformer(SLDASettings()), backend, x[:13], y[:13], [13])
    resumed = SLDATransformer(SLDASettings())
    resumed.state, resumed._hash = pickle.loads(pickle.dumps((half.state, half._hash)))
    _train(resumed, backend, x[13:], y[13:], [17])
    q = _msg(backend, x[:5])
    assert_close(resumed(q).data, whole(q).data, rtol=1e-5, atol=1e-6)


def test_predict_before_fit_is_none_with_one_warning(caplog):
    backend = Backend.NUMPY  # host bookkeeping: one backend is enough
    proc = SLDATransformer(SLDASettings())
    x, _ = _data(n=6, p=4)
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert proc(_msg(backend, x)) is None
        proc.partial_fit(_msg(backend, x[:3], label="a"))  # one class: still no model
        assert proc(_msg(backend, x)) is None
    assert sum("no fitted model" in r.message for r in caplog.records) == 1


def test_feature_count_change_resets(caplog):
    backend = Backend.NUMPY  # host bookkeeping: one backend is enough
    x, y = _data(n=20, p=4, k=2)
    proc = _train(SLDATransformer(SLDASettings()), backend, x, y, [20])
    x2, y2 = _data(n=20, p=3, k=2, seed=8)
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        assert proc(_msg(backend, x2)) is None
    assert any("feature count changed from 4 to 3" in r.message for r in caplog.records)
    _train(proc, backend, x2, y2, [20])
    assert_close(proc(_msg(backend, x2[:3])).data, _ref(x2, y2).predict_proba(x2[:3]),
                 xp=backend.xp, device=backend.device, dtype=x2.dtype, rtol=2e-4, atol=2e-4)


def test_rank_deficient_data_is_regularised_not_nan(caplog):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 12))  # 2 per class: no shrinkage, pooled rank 2 of 12
    y = np.array([0, 0, 1, 1])
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        proc = _train(SLDATransformer(SLDASettings()), Backend.NUMPY, x, y, [4])
    out = proc(_msg(Backend.NUMPY, x))
    assert np.all(np.isfinite(out.data))
    np.testing.assert_allclose(out.data, _ref(x, y).predict_proba(x), rtol=1e-6, atol=1e-8)
    assert any("ill-conditioned" in r.message for r in caplog.records)


def test_loads_a_pickled_sklearn_model_without_importing_sklearn(backend, tmp_path):
    x, y = _data(n=40, p=4, k=3, seed=6)
    ref = _ref(x, y)
    path = tmp_path / "lda.pkl"
    path.write_bytes(pickle.dumps(ref))
    proc = SLDATransformer(SLDASettings(settings_path=str(path)))
    out = proc(_msg(backend, x[:6], "float32"))
    assert_close(out.data, ref.predict_proba(x[:6]), xp=backend.xp, device=backend.device,
                 dtype="float32", rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="settings_path"):
        proc.partial_fit(_msg(backend, x[:2], label=0))
    if backend.value == "numpy":
        code = ("import sys; sys.modules['sklearn'] = None\n"
                "from ezmsg_sigproc_units.learn.process._slda_io import load_model\n"
                f"c, w, b, s = load_model({str(path)!r})\n"
                "assert c == [0, 1, 2] and w.shape == (3, 4), (c, w.shape)\n")
        subprocess.run([sys.executable, "-c", code], check=True)


def test_loads_the_mat_format(tmp_path):
    sio = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(1)
    weights = rng.standard_normal((2, 4))  # row 1: [intercept, w0, w1, w2]
    sio.savemat(tmp_path / "m.mat", {"weights": weights, "channels": np.array([5, 7, 8])})
    x = rng.standard_normal((3, 6)) * 1e6
    out = SLDATransformer(SLDASettings(settings_path=str(tmp_path / "m.mat")))(
        _msg(Backend.NUMPY, x))
    full = np.zeros(6)
    full[[0, 2, 3]] = weights[1, 1:]
    dec = x * 1e-6 @ full + weights[1, 0]
    p1 = 1 / (1 + np.exp(-dec))
    np.testing.assert_allclose(out.data, np.stack([1 - p1, p1], 1), rtol=1e-10)
    assert out.labels == [0, 1]


def test_bad_training_messages():
    backend = Backend.NUMPY  # host bookkeeping: one backend is enough
    proc = SLDATransformer(SLDASettings())
    x, _ = _data(n=4, p=4)
    with pytest.raises(ValueError, match="trigger"):
        proc.partial_fit(_msg(backend, x))
    target = AxisArray(np.zeros((4, 2)), dims=["time", "ch"])
    with pytest.raises(ValueError, match="class label"):
        proc.partial_fit(_msg(backend, x, label=target))


def test_empty_and_integer_inputs(backend, tmp_path):
    """Prediction paths only (a loaded model: no fit to compile on JAX)."""
    x, y = _data(n=20, p=4, k=2)
    ref = _ref(x, y)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(ref))
    proc = SLDATransformer(SLDASettings(settings_path=str(tmp_path / "m.pkl")))
    out = proc(_msg(backend, x[:0]))
    assert tuple(out.data.shape) == (0, 2)
    xi = np.round(x[:3]).astype("int32")
    out = proc(_msg(backend, xi))
    dt = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, ref.predict_proba(xi.astype(float)), xp=backend.xp,
                 device=backend.device, dtype=dt, rtol=2e-4, atol=2e-4)


def test_input_not_mutated_and_not_kept():
    x, y = _data(n=20, p=4, k=2)
    msg = _msg(Backend.NUMPY, x[y == 0], label=0)
    before = msg.data.copy()
    proc = SLDATransformer(SLDASettings())
    proc.partial_fit(msg)
    _train(proc, Backend.NUMPY, x[y == 1], y[y == 1], [int(np.sum(y == 1))])
    coef = proc.state.coef.copy()
    np.testing.assert_array_equal(msg.data, before)
    msg.data[:] = 1e6  # an upstream buffer reused
    np.testing.assert_array_equal(proc.state.coef, coef)
    assert set(msg.attrs) == {"trigger"}
    sig = _msg(Backend.NUMPY, x[:3])
    axes_before, data_before = dict(sig.axes), sig.data.copy()
    proc(sig)
    assert sig.axes == axes_before and sig.attrs == {}
    np.testing.assert_array_equal(sig.data, data_before)


def test_settings_accept_the_peer_configs():
    assert SLDASettings("model.pkl").settings_path == "model.pkl"
    s = SLDASettings()
    assert (s.settings_path, s.axis) == (None, None)
    with pytest.warns(FutureWarning):
        assert SLDASettings(settings_path="m.pkl", axis="time").axis == "time"
    with pytest.raises(ValueError, match="^settings_path"):
        SLDASettings(settings_path=3)
    with pytest.raises(ValueError, match="^axis"):
        SLDASettings(axis="")
    assert SLDAState().coef is None
    assert slda_alias.SLDA is SLDA and slda_alias.SLDATransformer is SLDATransformer
    assert {"INPUT_SAMPLE", "INPUT_SIGNAL", "OUTPUT_SIGNAL"} <= set(SLDA.__streams__)


def test_unit_trains_on_samples_and_decodes_signals():
    """The Unit's tasks as ezmsg calls them: samples train (their own probabilities go to
    OUTPUT_SAMPLE once there is a model), signals are decoded on OUTPUT_SIGNAL."""
    import asyncio

    backend = Backend.NUMPY
    x, y = _data(n=20, p=4, k=2)
    unit = SLDA(SLDASettings())
    unit.create_processor()

    async def run():
        assert [o async for o in unit.on_signal(_msg(backend, x[:3]))] == []
        first = [o async for o in unit.on_sample(_msg(backend, x[y == 0], label=0))]
        second = [o async for o in unit.on_sample(_msg(backend, x[y == 1], label=1))]
        return first, second, [o async for o in unit.on_signal(_msg(backend, x[:3]))]

    first, second, signal = asyncio.run(run())
    assert first == [] and [s for s, _ in second] == [unit.OUTPUT_SAMPLE]
    (stream, out), = signal
    assert stream is unit.OUTPUT_SIGNAL and out.labels == [0, 1]
    np.testing.assert_allclose(out.data, _ref(x, y).predict_proba(x[:3]), rtol=1e-8)


def test_non_finite_training_samples_are_skipped(caplog):
    backend = Backend.NUMPY
    x, y = _data(n=20, p=4, k=2)
    proc = _train(SLDATransformer(SLDASettings()), backend, x, y, [20])
    bad = x[:3].copy()
    bad[1, 2] = np.nan
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        proc.partial_fit(_msg(backend, bad, label=0))
    assert any("NaN or infinite" in r.message for r in caplog.records)
    out = proc(_msg(backend, x[:3]))
    np.testing.assert_allclose(out.data, _ref(x, y).predict_proba(x[:3]), rtol=1e-8)


def test_labels_that_do_not_sort_together_are_refused():
    backend = Backend.NUMPY
    x, y = _data(n=20, p=4, k=2)
    proc = _train(SLDATransformer(SLDASettings()), backend, x, y, [20])
    with pytest.raises(ValueError, match="does not sort"):
        proc.partial_fit(_msg(backend, x[:2], label="left"))
    assert proc.state.labels == [0, 1] or proc.state.labels == [1, 0]
    assert proc(_msg(backend, x[:2])).labels == [0, 1]
