import pickle

import numpy as np
import pytest
from ezmsg.baseproc.units import get_base_clockdriven_producer_type
from ezmsg.util.messages.axisarray import LinearAxis

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth import WhiteNoise, WhiteNoiseProducer, WhiteNoiseSettings
from ezmsg_sigproc_units.testing import assert_close

FS = 1000.0


def _settings(backend=None, dtype="float32", **kw):
    kw.setdefault("fs", FS)
    if backend is not None:
        kw.update(backend=backend.library, device=backend.device_name)
    return WhiteNoiseSettings(dtype=dtype, **kw)


def _ticks(n, gain=0.01, t0=100.0):
    return [LinearAxis(gain=gain, offset=t0 + i * gain) for i in range(n)]


def _run(proc, ticks):
    return [o for o in (proc(t) for t in ticks) if o is not None]


def _host(outs):
    return np.concatenate([_backend.to_host(o.data) for o in outs], axis=0)


def test_output_on_backend(backend, float_dtype):
    proc = WhiteNoiseProducer(_settings(backend, float_dtype, n_time=500, n_ch=4, seed=3,
                                        loc=1.5, scale=0.5))
    outs = _run(proc, _ticks(8))
    for out in outs:
        assert out.dims == ["time", "ch"] and out.key == "white_noise"
        assert out.stream_dim == "time"
        assert list(out.axes["ch"].data) == ["ch0", "ch1", "ch2", "ch3"]
        # namespace/device/dtype/shape via assert_close against itself on the host
        assert_close(out.data, _backend.to_host(out.data), xp=backend.xp, device=backend.device,
                     dtype=float_dtype)
    x = _host(outs)
    assert x.shape == (4000, 4)
    assert np.all(np.isfinite(x))
    # 4000 samples per channel: the standard error of the mean is 0.5/63 ~ 0.008
    np.testing.assert_allclose(x.mean(axis=0), 1.5, atol=0.05)
    np.testing.assert_allclose(x.std(axis=0), 0.5, rtol=0.1)
    # channels and blocks are not copies of each other
    assert np.abs(np.corrcoef(x.T) - np.eye(4)).max() < 0.1
    assert not np.allclose(x[:500], x[500:1000])


def test_same_seed_same_stream(backend):
    a = _host(_run(WhiteNoiseProducer(_settings(backend, n_time=32, n_ch=2, seed=7)), _ticks(5)))
    b = _host(_run(WhiteNoiseProducer(_settings(backend, n_time=32, n_ch=2, seed=7)), _ticks(5)))
    c = _host(_run(WhiteNoiseProducer(_settings(backend, n_time=32, n_ch=2, seed=8)), _ticks(5)))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_unseeded_streams_differ():
    a = _host(_run(WhiteNoiseProducer(_settings(n_time=32)), _ticks(2)))
    b = _host(_run(WhiteNoiseProducer(_settings(n_time=32)), _ticks(2)))
    assert not np.allclose(a, b)


def test_gain_mode_and_offsets():
    proc = WhiteNoiseProducer(_settings(seed=0, n_ch=3))
    ticks = _ticks(300, gain=1 / 300)
    outs = [proc(t) for t in ticks]
    assert sum(o.data.shape[0] for o in outs if o is not None) == 1000
    pairs = zip(outs, ticks, strict=True)
    assert all(o.axes["time"].offset == t.offset for o, t in pairs if o is not None)
    afap = WhiteNoiseProducer(_settings(n_time=25, seed=0))
    offs = [afap(LinearAxis(gain=0.0, offset=9.0)).axes["time"].offset for _ in range(3)]
    assert offs == pytest.approx([0.0, 0.025, 0.05])
    with pytest.raises(ValueError, match="n_time"):
        WhiteNoiseProducer(_settings())(LinearAxis(gain=0.0, offset=0.0))


def test_loc_scale_change_live_keeps_the_stream():
    ticks = _ticks(2)
    ref = _run(WhiteNoiseProducer(_settings(n_time=64, seed=1)), ticks)
    proc = WhiteNoiseProducer(_settings(n_time=64, seed=1))
    first = proc(ticks[0])
    proc.update_settings(_settings(n_time=64, seed=1, loc=2.0, scale=3.0))
    second = proc(ticks[1])
    np.testing.assert_allclose(first.data, ref[0].data)
    np.testing.assert_allclose(second.data, 2.0 + 3.0 * ref[1].data, rtol=1e-6)
    proc.update_settings(_settings(n_time=64, seed=1, n_ch=2))  # reset: re-seeded
    third = proc(ticks[0])
    fresh = WhiteNoiseProducer(_settings(n_time=64, seed=1, n_ch=2))(ticks[0])
    np.testing.assert_array_equal(third.data, fresh.data)


def _rng_pickles(backend) -> bool:
    try:
        pickle.dumps(_backend.DeviceRNG(backend.xp, backend.device, 0))
    except TypeError:
        return False
    return True


def test_pickled_producer_and_state_resume(backend):
    assert _rng_pickles(backend)
    settings = _settings(backend, n_time=16, n_ch=2, seed=11)
    ticks = _ticks(6)
    expected = _run(WhiteNoiseProducer(settings), ticks)
    proc = WhiteNoiseProducer(settings)
    _run(proc, ticks[:3])
    clone = pickle.loads(pickle.dumps(proc))
    fresh = WhiteNoiseProducer(settings)
    state = (pickle.loads(pickle.dumps(proc.state)), proc._hash)
    for t, exp in zip(ticks[3:], expected[3:], strict=False):
        assert_close(clone(t).data, exp.data, err_msg="pickled producer")
        state, out = fresh.stateful_op(state, t)
        assert_close(out.data, exp.data, err_msg="stateful_op with pickled state")


def test_unit_resolves_producer():
    assert WhiteNoise.SETTINGS is WhiteNoiseSettings
    assert get_base_clockdriven_producer_type(WhiteNoise) is WhiteNoiseProducer


@pytest.mark.parametrize(
    "field,kwargs",
    [
        ("fs", {"fs": -1.0}),
        ("n_time", {"n_time": 0}),
        ("loc", {"loc": float("nan")}),
        ("scale", {"scale": -0.1}),
        ("n_ch", {"n_ch": 0}),
        ("seed", {"seed": -1}),
        ("seed", {"seed": 1.5}),
        ("backend", {"backend": "numba"}),
        ("dtype", {"dtype": "int32"}),
    ],
)
def test_settings_errors(field, kwargs):
    kwargs.setdefault("fs", FS)
    with pytest.raises(ValueError, match=f"^{field}"):
        WhiteNoiseSettings(**kwargs)


def test_zero_scale_is_constant(backend):
    out = WhiteNoiseProducer(_settings(backend, n_time=10, loc=0.25, scale=0.0, seed=0))(
        _ticks(1)[0])
    assert_close(out.data, np.full((10, 1), 0.25), xp=backend.xp, device=backend.device,
                 dtype="float32")
