import numpy as np
import pytest
import scipy.signal as ss
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.scaler import (
    AdaptiveStandardScaler,
    AdaptiveStandardScalerSettings,
    AdaptiveStandardScalerTransformer,
    RiverAdaptiveStandardScalerSettings,
    RiverAdaptiveStandardScalerTransformer,
    _tau_from_alpha,
    scaler,
    scaler_np,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

FS = 50.0
TAU = 0.1
ALPHA = 1 - np.exp(-1 / (FS * TAU))


def _host(n=40, ch=3, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, ch)) * 2.0 + 1.0).astype(dtype)


def _msg(backend, host, dims=("time", "ch")):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=0.5)})


def _scores(x, mean, msq):
    var = msq - mean ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(var > 0, (x - mean) / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    return np.where(np.isfinite(x), y, np.nan)


def _ref_np(host):
    """Offline float64: moments of the finite samples, zero start, divided by their weight."""
    x = host.astype(np.float64)
    v = np.isfinite(x)
    xv = np.where(v, x, 0.0)

    def f(a):
        return ss.lfilter([ALPHA], [1, ALPHA - 1], a, axis=0)

    with np.errstate(invalid="ignore", divide="ignore"):
        w = f(v.astype(float))
        return _scores(x, f(xv) / w, f(xv * xv) / w)


def _ref_river(host):
    """river's AdaptiveStandardScaler, one sample at a time (learn_one, then transform_one)."""
    x = host.astype(np.float64)
    out = np.zeros_like(x)
    mean = msq = None
    for t in range(x.shape[0]):
        if mean is None:
            mean, msq = x[t].copy(), x[t] ** 2
        else:
            mean = ALPHA * x[t] + (1 - ALPHA) * mean
            msq = ALPHA * x[t] ** 2 + (1 - ALPHA) * msq
        out[t] = _scores(x[t], mean, msq)
    return out


MAKERS = {
    "np": (lambda: scaler_np(time_constant=TAU), _ref_np),
    "river": (lambda: scaler(time_constant=TAU), _ref_river),
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_chunked_equals_whole_and_reference(backend, float_dtype, kind):
    make, ref = MAKERS[kind]
    host = _host(dtype=float_dtype)
    assert_chunked_equals_whole(make, _msg(backend, host), reference=ref(host))


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_pickle_resumes(backend, float_dtype, kind):
    assert_pickle_resumes(MAKERS[kind][0], _msg(backend, _host(dtype=float_dtype, seed=1)),
                          split_at=13)


def test_first_outputs():
    host = _host(n=2)
    np.testing.assert_array_equal(scaler()(_msg(_NP, host)).data[0], 0.0)
    np.testing.assert_array_equal(scaler_np(time_constant=TAU)(_msg(_NP, host)).data[0], 0.0)


class _Numpy:
    @staticmethod
    def asarray(h):
        return np.asarray(h)


_NP = _Numpy()


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_one_nan_does_not_spoil_the_stream(backend, kind):
    """The peer's scaler outputs 0.0 (river: 0.0) for the rest of the stream after one NaN;
    here the NaN sample scores NaN and the later ones are scaled without it."""
    make, ref = MAKERS[kind]
    dt = "float64" if backend.supports_float64() else "float32"
    host = _host(n=40, dtype=dt, seed=4)
    host[7, 0] = np.nan
    host[12, 1] = np.inf
    host[0, 2] = np.nan  # a channel whose first sample is missing
    expected = ref(host) if kind == "np" else _ref_np(host)
    if kind == "river":  # river's first-sample start, for the channels that have one
        expected[:, :2] = _ref_river_gaps(host[:, :2])
    proc = make()
    out = backend.xp.concat([proc(m).data for m in (_msg(backend, host[:20]),
                                                     _msg(backend, host[20:]))], axis=0)
    assert_close(out, expected, xp=backend.xp, device=backend.device, dtype=dt)
    got = to_host(out)
    assert np.isnan(got[7, 0]) and np.isnan(got[12, 1]) and np.isnan(got[0, 2])
    assert np.isfinite(got[8:, 0]).all() and np.isfinite(got[13:, 1]).all()
    assert np.isfinite(got[1:, 2]).all() and (got[20:] != 0).all()


def _ref_river_gaps(host):
    """river's start (weight 1 on the first sample), non-finite samples left out."""
    x = host.astype(np.float64)
    v = np.isfinite(x)
    xv = np.where(v, x, 0.0)
    zi = (1 - ALPHA) * np.stack([xv[0], xv[0] ** 2, v[0].astype(float)])

    def f(a, z):
        return ss.lfilter([ALPHA], [1, ALPHA - 1], a, axis=0, zi=z[None])[0]

    w = f(v.astype(float), zi[2])
    return _scores(x, f(xv, zi[0]) / w, f(xv * xv, zi[1]) / w)


def test_accumulate_false_keeps_the_statistics(backend):
    host = _host(n=30)
    proc = scaler_np(time_constant=TAU)
    proc(_msg(backend, host[:10]))
    z = proc.state.z
    proc.accumulate = False
    assert proc.settings.accumulate is False and proc.accumulate is False
    a = proc(_msg(backend, host[10:20]))
    assert proc.state.z is z
    b = proc(_msg(backend, host[10:20]))
    assert_close(a.data, b.data)
    assert_close(a.data, _ref_np(host)[10:20], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    proc.update_settings(AdaptiveStandardScalerSettings(time_constant=TAU, accumulate=True))
    out = proc(_msg(backend, host[10:30]))
    assert_close(out.data, _ref_np(host)[10:30], xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_passthrough_and_reset_on_resume(backend):
    host = _host(n=30)
    proc = AdaptiveStandardScalerTransformer(AdaptiveStandardScalerSettings(
        time_constant=TAU, passthrough=True, reset_on_resume=True))
    gap = _msg(backend, host[:10])
    assert proc(gap) is gap
    proc.update_settings(AdaptiveStandardScalerSettings(time_constant=TAU,
                                                        reset_on_resume=True))
    out = proc(_msg(backend, host[10:]))
    assert_close(out.data, _ref_np(host[10:]), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_other_layouts(backend):
    host = _host(n=12)
    msg = AxisArray(backend.asarray(np.ascontiguousarray(host.T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = scaler_np(time_constant=TAU)(msg)
    assert out.dims == ["ch", "time"]
    assert_close(out.data, _ref_np(host).T, xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_empty_first_chunk_and_integer_input(backend):
    host = _host(n=8)
    proc = scaler(time_constant=TAU)
    out = proc(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (0, 3)
    out = proc(_msg(backend, host))
    assert_close(out.data, _ref_river(host), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    ints = np.arange(16, dtype="int32").reshape(8, 2) % 5
    out = scaler_np(time_constant=TAU)(_msg(backend, ints))
    dt = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, _ref_np(ints), xp=backend.xp, device=backend.device, dtype=dt)


def test_input_not_mutated():
    host = _host(n=8)
    data = host.copy()
    msg = AxisArray(data, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)})
    proc = scaler_np(time_constant=TAU)
    proc(msg)
    proc(msg)
    np.testing.assert_array_equal(data, host)


def test_errors_and_settings():
    for cls in (AdaptiveStandardScalerSettings, RiverAdaptiveStandardScalerSettings):
        for bad in (0.0, -2.0, float("nan")):
            with pytest.raises(ValueError, match="^time_constant"):
                cls(time_constant=bad)
        with pytest.raises(ValueError, match="^axis"):
            cls(axis=1)
    with pytest.raises(ValueError, match=r"'nope'"):
        scaler(axis="nope")(_msg(_NP, _host(n=3)))
    with pytest.raises(ValueError, match="^time_constant"):
        scaler_np()(AxisArray(_host(n=3), dims=["time", "ch"]))
    assert RiverAdaptiveStandardScalerTransformer(
        RiverAdaptiveStandardScalerSettings()).settings.time_constant == 1.0
    assert AdaptiveStandardScaler.SETTINGS is AdaptiveStandardScalerSettings
    assert hasattr(AdaptiveStandardScaler, "INPUT_ACCUMULATE")
    assert _tau_from_alpha(ALPHA, 1 / FS) == pytest.approx(TAU)


def test_river_is_not_needed(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "river", None)  # any import of river now fails
    out = scaler(time_constant=TAU)(_msg(_NP, _host(n=4)))
    np.testing.assert_allclose(out.data, _ref_river(_host(n=4)), rtol=1e-10)


def test_unit_input_accumulate_reaches_the_processor():
    import asyncio

    s = AdaptiveStandardScalerSettings(time_constant=TAU)
    unit = AdaptiveStandardScaler(s)
    unit.apply_settings(s)
    unit.create_processor()
    asyncio.run(unit.on_accumulate(False))
    assert unit.processor.settings.accumulate is False
    asyncio.run(unit.on_accumulate(True))
    assert unit.processor.accumulate is True
