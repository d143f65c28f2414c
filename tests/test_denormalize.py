import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.denormalize import (
    DenormalizeSettings,
    DenormalizeState,
    DenormalizeTransformer,
    DenormalizeUnit,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)


def _msg(backend, host, dims=("time", "ch")):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=100.0)})


def _host(n=40, ch=5, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _make(**kw):
    kw.setdefault("seed", 7)
    return lambda: DenormalizeTransformer(DenormalizeSettings(**kw))


@pytest.mark.parametrize("distribution", ["uniform", "normal", "constant"])
def test_output_is_the_affine_map_of_the_drawn_offsets(backend, float_dtype, distribution):
    """y = max(x * offset / 3.29 + offset, 0) with the state's per-channel offsets, which lie
    in [low_rate, high_rate]; chunked == whole."""
    host = _host(dtype=float_dtype)
    proc = _make(distribution=distribution, low_rate=5.0, high_rate=25.0)()
    out = proc(_msg(backend, host))
    off = to_host(proc.state.offsets)
    assert off.shape == (1, host.shape[1])
    assert np.all((off >= 5.0) & (off <= 25.0))
    if distribution == "constant":
        np.testing.assert_allclose(off, 15.0)
    else:
        assert np.unique(off).size == host.shape[1]
    ref = np.maximum(host * (off / 3.29) + off, 0.0)
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=float_dtype)
    assert_chunked_equals_whole(_make(distribution=distribution, low_rate=5.0, high_rate=25.0),
                                _msg(backend, host), reference=ref)


def test_same_seed_same_numbers_other_seed_other_numbers(backend):
    host = _host()
    a = _make(seed=3)()(_msg(backend, host))
    b = _make(seed=3)()(_msg(backend, host))
    c = _make(seed=4)()(_msg(backend, host))
    assert_close(a.data, b.data, rtol=0, atol=0)
    assert not np.allclose(to_host(a.data), to_host(c.data))
    d = _make(seed=None)()(_msg(backend, host))  # a fresh draw
    assert not np.allclose(to_host(a.data), to_host(d.data))


def test_uniform_draw_is_uniform():
    """The Box-Muller-derived uniform covers the range evenly (numpy, 4000 channels)."""
    proc = _make(seed=1, low_rate=0.0, high_rate=1.0)()
    proc(AxisArray(np.zeros((1, 4000)), dims=["time", "ch"]))
    off = proc.state.offsets.ravel()
    counts = np.histogram(off, bins=10, range=(0.0, 1.0))[0]
    assert counts.min() > 330 and counts.max() < 470, counts


def test_normal_draw_is_centred_and_clipped():
    proc = _make(seed=1, distribution="normal", low_rate=10.0, high_rate=40.0)()
    proc(AxisArray(np.zeros((1, 4000)), dims=["time", "ch"]))
    off = proc.state.offsets.ravel()
    assert abs(off.mean() - 25.0) < 0.3 and abs(off.std() - 5.0) < 0.3
    assert off.min() >= 10.0 and off.max() <= 40.0


def test_pickle_resumes(backend, float_dtype):
    assert_pickle_resumes(_make(), _msg(backend, _host(dtype=float_dtype)), split_at=17)


def test_channel_axis_anywhere_and_nd(backend):
    host = _host(n=6, ch=4)
    msg = AxisArray(backend.asarray(np.ascontiguousarray(host.T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=10.0)})
    proc = _make()()
    out = proc(msg)
    off = to_host(proc.state.offsets)
    assert off.shape == (4, 1)
    assert_close(out.data, np.maximum(host.T * (off / 3.29) + off, 0.0), xp=backend.xp,
                 device=backend.device, dtype="float64")
    h3 = np.random.default_rng(1).standard_normal((5, 3, 2))
    proc = _make()()
    out = proc(AxisArray(backend.asarray(h3), dims=["time", "ch", "f"]))
    off = to_host(proc.state.offsets)
    assert off.shape == (1, 3, 1)
    assert_close(out.data, np.maximum(h3 * (off / 3.29) + off, 0.0), xp=backend.xp,
                 device=backend.device, dtype="float64")


def test_empty_first_chunk_and_integer_input(backend):
    host = _host(n=6)
    proc = _make()()
    assert tuple(proc(_msg(backend, host[:0])).data.shape) == (0, 5)
    ints = np.arange(30, dtype="int32").reshape(6, 5) - 15
    out = _make()()(_msg(backend, ints))
    dt = "float64" if backend.supports_float64() else "float32"
    assert out.data.dtype == getattr(backend.xp, dt)


def test_input_not_mutated_and_missing_ch(backend):
    host = _host(n=6)
    msg = _msg(backend, host)
    _make()()(msg)
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype="float64")
    bad = AxisArray(backend.asarray(host), dims=["time", "chan"])
    with pytest.raises(ValueError, match=r"'ch'.*\['time', 'chan'\]"):
        _make()()(bad)


def test_channel_count_change_redraws_with_the_seed():
    proc = _make(seed=5)()
    proc(AxisArray(_host(ch=5), dims=["time", "ch"]))
    host = _host(ch=3, seed=2)
    out = proc(AxisArray(host, dims=["time", "ch"]))
    fresh = _make(seed=5)()(AxisArray(host, dims=["time", "ch"]))
    np.testing.assert_array_equal(out.data, fresh.data)


def test_settings_validation():
    with pytest.raises(ValueError, match="^distribution"):
        DenormalizeSettings(distribution="poisson")
    with pytest.raises(ValueError, match="^low_rate"):
        DenormalizeSettings(low_rate=50.0)
    with pytest.raises(ValueError, match="^high_rate"):
        DenormalizeSettings(high_rate=float("inf"))
    with pytest.raises(ValueError, match="^seed"):
        DenormalizeSettings(seed=1.5)
    s = DenormalizeSettings()
    assert (s.low_rate, s.high_rate, s.distribution, s.seed) == (2.0, 40.0, "uniform", None)
    assert DenormalizeState().gains is None
    assert DenormalizeUnit.SETTINGS is DenormalizeSettings
    assert pickle.loads(pickle.dumps(s)) == s
