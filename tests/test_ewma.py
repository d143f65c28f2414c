import pickle

import numpy as np
import pytest
import scipy.signal as ss
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.ewma import (
    EWMA_Deprecated,
    EWMASettings,
    EWMAState,
    EWMATransformer,
    EWMAUnit,
    _alpha_from_tau,
    _tau_from_alpha,
    ewma_step,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

FS = 50.0
TAU = 0.1


def _host(n=40, ch=3, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, dims=("time", "ch"), fs=FS):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=1.0)})


def _ref(host, tau=TAU, fs=FS, zi=None, n0=0):
    """Offline float64: zero-initialised lfilter divided by 1 - (1 - alpha)^t."""
    a = 1 - np.exp(-1 / (fs * tau))
    x = host.astype(np.float64)
    y = ss.lfilter([a], [1, a - 1], x, axis=0,
                   zi=np.zeros((1, x.shape[1])) if zi is None else zi)[0]
    t = n0 + np.arange(1, x.shape[0] + 1)
    return y / (1 - (1 - a) ** t)[:, None]


def _make(**kw):
    return lambda: EWMATransformer(EWMASettings(time_constant=TAU, **kw))


def test_chunked_equals_whole_and_reference(backend, float_dtype):
    host = _host(dtype=float_dtype)
    assert_chunked_equals_whole(_make(), _msg(backend, host), reference=_ref(host))


def test_first_output_is_the_first_sample(backend):
    host = _host(n=5)
    out = _make()()(_msg(backend, host))
    assert_close(out.data[:1, ...], host[:1], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_pickle_resumes(backend, float_dtype):
    host = _host(dtype=float_dtype, seed=1)
    assert_pickle_resumes(_make(), _msg(backend, host), split_at=17)


def test_long_stream_past_the_bias_settling(backend):
    """fs * tau = 2: the correction becomes 1 after ~40 samples and is skipped from then."""
    host = _host(n=160, ch=2, seed=2, dtype="float32")
    proc = EWMATransformer(EWMASettings(time_constant=0.04))
    outs = [proc(m) for m in (_msg(backend, host[i: i + 40]) for i in range(0, 160, 40))]
    got = backend.xp.concat([o.data for o in outs], axis=0)
    assert proc.state.n_seen == 160 and proc.state.n_seen > proc.state.settle_n
    assert_close(got, _ref(host, tau=0.04), xp=backend.xp, device=backend.device,
                 dtype="float32")


def test_axis_none_follows_stream_dim_and_other_layouts(backend):
    host = _host(n=12)
    msg = AxisArray(backend.asarray(np.ascontiguousarray(host.T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = _make()()(msg)
    assert_close(out.data, _ref(host).T, xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    cube = np.random.default_rng(3).standard_normal((2, 12, 3))
    msg = AxisArray(backend.asarray(cube), dims=["a", "win", "b"],
                    axes={"win": AxisArray.LinearAxis(gain=1 / FS)}, stream_dim="win")
    out = _make()()(msg)
    ref = np.stack([_ref(cube[i]) for i in range(2)])
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=cube.dtype)


def test_accumulate_false_applies_without_updating(backend):
    host = _host(n=30)
    proc = _make()()
    proc(_msg(backend, host[:10]))
    zi, n_seen = proc.state.zi, proc.state.n_seen
    proc.update_settings(EWMASettings(time_constant=TAU, accumulate=False))
    frozen = proc(_msg(backend, host[10:20]))
    again = proc(_msg(backend, host[10:20]))
    assert proc.state.n_seen == n_seen and proc.state.zi is zi
    assert_close(frozen.data, again.data)
    whole = _ref(host)
    assert_close(frozen.data, whole[10:20], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    proc.update_settings(EWMASettings(time_constant=TAU, accumulate=True))
    out = proc(_msg(backend, host[10:30]))  # no reset: continues from sample 10
    assert_close(out.data, whole[10:30], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


@pytest.mark.parametrize("reset_on_resume", [False, True])
def test_passthrough(backend, reset_on_resume):
    host = _host(n=30)
    proc = _make(reset_on_resume=reset_on_resume)()
    proc(_msg(backend, host[:10]))
    proc.update_settings(EWMASettings(time_constant=TAU, passthrough=True,
                                      reset_on_resume=reset_on_resume))
    gap = _msg(backend, host[10:20])
    assert proc(gap) is gap
    assert proc.state.n_seen == 10
    proc.update_settings(EWMASettings(time_constant=TAU, reset_on_resume=reset_on_resume))
    out = proc(_msg(backend, host[20:30]))
    if reset_on_resume:
        ref = _ref(host[20:30])
    else:
        a = _alpha_from_tau(TAU, 1 / FS)
        zi = ss.lfilter([a], [1, a - 1], host[:10], axis=0, zi=np.zeros((1, 3)))[1]
        ref = _ref(host[20:30], zi=zi, n0=10)
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_empty_first_chunk(backend):
    host = _host(n=8)
    proc = _make()()
    out = proc(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (0, 3)
    out = proc(_msg(backend, host))
    assert_close(out.data, _ref(host), xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_integer_input_is_computed_in_float(backend):
    host = np.arange(12, dtype="int32").reshape(6, 2)
    out = _make()()(_msg(backend, host))
    dt = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, _ref(host), xp=backend.xp, device=backend.device, dtype=dt)


def test_input_not_mutated_and_state_not_a_view():
    host = _host(n=8)
    data = host.copy()
    msg = AxisArray(data, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)})
    proc = _make()()
    proc(msg)
    np.testing.assert_array_equal(data, host)
    zi = np.array(proc.state.zi, copy=True)
    data[:] = 1e6
    np.testing.assert_array_equal(proc.state.zi, zi)


def test_missing_axis_and_axis_without_period_raise(backend):
    with pytest.raises(ValueError, match=r"'nope'.*\['time', 'ch'\]"):
        EWMATransformer(EWMASettings(axis="nope"))(_msg(backend, _host(n=3)))
    msg = AxisArray(backend.asarray(_host(n=3)), dims=["time", "ch"])
    with pytest.raises(ValueError, match="^time_constant.*'time'"):
        _make()()(msg)


def test_settings_validation():
    for bad in (0.0, -1.0, float("inf"), float("nan"), "1"):
        with pytest.raises(ValueError, match="^time_constant"):
            EWMASettings(time_constant=bad)
    with pytest.raises(ValueError, match="^axis"):
        EWMASettings(axis=3)
    for bad in ((), (0,), (32, 2048)):
        with pytest.raises(ValueError, match="^mlx_metal_chunk_sizes"):
            EWMASettings(mlx_metal_chunk_sizes=bad)
    s = EWMASettings()
    assert (s.time_constant, s.axis, s.accumulate, s.passthrough, s.reset_on_resume,
            s.mlx_metal_chunk_sizes) == (1.0, None, True, False, False, (32, 1024))
    assert EWMAState().zi is None and EWMAUnit.SETTINGS is EWMASettings
    assert pickle.loads(pickle.dumps(s)) == s


def test_helpers():
    a = _alpha_from_tau(0.5, 0.01)
    assert a == pytest.approx(1 - np.exp(-0.02))
    assert _tau_from_alpha(a, 0.01) == pytest.approx(0.5)
    assert ewma_step(np.array([2.0]), np.array([1.0]), 0.25)[0] == pytest.approx(1.25)
    assert ewma_step(2.0, 1.0, 0.25, 0.5) == pytest.approx(1.0)


def test_ewma_deprecated_helper_starts_from_the_first_sample():
    host = _host(n=20)
    a = 0.3
    ref = ss.lfilter([a], [1, a - 1], host, axis=0, zi=(1 - a) * host[:1])[0]
    e = EWMA_Deprecated(a, max_len=20)
    got = np.concatenate([e.compute(host[:7]), e.compute2(host[7:15])])
    np.testing.assert_allclose(got, ref[:15], rtol=1e-12)
    tail = [e.compute_sample(host[i]) for i in range(15, 20)]
    np.testing.assert_allclose(np.stack(tail), ref[15:], rtol=1e-12)
    out = np.empty((4, 3))
    assert EWMA_Deprecated(a, 4).compute(host[:4], out=out) is out
    np.testing.assert_allclose(out, ref[:4], rtol=1e-12)
