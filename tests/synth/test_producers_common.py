"""The contract every clock-driven source shares: namespace/device/dtype of the output,
errors at construction, unthrottled clocks, no drift of the sample count, chunking
invariance, seeds, pickling mid-stream, Unit wiring."""

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pytest
from ezmsg.baseproc.units import get_base_clockdriven_producer_type
from ezmsg.util.messages.axisarray import LinearAxis

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth import (
    Chirp,
    ChirpProducer,
    ChirpSettings,
    Counter,
    CounterProducer,
    CounterSettings,
    EEGSynthProducer,
    EEGSynthSettings,
    Oscillator,
    OscillatorProducer,
    OscillatorSettings,
    PinkNoise,
    PinkNoiseProducer,
    PinkNoiseSettings,
    SpikeTrain,
    SpikeTrainProducer,
    SpikeTrainSettings,
    WhiteNoise,
    WhiteNoiseProducer,
    WhiteNoiseSettings,
)
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.synth import host, on, run, take, ticks

FS = 1000.0
BLOCK = 40  # one block length everywhere: JAX compiles each operation once per shape

# id -> (producer, settings class, keywords giving 3 channels, key, seeded?)
CASES = {
    "sine": (OscillatorProducer, OscillatorSettings, dict(freq=[3.0, 40.0, 111.0]),
             "oscillator", False),
    "square": (OscillatorProducer, OscillatorSettings,
               dict(freq=7.0, n_ch=3, waveform="square"), "oscillator", False),
    "sawtooth": (OscillatorProducer, OscillatorSettings,
                 dict(freq=[3.0, 40.0, 111.0], waveform="sawtooth"), "oscillator", False),
    "triangle": (OscillatorProducer, OscillatorSettings,
                 dict(freq=13.0, n_ch=3, waveform="triangle"), "oscillator", False),
    "counter": (CounterProducer, CounterSettings, dict(n_ch=3, mod=17), "counter", False),
    "chirp": (ChirpProducer, ChirpSettings,
              dict(f0=5.0, f1=200.0, t1=0.05, period=0.08, n_ch=3), "chirp", False),
    "spikes-poisson": (SpikeTrainProducer, SpikeTrainSettings,
                       dict(rate=[50.0, 100.0, 300.0], seed=1), "spikes", True),
    "spikes-regular": (SpikeTrainProducer, SpikeTrainSettings,
                       dict(rate=[30.0, 70.0, 130.0], regular=True), "spikes", False),
    "white": (WhiteNoiseProducer, WhiteNoiseSettings, dict(n_ch=3, seed=2), "white_noise",
              True),
    "pink": (PinkNoiseProducer, PinkNoiseSettings, dict(n_ch=3, seed=3, f_min=1.0),
             "pink_noise", True),
    "eeg": (EEGSynthProducer, EEGSynthSettings, dict(n_ch=3, seed=4), "pink_noise", True),
}
IDS = list(CASES)
UNITS = [(Oscillator, OscillatorProducer), (Counter, CounterProducer), (Chirp, ChirpProducer),
         (SpikeTrain, SpikeTrainProducer), (WhiteNoise, WhiteNoiseProducer),
         (PinkNoise, PinkNoiseProducer)]


def _make(case, where=None, dtype="float32", **kw):
    """The producer of ``case`` on backend ``where`` (a testing ``Backend`` or None)."""
    proc_cls, settings_cls, extra, _, _ = CASES[case]
    kw = {"fs": FS, **extra, **kw}
    return proc_cls(settings_cls(dtype=dtype, **on(where, **kw)))


@pytest.mark.parametrize("case", IDS)
def test_output_namespace_device_dtype(case, backend, float_dtype):
    proc = _make(case, backend, float_dtype, n_time=BLOCK)
    outs = run(proc, ticks(2))
    assert len(outs) == 2
    for out in outs:
        assert out.dims == ["time", "ch"] and out.stream_dim == "time"
        assert out.key == CASES[case][3]
        assert list(out.axes["ch"].data) == ["ch0", "ch1", "ch2"]
        assert out.axes["time"].gain == pytest.approx(1 / FS)
        assert_close(out.data, _backend.to_host(out.data), xp=backend.xp, device=backend.device,
                     dtype=float_dtype)
    assert np.all(np.isfinite(host(outs)))


@pytest.mark.parametrize("case", IDS)
def test_unavailable_device_fails_at_construction(case):
    with pytest.raises(ValueError, match=r"^device: 'cuda:7' .*available: cpu"):
        _make(case, device="cuda:7")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="cupy is installed")
@pytest.mark.parametrize("case", ["sine", "counter", "pink", "eeg"])
def test_missing_backend_fails_at_construction(case):
    with pytest.raises(ValueError, match=r"^backend: 'cupy' is not installed here; installed: "
                                         r"numpy"):
        _make(case, backend="cupy")


@pytest.mark.parametrize("case", ["sine", "chirp", "pink"])
def test_update_to_an_unavailable_device_fails_at_once(case):
    proc = _make(case, n_time=10)
    proc(ticks(1)[0])
    _, settings_cls, extra, _, _ = CASES[case]
    with pytest.raises(ValueError, match="^device"):
        proc.update_settings(settings_cls(fs=FS, n_time=10, device="cuda:7", **extra))


@pytest.mark.parametrize("case", ["sine", "counter", "chirp", "spikes-regular", "pink"])
def test_unthrottled_clock(case):
    proc = _make(case)
    with pytest.raises(ValueError, match=r"^n_time: a clock tick with gain 0"):
        proc(LinearAxis(gain=0.0, offset=5.0))
    fixed = _make(case, n_time=25)
    offs = [fixed(LinearAxis(gain=0.0, offset=5.0)).axes["time"].offset for _ in range(3)]
    assert offs == pytest.approx([0.0, 0.025, 0.05])  # synthetic offsets: counter / fs


def test_sample_count_does_not_drift_over_a_long_run():
    """A 3 Hz clock at fs = 1 kHz: 333.33.. samples per tick, the fraction carried. After
    9000 ticks (50 min) the count is floor(t fs) within one sample, every block's offset is
    its tick's, and the ramp is continuous."""
    proc = CounterProducer(CounterSettings(fs=FS, dtype="float64"))
    tks = ticks(9000, gain=1 / 3, t0=1234.5)
    outs = [proc(t) for t in tks]
    sizes = np.array([o.data.shape[0] for o in outs])
    assert set(sizes) == {333, 334}
    assert abs(int(sizes.sum()) - 9000 * 1000 // 3) <= 1
    assert all(o.axes["time"].offset == t.offset for o, t in zip(outs, tks, strict=True))
    starts = np.array([o.data[0, 0] for o in outs])
    np.testing.assert_array_equal(starts, np.concatenate([[0], np.cumsum(sizes)[:-1]]))
    total = np.cumsum(sizes)
    np.testing.assert_array_less(np.abs(total - np.floor(np.arange(1, 9001) * FS / 3)), 1.01)


def _chunkings(backend):
    """(n_time, gain) driving patterns: fixed blocks and a fractional rate (3 or 4 samples
    per tick); on the slower backends only the latter (every new length costs a compile)."""
    if backend.value == "numpy":
        return [(1, 0.01), (7, 0.01), (100, 0.01), (None, 1 / 300)]
    return [(None, 1 / 300)]


@pytest.mark.parametrize("case", IDS)
def test_stream_does_not_depend_on_block_sizes(case, backend):
    """Deterministic sources, and seeded random ones (the generator is drawn in fixed
    batches), give the same samples whatever the block sizes, on every backend."""
    n = 3 * BLOCK
    ref = take(_make(case, backend, n_time=BLOCK), n)
    for n_time, gain in _chunkings(backend):
        got = take(_make(case, backend, n_time=n_time), n, gain=gain)
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5 * np.abs(ref).max(),
                                   err_msg=f"n_time={n_time}, gain={gain}")


@pytest.mark.parametrize("case", [c for c in IDS if CASES[c][4]])
def test_seed_reproduces_the_stream(case, backend):
    a = take(_make(case, backend, n_time=BLOCK), 2 * BLOCK)
    b = take(_make(case, backend, n_time=BLOCK), 2 * BLOCK)
    np.testing.assert_array_equal(a, b)
    other = take(_make(case, backend, n_time=BLOCK, seed=99), 2 * BLOCK)
    assert not np.array_equal(a, other)


@pytest.mark.parametrize("case", IDS)
def test_pickled_producer_and_state_resume(case, backend):
    tk = ticks(6)
    expected = run(_make(case, backend, n_time=BLOCK), tk)
    proc = _make(case, backend, n_time=BLOCK)
    run(proc, tk[:3])
    clone = pickle.loads(pickle.dumps(proc))
    fresh = _make(case, backend, n_time=BLOCK)
    state = (pickle.loads(pickle.dumps(proc.state)), proc._hash)
    for t, exp in zip(tk[3:], expected[3:], strict=True):
        assert_close(clone(t).data, exp.data, err_msg="pickled producer")
        state, out = fresh.stateful_op(state, t)
        assert_close(out.data, exp.data, err_msg="stateful_op with pickled state")


@pytest.mark.parametrize("unit,producer", UNITS, ids=lambda u: u.__name__)
def test_unit_resolves_producer(unit, producer):
    assert get_base_clockdriven_producer_type(unit) is producer
    assert unit.SETTINGS is producer.get_settings_type()
