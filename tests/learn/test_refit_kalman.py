"""ReFIT Kalman filter (model and processor) against first-principles references: least
squares for A/W/H/Q, scipy.linalg.solve_discrete_are for the gain, a plain per-sample Kalman
recursion in float64 NumPy for the filter, a per-sample loop for the intention remapping."""

from __future__ import annotations

import asyncio
import logging
import pickle
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
import scipy.linalg as sl
from ezmsg.baseproc import SampleTriggerMessage
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import kalman
from ezmsg_sigproc_units.learn.model.refit_kalman import RefitKalmanFilter
from ezmsg_sigproc_units.learn.process.refit_kalman import (
    RefitKalmanFilterProcessor,
    RefitKalmanFilterSettings,
    RefitKalmanFilterState,
    RefitKalmanFilterUnit,
)
from ezmsg_sigproc_units.learn.util import NotFittedError
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

M, S, FS = 6, 4, 50.0


def _data(n=160, seed=0):
    """Position/velocity states (n, 4) and noisy linear features (n, M), float64."""
    rng = np.random.default_rng(seed)
    vel = np.zeros((n, 2))
    for t in range(1, n):
        vel[t] = 0.9 * vel[t - 1] + 0.3 * rng.standard_normal(2)
    pos = np.cumsum(vel, axis=0) * 0.1
    x = np.hstack([pos, vel])
    z = x @ rng.standard_normal((S, M)) + 0.5 * rng.standard_normal((n, M))
    return x, z


def _lstsq_model(x, z):
    """A, W, H, Q by least squares (ezmsg-learn's definitions, noise scales 1 and 1.2)."""
    a = np.linalg.lstsq(x[:-1], x[1:], rcond=None)[0].T
    w = (x[1:] - x[:-1] @ a.T).T @ (x[1:] - x[:-1] @ a.T) / (len(x) - 1)
    h = np.linalg.lstsq(x, z, rcond=None)[0].T
    q = (z - x @ h.T).T @ (z - x @ h.T) / len(x) * 1.2
    return a, w, h, q


def _gain(a, w, h, q):
    p = sl.solve_discrete_are(a.T, h.T, w, q)
    return p @ h.T @ np.linalg.inv(h @ p @ h.T + q), p


def _ref_filter(a, w, h, q, z, steady):
    """The textbook recursion, one sample at a time, float64."""
    k, p = _gain(a, w, h, q)
    x, out = np.zeros(a.shape[0]), []
    for zt in z:
        xp_ = a @ x
        if not steady:
            pp = a @ p @ a.T + w
            k = pp @ h.T @ np.linalg.inv(h @ pp @ h.T + q)
            ikh = np.eye(len(x)) - k @ h
            p = ikh @ pp @ ikh.T + k @ q @ k.T
        x = xp_ + k @ (zt - h @ xp_)
        out.append(x)
    return np.array(out)


def _msg(backend, host, dtype="float64"):
    ch = AxisArray.CoordinateAxis(data=np.array([f"c{i}" for i in range(host.shape[1])]),
                                  dims=["ch"])
    return AxisArray(backend.asarray(host.astype(dtype)), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=1.0), "ch": ch}, key="k")


def _sample(msg, value):
    return AxisArray(msg.data, dims=msg.dims, axes=msg.axes, key=msg.key,
                     attrs={"trigger": SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0),
                                                            value=value)})


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    x, z = _data()
    a, w, h, q = _lstsq_model(x[:120], z[:120])
    path = tmp_path_factory.mktemp("kalman") / "ckpt.pkl"
    with open(path, "wb") as f:  # ezmsg-learn's checkpoint layout
        pickle.dump({"A_state_transition_matrix": a, "W_process_noise_covariance": w,
                     "H_observation_matrix": h, "Q_measurement_noise_covariance": q}, f)
    return {"x": x, "z": z, "abwq": (a, w, h, q), "ckpt": str(path)}


def _skip_jax(backend, why):
    """JAX compiles every operation for each new shape and dtype (seconds per test): its
    coverage is the fit, filter and remap tests; the others repeat the same kernels."""
    if backend.value == "jax":
        pytest.skip(f"jax: {why} (same kernels as the fit and filter tests)")


def test_fit_equals_least_squares_and_scipy_gain(backend, float_dtype):
    if float_dtype == "float64":
        _skip_jax(backend, "float64")
    x, z = _data()
    a, w, h, q = _lstsq_model(x, z)
    k, p = _gain(a, w, h, q)
    model = RefitKalmanFilter(steady_state=True)
    model.fit(backend.asarray(z.astype(float_dtype)), backend.asarray(x.astype(float_dtype)))
    tol = {"rtol": 2e-3} if float_dtype == "float32" else {"rtol": 1e-8}
    for got, ref in ((model.A_state_transition_matrix, a), (model.W_process_noise_covariance, w),
                     (model.H_observation_matrix, h), (model.Q_measurement_noise_covariance, q),
                     (model.K_kalman_gain, k), (model.P_state_covariance, p)):
        assert_close(got, ref, xp=backend.xp, device=backend.device, dtype=float_dtype, **tol)
    assert model.is_fitted


@pytest.mark.parametrize("steady", [True, False])
def test_filter_chunked_equals_whole_and_reference(backend, float_dtype, steady, reference):
    if float_dtype == "float64":
        _skip_jax(backend, "float64")
    a, w, h, q = reference["abwq"]
    zs = reference["z"][120:]
    ref = _ref_filter(a, w, h, q, zs, steady)

    def make():
        return RefitKalmanFilterProcessor(RefitKalmanFilterSettings(
            checkpoint_path=reference["ckpt"], steady_state=steady))

    tol = {"rtol": 1e-4} if float_dtype == "float32" else {"rtol": 1e-9}
    # Other backends: one split (empty and length-1 chunks); each chunk length is a compile.
    parts = None if backend.value == "numpy" else [[0, 1, 0, len(zs) - 1]]
    assert_chunked_equals_whole(make, _msg(backend, zs, float_dtype), reference=ref,
                                partitions=parts, **tol)


@pytest.mark.parametrize("steady", [True, False])
def test_pickle_resumes(backend, steady, reference):
    _skip_jax(backend, "pickling")
    def make():
        return RefitKalmanFilterProcessor(RefitKalmanFilterSettings(
            checkpoint_path=reference["ckpt"], steady_state=steady))

    assert_pickle_resumes(make, _msg(backend, reference["z"][120:], "float32"), split_at=13,
                          rtol=1e-5)


def _remap_loop(y, cur, tgt, hold, vel):
    """ReFIT's intended states, one sample at a time (Gilja et al. 2012)."""
    out = y.copy()
    for i in range(len(y)):
        if hold[i]:
            out[i, vel:vel + 2] = 0.0
            if i > 0:
                out[i, :2] = out[i - 1, :2]
            continue
        d = tgt[i] - cur[i]
        dist = np.hypot(*d)
        if dist > 1e-5:
            out[i, vel:vel + 2] = d / dist * np.hypot(*y[i, vel:vel + 2])
    return out


def _remap_case(n=40, seed=4):
    rng = np.random.default_rng(seed)
    tgt, cur = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    cur[5] = tgt[5]  # at the target: velocity kept
    hold = rng.random(n) < 0.4
    hold[0] = hold[1] = hold[2] = True  # a run of holds at the start keeps row 0's position
    hold[20:24] = True
    hold[5] = False
    return tgt, cur, hold


@pytest.mark.parametrize("vel", [2, 0, 1])
def test_remap_kernel_equals_the_loop(backend, vel):
    x, _ = _data(n=40, seed=3)
    tgt, cur, hold = _remap_case()
    dt = "float64" if backend.supports_float64() else "float32"
    xp = backend.xp
    got = kalman.remap_intention(xp, backend.asarray(x, dt), backend.asarray(cur, dt),
                                 backend.asarray(tgt, dt),
                                 backend.asarray(hold.astype(dt)) != 0, vel)
    assert_close(got, _remap_loop(x, cur, tgt, hold, vel), xp=xp, device=backend.device,
                 dtype=dt, rtol=1e-5 if dt == "float32" else 1e-12)


def test_refit_remaps_intention_like_the_loop(backend):
    _skip_jax(backend, "refit")
    x, z = _data(n=90, seed=3)
    n = 40
    tgt, cur, hold = _remap_case(n)
    intended = _remap_loop(x[50:], cur, tgt, hold, 2)
    h_ref = np.linalg.lstsq(intended, z[50:], rcond=None)[0].T
    q_ref = (z[50:] - intended @ h_ref.T).T @ (z[50:] - intended @ h_ref.T) / n
    a, w, _, _ = _lstsq_model(x[:50], z[:50])
    model = RefitKalmanFilter(steady_state=True)
    model.fit(backend.asarray(z[:50]), backend.asarray(x[:50]))
    model.refit(backend.asarray(z[50:]), backend.asarray(x[50:]), [2], backend.asarray(tgt),
                backend.asarray(cur), backend.asarray(hold.astype("float32")))
    dt = "float64" if backend.supports_float64() else "float32"
    tol = {"rtol": 1e-8} if dt == "float64" else {"rtol": 2e-3}
    assert_close(model.H_observation_matrix, h_ref, xp=backend.xp, device=backend.device,
                 dtype=dt, **tol)
    assert_close(model.Q_measurement_noise_covariance, q_ref, xp=backend.xp,
                 device=backend.device, dtype=dt, **tol)
    assert_close(model.A_state_transition_matrix, a, xp=backend.xp, device=backend.device,
                 dtype=dt, **tol)  # refit keeps the transition model
    k, _ = _gain(a, w * 1.0, h_ref, q_ref)
    assert_close(model.K_kalman_gain, k, xp=backend.xp, device=backend.device, dtype=dt,
                 **tol)


def test_partial_fit_fits_then_refits():
    x, z = _data()
    proc = RefitKalmanFilterProcessor(RefitKalmanFilterSettings(steady_state=True))
    first = _msg(_np(), z[:100])
    targets = AxisArray(x[:100], dims=["time", "state"])
    proc.partial_fit(_sample(first, targets))  # an AxisArray of states: full fit
    ref = RefitKalmanFilter(steady_state=True)
    ref.fit(z[:100], x[:100])
    model = proc.state.model
    np.testing.assert_allclose(model.A_state_transition_matrix, ref.A_state_transition_matrix)
    np.testing.assert_allclose(model.K_kalman_gain, ref.K_kalman_gain)
    # ezmsg-learn's dict: refit of H and Q; A kept
    a_before = model.A_state_transition_matrix
    proc.partial_fit(_sample(_msg(_np(), z[100:]), {"Y_state": x[100:], "hold_flags": None}))
    np.testing.assert_array_equal(model.A_state_transition_matrix, a_before)
    ref.refit(z[100:], x[100:])
    np.testing.assert_allclose(model.H_observation_matrix, ref.H_observation_matrix)
    out = proc(_msg(_np(), z[:7]))
    assert out.dims == ["time", "state"] and out.data.shape == (7, S)
    assert out.key == "k_filtered"
    with pytest.raises(ValueError, match="Y_state"):
        proc.partial_fit(_sample(first, {"states": x[:100]}))
    with pytest.raises(ValueError, match="trigger"):
        proc.partial_fit(first)


def _np():
    from ezmsg_sigproc_units.testing import Backend

    return Backend.NUMPY


def test_predict_before_fit_returns_none_and_warns(caplog):
    proc = RefitKalmanFilterProcessor()
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert proc(_msg(_np(), _data()[1][:5])) is None
        assert proc(_msg(_np(), _data()[1][:5])) is None
    assert sum("no fitted model" in r.message for r in caplog.records) == 1
    model = RefitKalmanFilter()
    with pytest.raises(NotFittedError):
        model.predict(np.zeros(S))


def test_singular_noise_is_regularised_never_nan(backend, caplog):
    _skip_jax(backend, "regularisation")
    x, z = _data(n=12, seed=5)
    z = np.hstack([z, np.zeros((12, 1)), z[:, :1]])  # a flat and a duplicated channel
    z = np.hstack([z, np.random.default_rng(1).standard_normal((12, 10))])  # n - s < m
    x, z = x.astype("float32"), z.astype("float32")
    proc = RefitKalmanFilterProcessor(RefitKalmanFilterSettings(steady_state=False))
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        proc.partial_fit(_sample(_msg(backend, z, "float32"),
                                 AxisArray(backend.asarray(x), dims=["time", "state"])))
        assert any("Q ridged" in r.message for r in caplog.records)
        assert np.isfinite(to_host(proc(_msg(backend, z, "float32")).data)).all()
        # one sample whose states are all 0: H = 0 and no stabilising Riccati solution
        proc.partial_fit(_sample(_msg(backend, z[:1], "float32"),
                                 {"Y_state": backend.asarray(x[:1])}))
    model = proc.state.model
    assert_close(model.P_state_covariance, np.eye(S), xp=backend.xp, device=backend.device,
                 dtype="float32")
    assert np.isfinite(to_host(proc(_msg(backend, z, "float32")).data)).all()
    assert np.isfinite(to_host(model.K_kalman_gain)).all()
    one = RefitKalmanFilter()
    one.fit(backend.asarray(z[1:2]), backend.asarray(x[1:2]))  # a single sample
    assert np.isfinite(to_host(one.K_kalman_gain)).all()


def test_feature_count_change_resets_model(caplog, reference):
    proc = RefitKalmanFilterProcessor(RefitKalmanFilterSettings(
        checkpoint_path=reference["ckpt"]))
    assert proc(_msg(_np(), reference["z"][:5])) is not None
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        assert proc(_msg(_np(), reference["z"][:5, :M - 1])) is None
    assert any("feature count changed from 6 to 5" in r.message for r in caplog.records)
    assert not proc.state.model.is_fitted


def test_checkpoint_round_trip_and_input_untouched(tmp_path, reference):
    msg = _msg(_np(), reference["z"][120:])
    before = msg.data.copy()
    proc = RefitKalmanFilterProcessor(RefitKalmanFilterSettings(steady_state=True))
    proc.fit(reference["z"][:120], reference["x"][:120])
    out = proc(msg)
    proc.save_checkpoint(str(tmp_path / "sub" / "c.pkl"))
    with open(tmp_path / "sub" / "c.pkl", "rb") as f:
        assert all(type(v) is np.ndarray for v in pickle.load(f).values())
    again = RefitKalmanFilterProcessor(RefitKalmanFilterSettings(
        checkpoint_path=str(tmp_path / "sub" / "c.pkl"), steady_state=True))
    np.testing.assert_allclose(again(msg).data, out.data, rtol=1e-12)
    np.testing.assert_array_equal(msg.data, before)
    with pytest.raises(ValueError, match="checkpoint"):
        RefitKalmanFilterProcessor().save_checkpoint(str(tmp_path / "x.pkl"))


def test_log_for_refit_then_refit_model(reference):
    x, z = reference["x"], reference["z"]
    proc = RefitKalmanFilterProcessor(RefitKalmanFilterSettings(velocity_indices=(2, 3)))
    proc.fit(z[:120], x[:120])
    rng = np.random.default_rng(7)
    zs, states, tg, cu, hold = [], [], [], [], []
    for t in range(120, 150):
        m = _msg(_np(), z[t:t + 2])
        proc(m)
        tg.append(rng.standard_normal(2))
        cu.append(rng.standard_normal(2))
        hold.append(bool(t % 5 == 0))
        zs.append(z[t + 1])
        states.append(np.array(proc.state.x))
        proc.log_for_refit(m, tg[-1], hold[-1], cursor_position=cu[-1])
    ref = RefitKalmanFilter()
    ref.fit(z[:120], x[:120])
    ref.refit(np.array(zs), np.array(states), 2, np.array(tg), np.array(cu), np.array(hold))
    proc.refit_model()
    np.testing.assert_allclose(proc.state.model.H_observation_matrix, ref.H_observation_matrix,
                               rtol=1e-10)
    assert proc.state.buffer_neural == []
    proc.refit_model()  # nothing buffered: no change, no error


def test_model_predict_update_one_step(reference):
    a, w, h, q = reference["abwq"]
    z = reference["z"][120:123]
    for steady in (True, False):
        model = RefitKalmanFilter(A_state_transition_matrix=a, W_process_noise_covariance=w,
                                  H_observation_matrix=h, Q_measurement_noise_covariance=q,
                                  steady_state=steady)
        model._compute_gain()
        x = np.zeros(S)
        for zt in z:
            x_pred, p_pred = model.predict(x)
            assert (p_pred is None) == steady
            x = model.update(zt, x_pred, p_pred)
        np.testing.assert_allclose(x, _ref_filter(a, w, h, q, z, steady)[-1], rtol=1e-9)


def test_settings_and_state_defaults():
    s = RefitKalmanFilterSettings()
    assert (s.checkpoint_path, s.steady_state, s.velocity_indices) == (None, False, (2, 3))
    for bad in ({"steady_state": 1}, {"velocity_indices": (2,)},
                {"velocity_indices": (-1, 0)}, {"checkpoint_path": 3}):
        with pytest.raises(ValueError, match=f"^{next(iter(bad))}"):
            RefitKalmanFilterSettings(**bad)
    st = RefitKalmanFilterState()
    assert st.model is None and st.x is None
    assert RefitKalmanFilterUnit.SETTINGS is RefitKalmanFilterSettings


# ------------------------------------------------------------------- a real ezmsg graph
class _GraphSettings(ez.Settings):
    path: str = ""


def _graph_data():
    x, z = _data()
    train = _msg(_np(), z[:120])
    sample = _sample(train, AxisArray(x[:120], dims=["time", "state"]))
    tests = [AxisArray(z[120 + 5 * k:125 + 5 * k], dims=["time", "ch"], key="k",
                       axes={"time": AxisArray.TimeAxis(fs=FS, offset=10.0 + k * 5 / FS),
                             "ch": train.axes["ch"]}) for k in range(8)]
    return sample, tests


class _Source(ez.Unit):
    """One training sample, then test messages every 50 ms."""

    SAMPLE = ez.OutputStream(AxisArray)
    SIGNAL = ez.OutputStream(AxisArray)

    @ez.publisher(SAMPLE)
    async def sample(self):
        yield self.SAMPLE, _graph_data()[0]

    @ez.publisher(SIGNAL)
    async def signal(self):
        await asyncio.sleep(0.3)  # after the training sample
        for msg in _graph_data()[1]:
            yield self.SIGNAL, msg
            await asyncio.sleep(0.05)


class _Sink(ez.Unit):
    SETTINGS = _GraphSettings
    INPUT = ez.InputStream(AxisArray)

    async def initialize(self) -> None:
        self.got = []

    @ez.subscriber(INPUT)
    async def on_msg(self, msg: AxisArray) -> None:
        self.got.append(np.array(msg.data, copy=True))
        if len(self.got) == 3:
            with open(self.SETTINGS.path, "wb") as f:
                pickle.dump(self.got, f)
            raise ez.NormalTermination


@pytest.mark.slow
def test_unit_learns_from_its_sample_stream_in_a_graph(tmp_path):
    from examples.common import Watchdog, WatchdogSettings
    from ezmsg_sigproc_units.testing.graph import free_port

    path = tmp_path / "out.pkl"
    src, sink = _Source(), _Sink(_GraphSettings(path=str(path)))
    unit = RefitKalmanFilterUnit(RefitKalmanFilterSettings(steady_state=True))
    ez.run(components={"SRC": src, "KF": unit, "SINK": sink,
                       "WATCHDOG": Watchdog(WatchdogSettings(seconds=20.0))},
           connections=((src.SAMPLE, unit.INPUT_SAMPLE), (src.SIGNAL, unit.INPUT_SIGNAL),
                        (unit.OUTPUT_SIGNAL, sink.INPUT)),
           root_name=f"RKF_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    assert path.exists(), "the decoded messages never all arrived"
    sample, tests = _graph_data()
    proc = RefitKalmanFilterProcessor(RefitKalmanFilterSettings(steady_state=True))
    proc.partial_fit_transform(sample)  # what the Unit does with INPUT_SAMPLE (decodes it too)
    for got, msg in zip(pickle.loads(path.read_bytes()), tests, strict=False):
        np.testing.assert_allclose(got, proc(msg).data, rtol=1e-12)
