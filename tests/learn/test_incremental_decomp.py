import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.learn.dim_reduce.incremental_decomp import (
    IncrementalDecompSettings,
    IncrementalDecompTransformer,
    IncrementalDecompUnit,
)
from ezmsg_sigproc_units.testing import Backend, assert_close

skd = pytest.importorskip("sklearn.decomposition")

FS = 10.0


def _data(n=80, p=4, seed=0):
    rng = np.random.default_rng(seed)
    return np.abs(rng.standard_normal((n, p)) @ rng.standard_normal((p, p)))


def _msgs(backend, x, step=10):
    return [AxisArray(backend.asarray(x[i:i + step]), dims=["time", "ch"],
                      axes={"time": AxisArray.TimeAxis(fs=FS, offset=i / FS)})
            for i in range(0, x.shape[0], step)]


@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.TORCH], ids=["numpy", "torch"])
def test_trains_on_first_message_then_on_windows(backend):
    if backend.unavailable_reason():
        pytest.skip(backend.unavailable_reason())
    x = _data()
    proc = IncrementalDecompTransformer(IncrementalDecompSettings(n_components=2,
                                                                  update_interval=2.0))
    outs = [proc(m) for m in _msgs(backend, x)]
    # sklearn on the same batches: the first message, then each 2 s (20-sample) window of
    # the stream after it, fitted before the message that completes it is decomposed
    ref = skd.IncrementalPCA(n_components=2).partial_fit(x[:10])
    scores = [ref.transform(x[:10])]
    for i in range(10, 80, 10):
        if i >= 20 and i % 20 == 0:
            ref.partial_fit(x[i - 10:i + 10])
        scores.append(ref.transform(x[i:i + 10]))
    for got, want in zip(outs, scores, strict=True):
        g = to_host(got.data)
        np.testing.assert_allclose(np.abs(g), np.abs(want), rtol=1e-8, atol=1e-8)
    assert proc._procs["decomp"].state.estimator.n_seen == 70


def test_without_update_interval_only_the_first_message_trains():
    x = _data()
    proc = IncrementalDecompTransformer(IncrementalDecompSettings())
    for m in _msgs(Backend.NUMPY, x):
        proc(m)
    assert proc._procs["decomp"].state.estimator.n_seen == 10
    assert set(proc._procs) == {"decomp"}


def test_nmf_method():
    x = _data(seed=2)
    proc = IncrementalDecompTransformer(IncrementalDecompSettings(method="nmf",
                                                                  update_interval=2.0))
    outs = [proc(m) for m in _msgs(Backend.NUMPY, x)]
    assert all(o.dims == ["time", "ch"] and o.data.shape == (10, 2) for o in outs)
    assert np.all(np.concatenate([o.data for o in outs]) >= 0)
    assert proc._procs["decomp"].state.estimator.n_steps == 4  # first message + 3 windows


def test_stateful_op_pickles_and_resumes():
    x = _data(seed=3)
    msgs = _msgs(Backend.NUMPY, x)
    s = IncrementalDecompSettings(n_components=2, update_interval=2.0)
    ref = IncrementalDecompTransformer(s)
    want = [ref(m) for m in msgs][-1]
    proc = IncrementalDecompTransformer(s)
    state = None
    for m in msgs[:4]:
        state, _ = proc.stateful_op(state, m)
    state = pickle.loads(pickle.dumps(state))
    proc2 = IncrementalDecompTransformer(s)
    for m in msgs[4:]:
        state, out = proc2.stateful_op(state, m)
    assert_close(out.data, want.data)


def test_settings():
    s = IncrementalDecompSettings()
    assert (s.axis, s.n_components, s.update_interval, s.method, s.batch_size, s.whiten,
            s.init, s.beta_loss, s.tol, s.alpha_W, s.alpha_H, s.l1_ratio, s.forget_factor) == (
        None, 2, 0.0, "pca", None, False, "random", "frobenius", 1e-3, 0.0, "same", 0.0, 0.7)
    with pytest.raises(ValueError, match="^method"):
        IncrementalDecompSettings(method="ica")
    with pytest.raises(ValueError, match="^update_interval"):
        IncrementalDecompSettings(update_interval=-1.0)
    assert IncrementalDecompUnit.SETTINGS is IncrementalDecompSettings


def test_unit_publishes_decompositions():
    import asyncio

    x = _data()
    unit = IncrementalDecompUnit(IncrementalDecompSettings(n_components=2, update_interval=2.0))
    unit.create_processor()

    async def run():
        return [o for m in _msgs(Backend.NUMPY, x) async for o in unit.on_signal(m)]

    outs = asyncio.run(run())
    assert len(outs) == 8 and all(s is unit.OUTPUT_SIGNAL for s, _ in outs)
    assert unit.processor._procs["decomp"].state.estimator.n_seen == 70
