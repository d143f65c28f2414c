import logging
import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.learn.dim_reduce.adaptive_decomp import (
    AdaptiveDecompSettings,
    AdaptiveDecompState,
    BaseAdaptiveDecompUnit,
    IncrementalPCASettings,
    IncrementalPCATransformer,
    IncrementalPCAUnit,
    MiniBatchNMFSettings,
    MiniBatchNMFTransformer,
    MiniBatchNMFUnit,
)
from ezmsg_sigproc_units.testing import Backend, assert_close, random_partitions

skd = pytest.importorskip("sklearn.decomposition")

P = 5


def _data(n=40, p=P, seed=0, positive=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) @ rng.standard_normal((p, p)) + 1.0
    return np.abs(x) if positive else x


def _msg(backend, host, dtype=None, dims=("time", "ch")):
    axes = {"time": AxisArray.TimeAxis(fs=10.0)}
    return AxisArray(backend.asarray(host, dtype), dims=list(dims), axes=axes)


def _signed(a, ref):
    """``a`` with each component's sign matched to ``ref`` (PCA is unique up to sign)."""
    s = np.sign(np.sum(a * ref, axis=0, keepdims=True))
    return a * np.where(s == 0, 1, s)


def _feed(proc, backend, x, lengths, dtype=None):
    i = 0
    for n in lengths:
        proc.partial_fit(_msg(backend, x[i:i + n], dtype))
        i += n
    return proc


def _heavy_compile(backend):
    """JAX and MLX compile per operation and shape: they get one dtype and fewer shapes."""
    return backend.value in ("jax", "mlx")


@pytest.mark.parametrize("float_dtype", ["float32", "float64"])
def test_ipca_equals_sklearn(backend, float_dtype):
    if float_dtype == "float64" and (_heavy_compile(backend) or not backend.supports_float64()):
        pytest.skip("float32 covers this backend")
    x = _data()
    lengths = [0, 6, 1, 0, 13, 20] if backend.value == "numpy" else [0, 6, 1, 33]
    proc = _feed(IncrementalPCATransformer(IncrementalPCASettings(n_components=3)), backend,
                 x, lengths, float_dtype)
    ref = skd.IncrementalPCA(n_components=3)
    ends = np.cumsum([n for n in lengths if n])
    for a, b in zip([0, *ends[:-1]], ends, strict=True):
        ref.partial_fit(x[a:b])
    out = proc(_msg(backend, x, float_dtype))
    assert out.dims == ["time", "ch"] and list(out.axes["ch"].data) == ["0", "1", "2"]
    want = ref.transform(x)
    got = _signed(to_host(out.data).astype(float), want)
    tol = 1e-3 if float_dtype == "float32" else 1e-8
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    assert_close(out.data, out.data, xp=backend.xp, device=backend.device, dtype=float_dtype)


def test_ipca_full_rank_is_exact_from_any_split():
    x = _data(n=30)
    full = np.linalg.svd(x - x.mean(0), full_matrices=False)[2]
    for lengths in random_partitions(30, count=4, seed=2):
        proc = _feed(IncrementalPCATransformer(IncrementalPCASettings(n_components=P)),
                     Backend.NUMPY, x, lengths)
        comps = proc.state.estimator.components
        np.testing.assert_allclose(_signed(comps.T, full.T), full.T, atol=1e-9)
        np.testing.assert_allclose(proc.state.estimator.mean, x.mean(0), atol=1e-12)


def test_ipca_whiten_and_named_axis(backend):
    """axis="ch" of a (ch, time, band) message: every (time, band) pair is an observation."""
    rng = np.random.default_rng(4)
    host = rng.standard_normal((P, 8, 3))
    proc = IncrementalPCATransformer(IncrementalPCASettings(axis="ch", n_components=2,
                                                            whiten=True))
    msg = AxisArray(backend.asarray(host), dims=["ch", "time", "band"],
                    axes={"time": AxisArray.TimeAxis(fs=10.0)})
    proc.partial_fit(msg)
    out = proc(msg)
    assert out.dims == ["time", "band", "ch"] and tuple(out.data.shape) == (8, 3, 2)
    obs = np.transpose(host, (1, 2, 0)).reshape(24, P)
    ref = skd.IncrementalPCA(n_components=2, whiten=True).partial_fit(obs)
    want = ref.transform(obs).reshape(8, 3, 2)
    got = to_host(out.data)
    s = np.sign(np.sum(got * want, axis=(0, 1)))
    tol = 1e-4 if not backend.supports_float64() else 1e-8
    np.testing.assert_allclose(got * s, want, rtol=tol, atol=tol)


def test_not_fitted_gives_none_until_enough_observations(caplog):
    x = _data()
    proc = IncrementalPCATransformer(IncrementalPCASettings(n_components=2))
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert proc(_msg(Backend.NUMPY, x[:4])) is None
        proc.partial_fit(_msg(Backend.NUMPY, x[:1]))  # fewer than n_components: kept
        assert proc(_msg(Backend.NUMPY, x[:4])) is None
    assert sum("no fitted model" in r.message for r in caplog.records) == 1
    proc.partial_fit(_msg(Backend.NUMPY, x[1:3]))  # fitted as one batch of 3
    ref = skd.IncrementalPCA(n_components=2).partial_fit(x[:3])
    np.testing.assert_allclose(np.abs(proc(_msg(Backend.NUMPY, x)).data), np.abs(ref.transform(x)),
                               atol=1e-9)
    with pytest.raises(ValueError, match="n_components"):
        IncrementalPCATransformer(IncrementalPCASettings(n_components=9)).partial_fit(
            _msg(Backend.NUMPY, x))


def test_rank_deficient_directions_are_zero_not_nan():
    x = np.repeat(_data(n=2), 2, axis=0)  # 4 rows, 2 distinct: rank 1 after centring
    proc = IncrementalPCATransformer(IncrementalPCASettings(n_components=3))
    proc.partial_fit(_msg(Backend.NUMPY, x))
    comps = proc.state.estimator.components
    assert np.all(np.isfinite(comps)) and np.allclose(comps[1:], 0.0)
    np.testing.assert_allclose(np.linalg.norm(comps[0]), 1.0)


@pytest.mark.parametrize("beta", ["frobenius", "kullback-leibler"])
@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.ARRAY_API_STRICT],
                         ids=["numpy-early-exit", "strict-portable"])
def test_nmf_equals_sklearn(beta, backend):
    """NumPy leaves the activation solve at convergence; the portable kernel freezes the
    converged iterate instead: both give scikit-learn's numbers."""
    x = _data(positive=True, seed=3)
    kw = {"n_components": 2, "random_state": 0, "max_iter": 60, "beta_loss": beta}
    proc = MiniBatchNMFTransformer(MiniBatchNMFSettings(**kw))
    ref = skd.MiniBatchNMF(init="random", **kw)
    for a, b in [(0, 15), (15, 16), (16, 40)]:
        proc.partial_fit(_msg(backend, x[a:b]))
        ref.partial_fit(x[a:b])
    np.testing.assert_allclose(to_host(proc.state.estimator.h), ref.components_, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(to_host(proc(_msg(backend, x)).data), ref.transform(x),
                               rtol=1e-9, atol=1e-12)


def test_nmf_every_backend(backend):
    x = _data(n=20, positive=True, seed=5)
    kw = {"n_components": 2, "random_state": 1, "max_iter": 10}
    proc = MiniBatchNMFTransformer(MiniBatchNMFSettings(**kw))
    ref = skd.MiniBatchNMF(init="random", **kw)
    proc.partial_fit(_msg(backend, x))
    ref.partial_fit(x)
    out = proc(_msg(backend, x, "float32"))
    # float32 through tens of multiplicative steps: ~1e-4 relative
    assert_close(out.data, ref.transform(x), xp=backend.xp, device=backend.device,
                 dtype="float32", rtol=2e-4, atol=2e-4 * np.abs(ref.transform(x)).max())
    with pytest.raises(ValueError, match="non-negative"):
        proc.partial_fit(_msg(backend, -x))


def test_feature_count_change_resets(caplog):
    proc = _feed(IncrementalPCATransformer(IncrementalPCASettings()), Backend.NUMPY, _data(),
                 [40])
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        assert proc(_msg(Backend.NUMPY, _data(p=3))) is None
    assert any("feature count changed from 5 to 3" in r.message for r in caplog.records)
    _feed(proc, Backend.NUMPY, _data(p=3), [10])
    assert tuple(proc(_msg(Backend.NUMPY, _data(n=4, p=3))).data.shape) == (4, 2)


@pytest.mark.parametrize("cls,settings", [
    (IncrementalPCATransformer, IncrementalPCASettings(n_components=2)),
    (MiniBatchNMFTransformer, MiniBatchNMFSettings(n_components=2, random_state=0,
                                                   max_iter=20)),
])
def test_pickle_resumes(backend, cls, settings):
    if cls is MiniBatchNMFTransformer and _heavy_compile(backend):
        pytest.skip("NMF's state is plain arrays; test_nmf_every_backend covers the backend")
    x = _data(positive=True, seed=7)
    whole = _feed(cls(settings=settings), backend, x, [10, 10, 20])
    half = _feed(cls(settings=settings), backend, x, [10, 10])
    resumed = cls(settings=settings)
    resumed.state = pickle.loads(pickle.dumps(half.state))
    _feed(resumed, backend, x[20:], [20])
    q = _msg(backend, x[:6])
    assert_close(resumed(q).data, whole(q).data, rtol=1e-5, atol=1e-6)


def test_empty_message_and_input_untouched(backend):
    x = _data()
    msg = _msg(backend, x)
    proc = IncrementalPCATransformer(IncrementalPCASettings())
    proc.partial_fit(msg)
    out = proc(_msg(backend, x[:0]))
    assert tuple(out.data.shape) == (0, 2) and out.dims == ["time", "ch"]
    assert_close(msg.data, x, xp=backend.xp, device=backend.device, dtype=x.dtype)


def test_settings_and_units():
    s = IncrementalPCASettings()
    assert (s.axis, s.n_components, s.whiten, s.batch_size) == (None, 2, False, None)
    n = MiniBatchNMFSettings()
    assert (n.init, n.batch_size, n.beta_loss, n.tol, n.max_no_improvement, n.max_iter,
            n.alpha_W, n.alpha_H, n.l1_ratio, n.forget_factor) == (
        "random", 1024, "frobenius", 1e-4, None, 200, 0.0, "same", 0.0, 0.7)
    assert AdaptiveDecompSettings().n_components == 2 and AdaptiveDecompState().estimator is None
    with pytest.raises(ValueError, match="^n_components"):
        AdaptiveDecompSettings(n_components=0)
    with pytest.raises(ValueError, match="^init"):
        MiniBatchNMFSettings(init="nndsvd")
    with pytest.raises(ValueError, match="^beta_loss"):
        MiniBatchNMFSettings(beta_loss="bogus")
    with pytest.raises(ValueError, match="^whiten"):
        IncrementalPCASettings(whiten="yes")
    with pytest.warns(FutureWarning):
        AdaptiveDecompSettings(axis="!time")
    assert IncrementalPCATransformer(settings=IncrementalPCASettings(whiten=True)).settings.whiten
    for unit in (IncrementalPCAUnit, MiniBatchNMFUnit):
        assert issubclass(unit, BaseAdaptiveDecompUnit)
        assert {"INPUT_SAMPLE", "INPUT_SIGNAL", "OUTPUT_SIGNAL"} <= set(unit.__streams__)


def test_unit_trains_on_samples_and_decomposes_signals():
    import asyncio

    x = _data()
    unit = IncrementalPCAUnit(IncrementalPCASettings(n_components=2))
    unit.create_processor()

    async def run():
        assert [o async for o in unit.on_signal(_msg(Backend.NUMPY, x[:3]))] == []
        assert await unit.on_sample(_msg(Backend.NUMPY, x)) is None
        return [o async for o in unit.on_signal(_msg(Backend.NUMPY, x[:3]))]

    (stream, out), = asyncio.run(run())
    ref = skd.IncrementalPCA(n_components=2).partial_fit(x)
    assert stream is unit.OUTPUT_SIGNAL
    np.testing.assert_allclose(np.abs(out.data), np.abs(ref.transform(x[:3])), atol=1e-9)


def test_non_finite_training_batches_are_skipped(caplog):
    x = _data()
    proc = _feed(IncrementalPCATransformer(IncrementalPCASettings()), Backend.NUMPY, x, [40])
    bad = x[:5].copy()
    bad[0, 0] = np.inf
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        proc.partial_fit(_msg(Backend.NUMPY, bad))
    assert any("NaN or infinite" in r.message for r in caplog.records)
    assert proc.state.estimator.n_seen == 40
    assert np.all(np.isfinite(proc(_msg(Backend.NUMPY, x)).data))
