import math

import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.adaptive_lnc import (
    AdaptiveLNC,
    AdaptiveLNCSettings,
    AdaptiveLNCTransformer,
    CancelMethod,
    design_lnc_sos,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

FS = 200.0  # update window: round(200 / 19.3) = 10 samples (few compiled segment shapes)
LINE = 19.3


def _host(n=160, ch=3, dtype="float64", seed=0, f=19.7):
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    line = np.sin(2 * np.pi * f * t + 0.4)[:, None] * np.linspace(1.0, 2.0, ch)
    x = line + 0.3 * np.sin(2 * np.pi * 2 * f * t)[:, None] + 0.1 * rng.standard_normal((n, ch))
    return x.astype(dtype)


def _msg(backend, host, dims=("time", "ch")):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=0.5)})


def _tol(backend):
    """MLX's CPU build computes float64 matrix products, cos, sin and atan2 at float32
    precision (measured: 6e-7 on a 10 x 3 product): compare it at float32 tolerance."""
    return {"rtol": 1e-5} if backend.value == "mlx" else {}


def _make(**kw):
    kw.setdefault("line_freq", LINE)
    return lambda: AdaptiveLNCTransformer(AdaptiveLNCSettings(**kw))


def _reference(x, line_freq=LINE, num_harmonics=1, adapt_time_constant=0.1,
               freq_time_constant=0.5, max_freq_deviation=2.0, cancel_method="notch"):
    """Straightforward offline canceller in float64 with complex phasors: windows of one
    line period, each notch segment through scipy's sosfilt, the FLL on np.angle."""
    x = np.asarray(x, dtype=np.float64)
    T, C = x.shape
    K, L = num_harmonics, max(1, round(FS / line_freq))
    omega = 2 * np.pi * line_freq / FS
    lo, hi = -np.inf, np.inf
    if max_freq_deviation is not None:
        lo = 2 * np.pi * max(0.0, line_freq - max_freq_deviation) / FS
        hi = 2 * np.pi * min(FS / 2, line_freq + max_freq_deviation) / FS
    mu = 2 / (adapt_time_constant * FS)
    tracking = freq_time_constant is not None and freq_time_constant > 0
    beta = 1 - np.exp(-(L / FS) / freq_time_constant) if tracking else 0.0
    alpha = 1 - np.exp(-(L / FS) / adapt_time_constant)
    if cancel_method == "notch" and not tracking:
        return scipy.signal.sosfilt(design_lnc_sos(omega, mu, K), x, axis=0)
    zi, phase, prev, est = np.zeros((K, 2, C)), 0.0, None, None
    y = np.empty_like(x)
    for a in range(0, T, L):
        seg = x[a:a + L]
        n = np.arange(seg.shape[0])
        ph = phase + omega * n
        if cancel_method == "notch":
            out, zi = scipy.signal.sosfilt(design_lnc_sos(omega, mu, K), seg, axis=0, zi=zi)
            z = np.exp(-1j * ph) @ (seg - out)
        else:
            out = seg.copy()
            if est is not None:
                for k in range(K):
                    out -= np.cos((k + 1) * ph[:, None] + est[1][k]) * est[2][k]
            zk = [2 / L * (np.exp(-1j * (k + 1) * ph) @ seg) for k in range(K)]
            z = zk[0]
        y[a:a + L] = out
        phase += omega * seg.shape[0]
        if seg.shape[0] < L:
            break
        if cancel_method == "subtract":
            sm = zk if est is None else [(1 - alpha) * s + alpha * v
                                         for s, v in zip(est[0], zk, strict=True)]
            th = [np.angle(np.sum(v * np.abs(v))) for v in sm]
            amp = [np.clip(np.real(v * np.exp(-1j * t)), 0, None)
                   for v, t in zip(sm, th, strict=True)]
            est = (sm, th, amp)
            if not tracking:
                continue
        if prev is not None:
            cross = np.sum(z * np.conj(prev))
            if cross != 0:
                omega = float(np.clip(omega + beta * np.angle(cross) / L, lo, hi))
        prev = z
    return y


CONFIGS = {
    "notch": {},
    "notch-3h": {"num_harmonics": 3},
    "fixed": {"freq_time_constant": None, "num_harmonics": 2},
    "unbounded": {"max_freq_deviation": None, "freq_time_constant": 0.1},
    "subtract": {"cancel_method": "subtract", "num_harmonics": 2},
    "subtract-fixed": {"cancel_method": "subtract", "freq_time_constant": 0.0},
}


@pytest.mark.parametrize("cfg", list(CONFIGS))
def test_chunked_equals_whole_equals_reference(backend, float_dtype, cfg):
    host = _host(dtype=float_dtype)
    kw = CONFIGS[cfg]
    assert_chunked_equals_whole(_make(**kw), _msg(backend, host),
                                reference=_reference(host, **kw), **_tol(backend))


@pytest.mark.parametrize("cfg", ["notch", "subtract"])
def test_pickle_resumes(backend, float_dtype, cfg):
    host = _host(n=80, dtype=float_dtype, seed=1)
    assert_pickle_resumes(_make(**CONFIGS[cfg]), _msg(backend, host), split_at=17)


def test_tracks_and_cancels_the_line():
    """The line sits 0.4 Hz off the nominal: tracking removes it, a frozen notch leaves more."""
    host = _host(n=4000, ch=4, seed=2)
    line = host - _host(n=4000, ch=4, seed=2, f=1e-9)  # the 19.7 Hz part only (approx.)
    del line
    msg = _msg(Backend.NUMPY, host)
    tracked = _make(num_harmonics=2)()(msg).data
    frozen = _make(num_harmonics=2, freq_time_constant=None, adapt_time_constant=1.0)()(msg).data
    tail = slice(-1000, None)
    assert np.std(tracked[tail]) < 0.2
    assert np.std(tracked[tail]) < np.std(frozen[tail])


def test_passthrough_returns_the_input(backend):
    msg = _msg(backend, _host(n=10))
    assert _make(cancel_method="passthrough")()(msg) is msg


def test_fixed_notch_is_the_designed_sos():
    host = _host(n=100, seed=3)
    mu = 2 / (0.1 * FS)
    want = scipy.signal.sosfilt(design_lnc_sos(2 * np.pi * LINE / FS, mu, 2), host, axis=0)
    out = _make(freq_time_constant=None, num_harmonics=2)()(_msg(Backend.NUMPY, host))
    np.testing.assert_allclose(out.data, want, rtol=1e-10, atol=1e-12)


def test_design_lnc_sos_zeros_on_the_unit_circle():
    sos = design_lnc_sos(0.3, 0.05, 3)
    assert sos.shape == (3, 6) and sos.dtype == np.float64
    for k in range(3):
        z = np.roots(sos[k, :3])
        np.testing.assert_allclose(np.abs(z), 1.0)
        np.testing.assert_allclose(np.sort(np.abs(np.angle(z))), [(k + 1) * 0.3] * 2)
        np.testing.assert_allclose(np.abs(np.roots(sos[k, 3:])), math.sqrt(0.95))
    assert design_lnc_sos(0.3, 0.05, 0).shape == (1, 6)


def test_native_equals_portable_on_numpy(monkeypatch):
    from ezmsg_sigproc_units._kernels import lnc

    host = _host(n=90, seed=4)
    for kw in (CONFIGS["notch-3h"], CONFIGS["subtract"]):
        want = _make(**kw)()(_msg(Backend.NUMPY, host)).data
        with monkeypatch.context() as m:
            m.setattr(lnc, "is_numpy_namespace", lambda xp: False)
            got = _make(**kw)()(_msg(Backend.NUMPY, host)).data
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_time_not_first_and_nd(backend):
    host = _host(n=50, ch=4, seed=5)
    msg = AxisArray(backend.asarray(np.ascontiguousarray(host.T.reshape(2, 2, 50))),
                    dims=["a", "b", "time"], axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = _make()()(msg)
    assert out.dims == ["a", "b", "time"]
    assert_close(out.data, _reference(host).T.reshape(2, 2, 50), xp=backend.xp,
                 device=backend.device, dtype=host.dtype, **_tol(backend))


@pytest.mark.parametrize("cfg", ["notch", "subtract"])
def test_empty_chunks_first_and_mid_stream(backend, cfg):
    host = _host(n=30, seed=6)
    proc, kw = _make(**CONFIGS[cfg])(), CONFIGS[cfg]
    outs = [proc(_msg(backend, h)) for h in (host[:0], host[:13], host[13:13], host[13:])]
    assert tuple(outs[0].data.shape) == (0, 3) and tuple(outs[2].data.shape) == (0, 3)
    got = backend.xp.concat([o.data for o in outs], axis=0)
    assert_close(got, _reference(host, **kw), xp=backend.xp, device=backend.device,
                 dtype=host.dtype, **_tol(backend))


def test_live_time_constants_do_not_reset():
    host = _host(n=60, seed=7)
    proc = _make()()
    proc(_msg(Backend.NUMPY, host[:30]))
    proc.update_settings(AdaptiveLNCSettings(line_freq=LINE, adapt_time_constant=0.2))
    out = proc(_msg(Backend.NUMPY, host[30:]))
    assert proc.state.samples_in_block == 0 and proc.state.has_prev
    fresh = _make(adapt_time_constant=0.2)()(_msg(Backend.NUMPY, host[30:]))
    assert not np.allclose(out.data, fresh.data)  # a reset would give the fresh output


def test_freezing_a_tracked_frequency_live(backend):
    """freq_time_constant is read live: switched to None after tracking, the notch stays at
    the tracked omega (no reset) and filters from the carried section states."""
    from ezmsg_sigproc_units._backend import to_host

    host = _host(n=120, seed=10)
    proc = _make()()
    proc(_msg(backend, host[:80]))
    proc.update_settings(AdaptiveLNCSettings(line_freq=LINE, freq_time_constant=None))
    omega = float(to_host(proc.state.arrays["scal"])[0])
    assert omega != pytest.approx(2 * np.pi * LINE / FS)  # it did track
    zi = to_host(proc.state.arrays["zi"])
    out = proc(_msg(backend, host[80:]))
    sos = design_lnc_sos(omega, 2 / (0.1 * FS), 1)
    want = scipy.signal.sosfilt(sos, host[80:], axis=0, zi=zi)[0]
    assert_close(out.data, want, xp=backend.xp, device=backend.device, dtype=host.dtype,
                 **_tol(backend))


def test_float32_stays_stable():
    host = (50 * _host(n=6000, ch=2, seed=8)).astype("float32")
    for kw in (CONFIGS["notch"], CONFIGS["subtract"]):
        out = _make(**kw)()(_msg(Backend.NUMPY, host)).data
        assert out.dtype == np.float32 and np.all(np.isfinite(out))
        np.testing.assert_allclose(out, _reference(host, **kw), rtol=1e-5, atol=1e-3)


def test_input_not_mutated():
    host = _host(n=40, seed=9)
    msg = _msg(Backend.NUMPY, host.copy())
    proc = _make(cancel_method="subtract")()
    proc(msg)
    np.testing.assert_array_equal(msg.data, host)


@pytest.mark.parametrize("field, value", [
    ("line_freq", 0.0), ("line_freq", float("inf")), ("num_harmonics", 0),
    ("adapt_time_constant", 0.0), ("freq_time_constant", float("nan")),
    ("max_freq_deviation", -1.0), ("cancel_method", "bogus"), ("axis", 3)])
def test_bad_settings(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        AdaptiveLNCSettings(**{field: value})


def test_adapt_time_constant_below_one_sample_raises():
    with pytest.raises(ValueError, match="^adapt_time_constant"):
        _make(adapt_time_constant=0.001)()(_msg(Backend.NUMPY, _host(n=5)))


def test_missing_axis():
    with pytest.raises(ValueError, match="time"):
        _make(axis="time")()(AxisArray(np.zeros((4, 2)), dims=["x", "ch"]))


def test_names():
    assert AdaptiveLNC.SETTINGS is AdaptiveLNCSettings
    assert CancelMethod("subtract") is CancelMethod.SUBTRACT
    assert AdaptiveLNCSettings(cancel_method="notch").cancel_method == CancelMethod.NOTCH
