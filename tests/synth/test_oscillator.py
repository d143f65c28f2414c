import pickle

import numpy as np
import pytest
from ezmsg.baseproc.units import get_base_clockdriven_producer_type
from ezmsg.util.messages.axisarray import LinearAxis

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth import (
    Oscillator,
    OscillatorProducer,
    OscillatorSettings,
)
from ezmsg_sigproc_units.synth import oscillator as osc_module
from ezmsg_sigproc_units.testing import assert_close, concat_outputs

FS = 1000.0


def _settings(backend=None, dtype="float32", **kw):
    kw.setdefault("fs", FS)
    if backend is not None:
        kw.update(backend=backend.library, device=backend.device_name)
    return OscillatorSettings(dtype=dtype, **kw)


def _ticks(n, gain=0.01, t0=100.0):
    return [LinearAxis(gain=gain, offset=t0 + i * gain) for i in range(n)]


def _reference(freqs, n, amp=1.0, phase=0.0, fs=FS, start=0):
    t = (start + np.arange(n))[:, None] / fs
    return amp * np.sin(2 * np.pi * np.asarray(freqs, dtype=np.float64)[None, :] * t + phase)


def _concat_host(outs):
    return np.concatenate([_backend.to_host(o.data) for o in outs], axis=0)


def test_blocks_match_reference_on_backend(backend, float_dtype):
    freqs = [3.0, 47.5, 120.0, 499.0]
    proc = OscillatorProducer(_settings(backend, float_dtype, n_time=37, freq=freqs, amp=2.0,
                                        phase=0.3))
    outs = [proc(t) for t in _ticks(30)]
    ref = _reference(freqs, 37 * 30, amp=2.0, phase=0.3)
    for i, out in enumerate(outs):
        # every block: namespace, device, dtype, shape, values
        assert_close(out.data, ref[37 * i: 37 * (i + 1)], xp=backend.xp, device=backend.device,
                     dtype=float_dtype, err_msg=f"block {i}")
        assert out.dims == ["time", "ch"]
        assert out.key == "oscillator" and out.stream_dim == "time"
        assert list(out.axes["ch"].data) == ["ch0", "ch1", "ch2", "ch3"]
        assert out.axes["time"].gain == pytest.approx(1 / FS)
    assert outs[0].axes["ch"] is outs[-1].axes["ch"], "channel axis is built once"


def test_scalar_freq_gives_identical_channels(backend):
    proc = OscillatorProducer(_settings(backend, n_time=20, freq=11.0, n_ch=5))
    out = proc(_ticks(1)[0])
    ref = np.repeat(_reference([11.0], 20), 5, axis=1)
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype="float32")
    assert list(out.axes["ch"].data) == [f"ch{i}" for i in range(5)]


def test_float32_accurate_after_a_long_run():
    """At sample 10**10 (116 days at 1 kHz) float32 output still matches an exact reference;
    computing sin(w * t) with t in float32 would be off by whole cycles."""
    f_num, f_den = 29, 4  # 7.25 Hz, exact in integer arithmetic
    proc = OscillatorProducer(_settings(n_time=100, freq=f_num / f_den, phase=0.5))
    proc.state.counter = 10**10
    outs = [proc(t) for t in _ticks(5)]
    k = 10**10 + np.arange(500)
    cycles = ((f_num * k) % (f_den * int(FS))) / (f_den * FS)  # exact fraction of a cycle
    ref = np.sin(2 * np.pi * cycles + 0.5)[:, None]
    np.testing.assert_allclose(_concat_host(outs), ref, atol=1e-5)


def test_gain_mode_carries_fractional_samples(backend, float_dtype):
    freqs = [5.0, 61.0]
    proc = OscillatorProducer(_settings(backend, float_dtype, freq=freqs))
    outs = [proc(t) for t in _ticks(300, gain=1 / 300)]
    sizes = [o.data.shape[0] for o in outs if o is not None]
    assert sum(sizes) == 1000  # 300 ticks of 3.333... samples: the fractions are carried
    assert set(sizes) == {3, 4}
    assert_close(concat_outputs(outs), _reference(freqs, 1000), xp=backend.xp,
                 device=backend.device, dtype=float_dtype)


def test_gain_mode_skips_ticks_shorter_than_a_sample():
    proc = OscillatorProducer(_settings(fs=10.0, freq=1.0))
    outs = [proc(t) for t in _ticks(20, gain=0.025)]  # 0.25 samples per tick
    assert sum(o is None for o in outs) == 15
    assert sum(o.data.shape[0] for o in outs if o is not None) == 5


def test_time_offsets():
    ticks = _ticks(4, gain=0.01, t0=50.0)
    fixed = OscillatorProducer(_settings(n_time=10))
    assert [fixed(t).axes["time"].offset for t in ticks] == [t.offset for t in ticks]
    free = OscillatorProducer(_settings())
    assert [free(t).axes["time"].offset for t in ticks] == [t.offset for t in ticks]
    afap = OscillatorProducer(_settings(n_time=10))
    offsets = [afap(LinearAxis(gain=0.0, offset=123.0)).axes["time"].offset for _ in range(4)]
    assert offsets == pytest.approx([0.0, 0.01, 0.02, 0.03])
    with pytest.raises(ValueError, match="n_time"):
        OscillatorProducer(_settings())(LinearAxis(gain=0.0, offset=0.0))


def test_uniform_frequency_needs_no_transfer_per_block(monkeypatch):
    proc = OscillatorProducer(_settings(n_time=16, freq=9.0, n_ch=3))
    proc(_ticks(1)[0])  # first block builds the table
    calls = []
    monkeypatch.setattr(osc_module._backend, "asarray", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(osc_module._backend, "to_host", lambda *a, **k: calls.append(a))
    for t in _ticks(5):
        proc(t)
    assert calls == []


def test_amp_changes_live_and_freq_change_resets():
    proc = OscillatorProducer(_settings(n_time=50, freq=20.0, amp=1.0))
    ticks = _ticks(3)
    first = proc(ticks[0])
    proc.update_settings(_settings(n_time=50, freq=20.0, amp=3.0))
    second = proc(ticks[1])
    ref = _reference([20.0], 100)
    np.testing.assert_allclose(_backend.to_host(first.data), ref[:50], atol=1e-5)
    np.testing.assert_allclose(_backend.to_host(second.data), 3.0 * ref[50:], atol=1e-5)
    proc.update_settings(_settings(n_time=50, freq=40.0, amp=3.0))
    third = proc(ticks[2])  # phase follows the sample count at the new frequency
    np.testing.assert_allclose(_backend.to_host(third.data),
                               _reference([40.0], 50, amp=3.0, start=100), atol=1e-5)


def test_pickled_producer_and_state_resume(backend):
    settings = _settings(backend, n_time=13, freq=[4.0, 77.0])
    ticks = _ticks(6)
    ref = OscillatorProducer(settings)
    expected = [ref(t) for t in ticks]
    proc = OscillatorProducer(settings)
    for t in ticks[:3]:
        proc(t)
    clone = pickle.loads(pickle.dumps(proc))
    fresh = OscillatorProducer(settings)
    state = (pickle.loads(pickle.dumps(proc.state)), proc._hash)
    for t, exp in zip(ticks[3:], expected[3:], strict=False):
        assert_close(clone(t).data, exp.data, err_msg="pickled producer")
        state, out = fresh.stateful_op(state, t)
        assert_close(out.data, exp.data, err_msg="stateful_op with pickled state")


def test_unit_resolves_producer():
    assert Oscillator.SETTINGS is OscillatorSettings
    assert get_base_clockdriven_producer_type(Oscillator) is OscillatorProducer


@pytest.mark.parametrize(
    "field,kwargs",
    [
        ("fs", {"fs": 0.0}),
        ("fs", {"fs": float("nan")}),
        ("n_time", {"n_time": 0}),
        ("n_time", {"n_time": 2.5}),
        ("freq", {"freq": -1.0}),
        ("freq", {"freq": 500.0}),
        ("freq", {"freq": [10.0, 600.0]}),
        ("freq", {"freq": []}),
        ("amp", {"amp": float("inf")}),
        ("phase", {"phase": None}),
        ("n_ch", {"n_ch": 0}),
        ("n_ch", {"freq": [1.0, 2.0], "n_ch": 3}),
        ("backend", {"backend": "tensorflow"}),
        ("dtype", {"dtype": "float16"}),
        ("device", {"device": 3}),
    ],
)
def test_settings_errors(field, kwargs):
    kwargs.setdefault("fs", FS)
    with pytest.raises(ValueError, match=f"^{field}"):
        OscillatorSettings(**kwargs)


def test_unavailable_device_is_reported_at_construction():
    settings = _settings(device="cuda:7")  # the settings alone cannot know what is installed
    with pytest.raises(ValueError, match="^device.*available: cpu"):
        OscillatorProducer(settings)
