import math

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.adaptive_lattice_notch import (
    AdaptiveLatticeNotchFilterSettings,
    AdaptiveLatticeNotchFilterTransformer,
    AdaptiveLatticeNotchFilterUnit,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)
from ezmsg_sigproc_units.testing.streaming import split_message

FS = 500.0
_NP = Backend.NUMPY


def _host(n=120, ch=3, dtype="float64", seed=0, f=50.0):
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    amp = np.linspace(1.0, 2.0, ch)
    x = np.sin(2 * np.pi * f * t)[:, None] * amp + 0.2 * rng.standard_normal((n, ch))
    return x.astype(dtype)


def _msg(backend, host, dims=("time", "ch")):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=1.0)})


def _make(**kw):
    return lambda: AdaptiveLatticeNotchFilterTransformer(AdaptiveLatticeNotchFilterSettings(**kw))


def _reference(x, gamma=0.995, mu=0.99, eta=0.99, f0=None, fs=FS, chunks=None):
    """Straightforward per-sample (or, with ``chunks``, per-chunk) lattice notch in float64,
    one channel at a time: (y, freq)."""
    x = np.asarray(x, dtype=np.float64)
    f0 = 0.07178314656435313 * fs if f0 is None else f0
    y, fr = np.zeros_like(x), np.zeros_like(x)
    for c in range(x.shape[1]):
        s1 = s2 = p = q = 0.0
        k = -math.cos(2 * math.pi * f0 / fs)
        if chunks is None:
            for n in range(x.shape[0]):
                s = x[n, c] - k * (1 + gamma) * s1 - gamma * s2
                y[n, c] = s + 2 * k * s1 + s2
                p = eta * p + (1 - eta) * s1 * (s + s2)
                q = eta * q + (1 - eta) * 2 * s1 * s1
                k = mu * k + (1 - mu) * min(1.0, max(-1.0, -p / (q + 1e-8)))
                fr[n, c] = math.acos(-k) * fs / (2 * math.pi)
                s2, s1 = s1, s
            continue
        a = 0
        for m in chunks:
            if m == 0:
                continue
            hist = [s2, s1]
            for n in range(a, a + m):  # k fixed over the chunk
                s = x[n, c] - k * (1 + gamma) * hist[-1] - gamma * hist[-2]
                y[n, c] = s + 2 * k * hist[-1] + hist[-2]
                hist.append(s)
            s2, s1, s = hist[-3], hist[-2], hist[-1]
            p = eta * p + (1 - eta) * s1 * (s + s2)
            q = eta * q + (1 - eta) * 2 * s1 * s1
            k = mu * k + (1 - mu) * min(1.0, max(-1.0, -p / (q + 1e-8)))
            fr[a:a + m, c] = math.acos(-k) * fs / (2 * math.pi)
            s2, s1 = hist[-2], hist[-1]
            a += m
    return y, fr


def test_chunked_equals_whole_equals_reference(backend, float_dtype):
    host = _host(dtype=float_dtype)
    y_ref, _ = _reference(host)
    assert_chunked_equals_whole(_make(), _msg(backend, host), reference=y_ref)


def test_frequency_axis(backend, float_dtype):
    host = _host(dtype=float_dtype, seed=1)
    out = _make()()(_msg(backend, host))
    _, f_ref = _reference(host)
    freq = out.axes["freq"]
    assert freq.dims == ["time", "ch"] and freq.unit == "Hz"
    assert_close(freq.data, f_ref, xp=_NP.xp, device=_NP.device, dtype=host.dtype)


def test_emit_freq_false_drops_the_axis(backend):
    host = _host(n=30, seed=11)
    out = _make(emit_freq=False)()(_msg(backend, host))
    assert "freq" not in out.axes
    assert_close(out.data, _reference(host)[0], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_tracks_the_line():
    """Starting at 0.0718 fs (36 Hz), the notch settles on the 50 Hz line and removes it."""
    host = _host(n=4000, ch=2, seed=2)
    out = _make()()(_msg(_NP, host))
    f = np.asarray(out.axes["freq"].data)
    assert np.all(np.abs(f[-200:] - 50.0) < 1.0)
    assert np.std(out.data[-500:]) < 0.5 * np.std(host[-500:])


def test_settings_and_init_freq(backend):
    host = _host(n=60, seed=3)
    kw = dict(gamma=0.9, mu=0.95, eta=0.98, init_notch_freq=60.0)
    y_ref, f_ref = _reference(host, gamma=0.9, mu=0.95, eta=0.98, f0=60.0)
    out = _make(**kw)()(_msg(backend, host))
    assert_close(out.data, y_ref, xp=backend.xp, device=backend.device, dtype=host.dtype)
    assert_close(out.axes["freq"].data, f_ref, xp=_NP.xp, device=_NP.device,
                 dtype=host.dtype)


@pytest.mark.parametrize("chunkwise", [False, True])
def test_pickle_resumes(backend, float_dtype, chunkwise):
    host = _host(n=60, dtype=float_dtype, seed=4)
    assert_pickle_resumes(_make(chunkwise=chunkwise), _msg(backend, host), split_at=17)


def test_chunkwise_matches_per_chunk_reference(backend, float_dtype):
    host = _host(n=100, dtype=float_dtype, seed=5)
    chunks = [0, 1, 2, 30, 0, 3, 64]
    y_ref, f_ref = _reference(host, chunks=chunks)
    proc = _make(chunkwise=True)()
    outs = [proc(m) for m in split_message(_msg(backend, host), chunks)]
    xp = backend.xp
    y = xp.concat([o.data for o in outs], axis=0)
    f = np.concatenate([o.axes["freq"].data for o in outs], axis=0)
    assert_close(y, y_ref, xp=xp, device=backend.device, dtype=host.dtype)
    assert_close(f, f_ref, xp=_NP.xp, device=_NP.device, dtype=host.dtype)


def test_native_equals_portable_and_wide_loop():
    from ezmsg_sigproc_units._kernels import lattice_notch as k
    from ezmsg_sigproc_units._kernels import lattice_notch_numpy as kn

    rng = np.random.default_rng(6)
    x = rng.standard_normal((50, 48))  # > PY_FLOAT_MAX_CHANNELS
    st = np.zeros((5, 48))
    st[4] = -0.5
    coef = np.array([0.99, 1.99, 0.98, 0.02, 0.9, 0.1])
    frozen = np.array([0.99, 1.99, 1.0, 0.0, 0.9, 0.1])  # eta = 1: p, q never move
    for c in (coef, frozen):
        want = k.lattice_notch(np, x, st, c, native=False)
        for sub in (kn._floats, kn._vectorised):
            s, kb, ka, st1 = sub(x, st, c, True)
            np.testing.assert_allclose(ka, want[1], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(st1, want[2], rtol=1e-10, atol=1e-12)
    want = k.lattice_notch(np, x, st, coef, native=False)
    got = k.lattice_notch(np, x, st, coef)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for xs, ss in ((x[:5], st), (x[:, :3], st[:, :3])):  # chunkwise: sample loop, lfilter
        got = k.chunkwise_lattice(np, xs, ss, coef)
        want = k.chunkwise_lattice(np, xs, ss, coef, native=False)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_time_not_first_keeps_layout(backend):
    host = _host(n=40, seed=7)
    msg = AxisArray(backend.asarray(np.ascontiguousarray(host.T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = _make()()(msg)
    y_ref, f_ref = _reference(host)
    assert out.dims == ["ch", "time"]
    assert_close(out.data, y_ref.T, xp=backend.xp, device=backend.device, dtype=host.dtype)
    assert out.axes["freq"].dims == ["time", "ch"]
    assert_close(out.axes["freq"].data, f_ref, xp=_NP.xp, device=_NP.device,
                 dtype=host.dtype)


def test_empty_first_chunk(backend):
    host = _host(n=30, seed=8)
    proc = _make()()
    out = proc(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (0, 3)
    out = proc(_msg(backend, host))
    assert_close(out.data, _reference(host)[0], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_live_settings_do_not_reset():
    """gamma, mu, eta, chunkwise and emit_freq are read live (the peer's rule, emit_freq
    ours): changing them continues from the state."""
    host = _host(n=60, seed=12)
    proc = _make()()
    proc(_msg(_NP, host[:30]))
    before = proc.state.lattice.copy()
    proc.update_settings(AdaptiveLatticeNotchFilterSettings(mu=0.9, emit_freq=False))
    np.testing.assert_array_equal(proc.state.lattice, before)
    out = proc(_msg(_NP, host[30:]))
    assert "freq" not in out.axes
    fresh = _make(mu=0.9, emit_freq=False)()(_msg(_NP, host[30:]))  # what a reset would give
    assert not np.allclose(out.data, fresh.data)


def test_float32_stays_stable():
    host = (100.0 * _host(n=3000, ch=2, seed=9)).astype("float32")
    out = _make()()(_msg(_NP, host))
    assert out.data.dtype == np.float32 and np.all(np.isfinite(out.data))
    np.testing.assert_allclose(out.data, _reference(host)[0], rtol=1e-5, atol=1e-3)


def test_input_not_mutated_state_not_a_view():
    host = _host(n=20, seed=10)
    msg = _msg(_NP, host.copy())
    proc = _make()()
    proc(msg)
    np.testing.assert_array_equal(msg.data, host)
    before = proc.state.lattice.copy()
    msg.data[:] = 1e9
    np.testing.assert_array_equal(proc.state.lattice, before)


@pytest.mark.parametrize("field, value", [("gamma", 1.0), ("gamma", -0.1), ("mu", 1.5),
                                          ("eta", float("nan")), ("init_notch_freq", -1.0),
                                          ("chunkwise", 1), ("axis", ""),
                                          ("emit_freq", None)])
def test_bad_settings(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        AdaptiveLatticeNotchFilterSettings(**{field: value})


def test_missing_axis():
    proc = _make(axis="time")()
    msg = AxisArray(np.zeros((4, 2)), dims=["x", "ch"])
    with pytest.raises(ValueError, match="time"):
        proc(msg)


def test_unit_settings():
    assert AdaptiveLatticeNotchFilterUnit.SETTINGS is AdaptiveLatticeNotchFilterSettings
