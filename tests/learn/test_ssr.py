import logging
import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.learn.process.ssr import (
    LRRSettings,
    LRRTransformer,
    LRRUnit,
    SelfSupervisedRegressionSettings,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    random_partitions,
    split_message,
)
from ezmsg_sigproc_units.util.rereference import car_matrix

FS = 100.0
GROUPS = [[0, 1, 2, 5], [3, 4], [6, 7, 8, 9]]  # the second is too small: passes through


@pytest.fixture(params=[Backend.NUMPY, Backend.ARRAY_API_STRICT_DEVICE1],
                ids=lambda b: b.value)
def few(request):
    """NumPy and a non-default device: for the bookkeeping tests (the full backend grid runs
    the numerical ones, with the shapes kept alike so JAX compiles each solve once)."""
    return request.param


def _host(n=80, ch=10, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, ch))
    x[:, 5] += x[:, 0] - 0.5 * x[:, 2]  # channels that the others predict
    if ch > 9:
        x[:, 8] += 0.7 * x[:, 9]
    return x.astype(dtype)


def _msg(backend, host, dims=("time", "ch")):
    ch = AxisArray.CoordinateAxis(data=np.array([f"c{i}" for i in range(host.shape[1])]),
                                  dims=["ch"])
    data = backend.asarray(host) if backend is not None else host
    return AxisArray(data, dims=list(dims), axes={"time": AxisArray.TimeAxis(fs=FS), "ch": ch})


def _ref_weights(x, groups=None, lam=0.0):
    """Each channel's ridge regression on the others of its group, from the normal equations
    of the float64 data (groups under 3 channels: no prediction)."""
    x = x.astype(np.float64)
    n = x.shape[1]
    w = np.zeros((n, n))
    for g in groups or [list(range(n))]:
        if len(g) < 3:
            continue
        for c in g:
            r = [j for j in g if j != c]
            a = x[:, r]
            w[r, c] = np.linalg.solve(a.T @ a + lam * np.eye(len(r)), a.T @ x[:, c])
    return w


def _fit(proc, backend, host, sizes):
    for m in split_message(_msg(backend, host), sizes):
        proc.partial_fit(m)


def _one_jax_dtype(backend, dtype):
    """JAX compiles every solve once per shape and dtype (about a second each): float32 there
    (float64 runs the same portable path on the other backends)."""
    if backend is Backend.JAX and dtype == "float64":
        pytest.skip("JAX: float32 only (compile time); float64 covered elsewhere")


def _check_least_squares(backend, float_dtype, kw, groups):
    train, test = _host(dtype=float_dtype), _host(n=7, dtype=float_dtype, seed=1)
    proc = LRRTransformer(LRRSettings(**kw))
    _fit(proc, backend, train, [30, 0, 1, 49])
    w = _ref_weights(train, groups, kw.get("ridge_lambda", 0.0))
    out = proc(_msg(backend, test))
    rtol = 2e-3 if float_dtype == "float32" else 1e-9
    assert_close(out.data, test.astype(np.float64) @ (np.eye(10) - w), xp=backend.xp,
                 device=backend.device, dtype=float_dtype, rtol=rtol)
    assert_close(proc.current_weights, w, xp=backend.xp, device=backend.device,
                 dtype=float_dtype, rtol=rtol)
    assert np.all(np.diag(to_host(proc.current_weights)) == 0)  # exactly: no self-prediction
    assert out.dims == ["time", "ch"]


def test_lrr_is_each_channel_minus_its_least_squares_prediction(backend, float_dtype):
    _one_jax_dtype(backend, float_dtype)
    _check_least_squares(backend, float_dtype, {"channel_groups": GROUPS, "ridge_lambda": 2.0},
                         GROUPS)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("kw,groups", [({}, None),
                                       ({"block_size": 4}, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])])
def test_lrr_least_squares_one_group_and_blocks(few, dt, kw, groups):
    _check_least_squares(few, dt, kw, groups)


def test_any_split_of_the_training_samples_gives_the_same_weights():
    host = _host(n=40)
    whole = LRRTransformer(LRRSettings(channel_groups=GROUPS))
    _fit(whole, None, host, [40])
    for sizes in random_partitions(40, count=5, seed=3):  # empty and length-1 chunks
        proc = LRRTransformer(LRRSettings(channel_groups=GROUPS))
        _fit(proc, None, host, sizes)
        np.testing.assert_allclose(proc.current_weights, whole.current_weights, rtol=1e-10,
                                   atol=1e-12)
        assert proc.state.n_samples == 40


def test_solving_after_every_fit_or_once_is_the_same(few):
    host = _host(n=30)
    lazy, eager = LRRTransformer(LRRSettings()), LRRTransformer(LRRSettings())
    probe = _msg(few, host[:3])
    for m in split_message(_msg(few, host), [10, 10, 10]):
        lazy.partial_fit(m)
        eager.partial_fit(m)
        eager(probe)
    assert_close(lazy(probe).data, eager(probe).data)


def test_pickled_state_resumes_mid_training(few):
    host = _host(n=60)
    first, second = split_message(_msg(few, host), [25, 35])
    probe = _msg(few, host[:4])
    ref = LRRTransformer(LRRSettings(channel_groups=GROUPS))
    ref.partial_fit(first)
    ref(probe)  # the Affine stage exists in the pickled state
    saved = pickle.loads(pickle.dumps((ref.state, ref._hash)))
    ref.partial_fit(second)
    resumed = LRRTransformer(LRRSettings(channel_groups=GROUPS))
    resumed.state, resumed._hash = saved
    resumed.partial_fit(second)
    assert_close(resumed(probe).data, ref(probe).data)


def test_pickled_state_resumes_transforming(backend, float_dtype):
    _one_jax_dtype(backend, float_dtype)
    host = _host(n=40, dtype=float_dtype)

    def make():
        proc = LRRTransformer(LRRSettings(channel_groups=GROUPS))
        proc.partial_fit(_msg(backend, _host(n=50, dtype=float_dtype, seed=4)))
        return proc

    assert_pickle_resumes(make, _msg(backend, host), split_at=13)


def test_fitted_transform_chunked_equals_whole(few):
    train, host = _host(n=50), _host(n=24, seed=8)

    def make():
        proc = LRRTransformer(LRRSettings(channel_groups=GROUPS))
        proc.partial_fit(_msg(few, train))
        return proc

    ref = host @ (np.eye(10) - _ref_weights(train, GROUPS))
    assert_chunked_equals_whole(make, _msg(few, host), reference=ref)


def test_rank_deficient_training_is_regularised_and_warned(backend, caplog):
    dt = "float32" if backend is Backend.JAX or not backend.supports_float64() else "float64"
    host = _host(n=3, ch=8, dtype=dt)
    host[:, 6] = 0.0  # a silent channel as well
    proc = LRRTransformer(LRRSettings())
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        proc.partial_fit(_msg(backend, host[:1]))  # one sample, eight channels
        out = proc(_msg(backend, host))
        w = proc.current_weights  # off NumPy, the warning waits for a read off the hot path
    assert "ill-conditioned" in caplog.text
    assert np.all(np.isfinite(to_host(w))) and np.all(np.isfinite(to_host(out.data)))
    assert np.abs(to_host(w)[6, :]).max() < 1e-3 and np.abs(to_host(w)[:, 6]).max() < 1e-3
    # More samples than channels again: the exact least-squares solution, no ridge left.
    more = _host(n=60, ch=8, seed=2, dtype=dt)
    proc.partial_fit(_msg(backend, more))
    assert_close(proc.current_weights, _ref_weights(np.concatenate([host[:1], more])),
                 xp=backend.xp, device=backend.device, dtype=dt,
                 atol=1e-6 if dt == "float64" else 1e-4, rtol=1e-3 if dt == "float32" else None)


def test_ill_conditioned_float32_never_gives_nan(few):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((40, 1))
    host = (base + 1e-6 * rng.standard_normal((40, 6))).astype("float32")  # collinear
    proc = LRRTransformer(LRRSettings())
    proc.partial_fit(_msg(few, host))
    assert np.all(np.isfinite(to_host(proc(_msg(few, host)).data)))


def test_cold_start_identity_and_car(few):
    host = _host(n=6)
    out = LRRTransformer(LRRSettings())(_msg(few, host))
    assert_close(out.data, host, xp=few.xp, device=few.device, dtype=host.dtype)
    out = LRRTransformer(LRRSettings(init_default="car", channel_groups=GROUPS))(
        _msg(few, host))
    car = car_matrix(10, groups=GROUPS, include_current=False, min_reref_size=3)
    assert_close(out.data, host @ car, xp=few.xp, device=few.device, dtype=host.dtype)


def test_cold_start_then_fit_applies_the_fit(few):
    host = _host(n=40)
    proc = LRRTransformer(LRRSettings(channel_groups=GROUPS))
    proc(_msg(few, host[:2]))
    proc.partial_fit(_msg(few, host))
    out = proc(_msg(few, host[:5]))
    ref = host[:5] @ (np.eye(10) - _ref_weights(host, GROUPS))
    assert_close(out.data, ref, xp=few.xp, device=few.device, dtype=host.dtype)


def test_fit_before_the_first_message_is_kept(few):
    host = _host(n=40)
    proc = LRRTransformer(LRRSettings())
    proc.fit(host)  # NumPy, before any message
    out = proc(_msg(few, host[:5]))
    ref = host[:5] @ (np.eye(10) - _ref_weights(host))
    assert_close(out.data, ref, xp=few.xp, device=few.device, dtype=host.dtype)


def test_given_weights_and_csv_file(tmp_path):
    host = _host(n=5)
    w = np.random.default_rng(7).standard_normal((10, 10))
    np.fill_diagonal(w, 0.0)
    path = tmp_path / "w.csv"
    np.savetxt(path, w, delimiter=",")
    for weights in (w, str(path)):
        out = LRRTransformer(LRRSettings(weights=weights, channel_groups=GROUPS))(
            _msg(None, host))
        np.testing.assert_allclose(out.data, host @ (np.eye(10) - w), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="weights"):
        LRRTransformer(LRRSettings(weights=np.zeros((3, 3))))(_msg(None, host))


def test_non_finite_batches_are_skipped_and_incremental_false_replaces(few):
    good, other = _host(n=30), _host(n=30, seed=6)
    bad = good.copy()
    bad[3, 2] = np.nan
    proc = LRRTransformer(LRRSettings())
    proc.partial_fit(_msg(few, good))
    proc.partial_fit(_msg(few, bad))
    assert proc.state.n_samples == 30
    proc = LRRTransformer(LRRSettings(incremental=False))
    proc.partial_fit(_msg(few, good))
    proc.partial_fit(_msg(few, other))
    assert_close(proc.current_weights, _ref_weights(other), xp=few.xp,
                 device=few.device, dtype=proc.current_weights.dtype, atol=1e-5)


def test_channel_count_change_resets_with_a_log_line(caplog):
    proc = LRRTransformer(LRRSettings())
    proc.partial_fit(_msg(None, _host(n=30)))
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        proc.partial_fit(_msg(None, _host(n=30, ch=6)))
    assert "feature count changed from 10 to 6" in caplog.text
    assert proc.current_weights.shape == (6, 6) and proc.state.n_samples == 30


def test_channel_axis_first_and_field_groups():
    host = _host(n=40)
    rec = np.zeros(10, dtype=[("label", "U4"), ("bank", "i4")])
    rec["bank"] = [0, 0, 0, 1, 1, 0, 2, 2, 2, 2]
    msg = AxisArray(np.ascontiguousarray(host.T), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS),
                          "ch": AxisArray.CoordinateAxis(data=rec, dims=["ch"])})
    proc = LRRTransformer(LRRSettings(axis="ch", channel_groups="bank"))
    proc.partial_fit(msg)
    out = proc(msg)
    ref = host @ (np.eye(10) - _ref_weights(host, GROUPS))
    np.testing.assert_allclose(out.data, ref.T, rtol=1e-9, atol=1e-9)


def test_zero_channels_pass_through():
    msg = _msg(None, np.zeros((4, 0)))
    proc = LRRTransformer(LRRSettings())
    proc.partial_fit(msg)
    assert proc(msg) is msg


@pytest.mark.parametrize("field,value", [("ridge_lambda", -1.0), ("block_size", 0),
                                         ("incremental", 1), ("check_finite", "yes"),
                                         ("axis", ""), ("channel_groups", [[0, 1], [1, 2]]),
                                         ("kernel", "sparse"), ("init_default", "median")])
def test_settings_reject_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        LRRSettings(**{field: value})


def test_empty_group_list_is_refused():
    with pytest.raises(ValueError, match="channel_groups"):
        LRRTransformer(LRRSettings(channel_groups=[]))(_msg(None, _host(n=3)))


def test_defaults_are_the_peers():
    s = LRRSettings()
    assert (s.weights, s.axis, s.channel_groups, s.block_size, s.ridge_lambda, s.incremental,
            s.check_finite, s.kernel, s.init_default) == (None, None, None, None, 0.0, True,
                                                          True, "auto", "identity")
    assert issubclass(LRRSettings, SelfSupervisedRegressionSettings)
    assert LRRUnit.SETTINGS is LRRSettings and hasattr(LRRUnit, "INPUT_SAMPLE")


def test_unit_trains_on_samples_and_rereferences_signals():
    """The Unit's tasks, called as ezmsg calls them: a sample trains (nothing published), a
    signal is rereferenced with the fitted weights."""
    import asyncio

    host = _host(n=40)
    unit = LRRUnit(LRRSettings())
    unit.create_processor()

    async def run():
        assert await unit.on_sample(_msg(None, host)) is None
        return [out async for out in unit.on_signal(_msg(None, host[:5]))]

    (stream, out), = asyncio.run(run())
    assert stream is unit.OUTPUT_SIGNAL
    np.testing.assert_allclose(out.data, host[:5] @ (np.eye(10) - _ref_weights(host)),
                               rtol=1e-9, atol=1e-12)
    assert set(LRRUnit.__tasks__) == {"on_settings", "on_signal", "on_sample"}
