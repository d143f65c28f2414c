import logging
import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.sampler import (
    SamplerSettings,
    SamplerState,
    SamplerTransformer,
    TriggerGeneratorSettings,
    TriggerProducer,
    sampler,
)
from ezmsg_sigproc_units.testing import Backend, assert_close, backend_partitions
from ezmsg_sigproc_units.util.message import SampleTriggerMessage as Trig

FS = 100.0
OFFSET = 3.0
N = 120
PERIOD = (-0.1, 0.15)
TRIG_T = [0.3, 0.505, 0.4, 0.9, 1.0, 0.12]  # relative to OFFSET; 0.12 is too early at 1 s


def _host(n=N, ch=3, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, start=0, times=None, dims=("time", "ch")):
    if times is None:
        tax = AxisArray.TimeAxis(fs=FS, offset=OFFSET + start / FS)
    else:
        tax = AxisArray.CoordinateAxis(data=times, dims=["time"], unit="s")
    ch = AxisArray.CoordinateAxis(data=np.array([f"c{i}" for i in range(host.shape[1])]),
                                  dims=["ch"])
    return AxisArray(backend.asarray(host), dims=list(dims), axes={"time": tax, "ch": ch})


def _chunks(backend, host, lengths):
    out, at = [], 0
    for n in lengths:
        out.append(_msg(backend, host[at:at + n], start=at))
        at += n
    return out


def _reference(host, t, period=PERIOD):
    """Offline epoch: the samples with time in (t + lo, t + hi]."""
    times = OFFSET + np.arange(host.shape[0]) / FS
    sel = (times > t + period[0] + 1e-7) & (times <= t + period[1] + 1e-7)
    return host[sel], times[sel][0]


def _by_value(epochs):
    return {e.attrs["trigger"].value: e for e in epochs}


def _interleave(proc, chunks, triggers, rng):
    """Feed data chunks in order and triggers in order, merged at random positions."""
    events = [("d", c) for c in chunks]
    for trig in triggers:
        events.insert(int(rng.integers(0, len(events) + 1)), ("t", trig))
    out = []
    for _, item in events:
        out += proc(item)
    return out


def _trigs(times=TRIG_T):
    return [Trig(timestamp=OFFSET + t, value=i) for i, t in enumerate(times)]


def test_epochs_equal_offline_reference(backend, float_dtype):
    host = _host(dtype=float_dtype)
    proc = sampler(buffer_dur=2.0, period=PERIOD)
    out = []
    for c in _chunks(backend, host, [30, 50, 40]):
        out += proc(c)
    out += sum((proc(t) for t in _trigs()), [])
    got = _by_value(out)
    assert sorted(got) == list(range(len(TRIG_T)))
    for i, t in enumerate(TRIG_T):
        ref, t0 = _reference(host, OFFSET + t)
        e = got[i]
        assert_close(e.data, ref, xp=backend.xp, device=backend.device, dtype=e.data.dtype)
        assert e.dims == ["time", "ch"] and e.axes["time"].gain == pytest.approx(1 / FS)
        assert e.axes["time"].offset == pytest.approx(t0)
        assert list(e.axes["ch"].data) == ["c0", "c1", "c2"]
        assert e.attrs["trigger"].period == PERIOD


@pytest.mark.parametrize("seed", range(3))
def test_any_interleaving_gives_the_same_epochs(backend, seed):
    host = _host()
    rng = np.random.default_rng(seed)
    ref_proc = sampler(buffer_dur=2.0, period=PERIOD)
    ref_proc(_msg(backend, host))
    whole = _by_value(sum((ref_proc(t) for t in _trigs()), []))
    for lengths in backend_partitions(backend, N, count=3, seed=seed):
        got = _by_value(_interleave(sampler(buffer_dur=2.0, period=PERIOD),
                                    _chunks(backend, host, lengths), _trigs(), rng))
        assert sorted(got) == sorted(whole), lengths
        for k, e in whole.items():
            assert_close(got[k].data, e.data, err_msg=f"{lengths} trigger {k}")
            assert got[k].axes["time"].offset == pytest.approx(e.axes["time"].offset)


def test_window_outside_history_is_skipped_with_a_warning(caplog):
    host = _host()
    proc = sampler(buffer_dur=0.5, period=PERIOD)
    proc(_msg(Backend.NUMPY, host[:100]))  # history: the last 0.5 s (samples 50..99)
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert proc(Trig(timestamp=OFFSET + 0.3, value="old")) == []
    assert "skipped" in caplog.text
    # the next triggers still work, and nothing is left pending
    out = proc(Trig(timestamp=OFFSET + 0.8, value="ok"))
    assert [e.attrs["trigger"].value for e in out] == ["ok"]
    assert_close(out[0].data, _reference(host, OFFSET + 0.8)[0])
    assert not proc.state.triggers


def test_future_trigger_waits_for_its_data():
    host = _host()
    proc = sampler(buffer_dur=1.0, period=PERIOD)
    assert proc(Trig(timestamp=OFFSET + 0.7, value=1)) == []  # before any data
    assert proc(_msg(Backend.NUMPY, host[:80])) == []  # window ends at 0.85: not yet
    out = proc(_msg(Backend.NUMPY, host[80:], start=80))
    assert len(out) == 1
    assert_close(out[0].data, _reference(host, OFFSET + 0.7)[0])


def test_period_edges_fall_on_samples():
    """(t + lo, t + hi]: an edge on a sample excludes the first and includes the last."""
    host = np.arange(40, dtype=np.float64)[:, None]
    proc = sampler(buffer_dur=4.0, period=(-0.25, 0.5))
    msg = AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=8.0)})
    proc(msg)
    (e,) = proc(Trig(timestamp=2.0))
    np.testing.assert_array_equal(e.data[:, 0], np.arange(15, 21))
    assert e.axes["time"].offset == 15 / 8


def test_block_timing_uses_the_next_sample():
    host = _host()
    proc = sampler(buffer_dur=1.0, period=(0.0, 0.1), estimate_alignment=False)
    out = proc(Trig(timestamp=0.0, value="early"))  # no data: the first sample's time
    out += proc(_msg(Backend.NUMPY, host[:30]))
    out += proc(Trig(timestamp=0.0, value="late"))
    out = _by_value(out + proc(_msg(Backend.NUMPY, host[30:], start=30)))
    assert out["early"].attrs["trigger"].timestamp == pytest.approx(OFFSET)
    assert out["late"].attrs["trigger"].timestamp == pytest.approx(OFFSET + 0.3)
    assert_close(out["late"].data, host[31:41])


def test_coordinate_time_axis():
    host = _host()
    times = OFFSET + np.arange(N) / FS
    proc = sampler(buffer_dur=2.0, period=PERIOD)
    proc(_msg(Backend.NUMPY, host[:70], times=times[:70]))
    proc(_msg(Backend.NUMPY, host[70:], times=times[70:]))
    (e,) = proc(Trig(timestamp=OFFSET + 0.6))
    ref, _ = _reference(host, OFFSET + 0.6)
    assert_close(e.data, ref)
    np.testing.assert_allclose(e.axes["time"].data, times[51:76])


def test_no_period_and_bad_periods_are_skipped(caplog):
    proc = sampler(buffer_dur=0.5)
    proc(_msg(Backend.NUMPY, _host()))
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert proc(Trig(timestamp=OFFSET + 1.0)) == []
        assert proc(Trig(timestamp=OFFSET + 1.0, period=(0.2, 0.1))) == []
        assert proc(Trig(timestamp=OFFSET + 1.0, period=(-1.0, 0.1))) == []
    assert caplog.text.count("skipped") == 3
    assert not proc.state.triggers


def test_input_not_kept_or_mutated():
    host = _host()
    msg = _msg(Backend.NUMPY, host.copy())
    proc = sampler(buffer_dur=2.0, period=PERIOD)
    proc(msg)
    msg.data[:] = 0.0  # the publisher reuses its memory
    (e,) = proc(Trig(timestamp=OFFSET + 0.5))
    assert_close(e.data, _reference(host, OFFSET + 0.5)[0])
    e.data[:] = -1.0  # writing into an epoch does not change the history
    (e2,) = proc(Trig(timestamp=OFFSET + 0.5))
    assert_close(e2.data, _reference(host, OFFSET + 0.5)[0])


def test_state_pickles_with_pending_triggers(backend):
    host = _host()
    proc = sampler(buffer_dur=1.0, period=PERIOD)
    proc(_msg(backend, host[:60]))
    proc(Trig(timestamp=OFFSET + 0.55, value="straddles"))
    restored = sampler(buffer_dur=1.0, period=PERIOD)
    restored.state = pickle.loads(pickle.dumps(proc.state))
    restored._hash = proc._hash
    assert isinstance(restored.state, SamplerState)
    a, b = proc(_msg(backend, host[60:], start=60)), restored(_msg(backend, host[60:], start=60))
    assert len(a) == len(b) == 1
    assert_close(b[0].data, a[0].data)
    assert_close(b[0].data, _reference(host, OFFSET + 0.55)[0], xp=backend.xp,
                 device=backend.device)


def test_message_without_the_axis_raises():
    msg = AxisArray(np.zeros((4, 2)), dims=["time", "ch"])
    with pytest.raises(ValueError, match="^axis"):
        SamplerTransformer(SamplerSettings(buffer_dur=1.0, axis="win"))(msg)
    with pytest.raises(ValueError, match="^axis"):
        sampler(buffer_dur=1.0)(msg)  # no time axis object to place triggers on


@pytest.mark.parametrize("kw, field", [
    ({"buffer_dur": 0.0}, "buffer_dur"),
    ({"buffer_dur": float("nan")}, "buffer_dur"),
    ({"buffer_dur": 1.0, "period": (0.5, 0.1)}, "period"),
    ({"buffer_dur": 1.0, "period": (0.5,)}, "period"),
    ({"buffer_dur": 1.0, "buffer_update_strategy": "sometimes"}, "buffer_update_strategy"),
])
def test_bad_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        SamplerSettings(**kw)


@pytest.mark.parametrize("strategy", ["immediate", "threshold", "on_demand"])
def test_peer_configurations_construct(strategy):
    s = SamplerSettings(3.0, None, (-1.0, 1.5), "x", False, strategy)
    assert s.buffer_update_strategy == strategy
    assert sampler(3.0, period=(-0.1, 0.1)).settings.estimate_alignment is True


def test_trigger_producer_is_clock_driven():
    prod = TriggerProducer(TriggerGeneratorSettings(period=(-0.1, 0.2), prewait=0.5,
                                                    publish_period=0.2))
    got = []
    for k in range(12):  # ticks every 0.1 s from t = 10
        got += prod(AxisArray.LinearAxis(gain=0.1, offset=10.0 + 0.1 * k))
    assert [t.value for t in got] == [0, 1, 2, 3]
    np.testing.assert_allclose([t.timestamp for t in got], [10.5, 10.7, 10.9, 11.1])
    assert all(t.period == (-0.1, 0.2) for t in got)
    with pytest.raises(ValueError, match="^publish_period"):
        TriggerGeneratorSettings(period=(0.0, 1.0), publish_period=0.0)


@pytest.mark.parametrize("lengths", [[7] * 17 + [1], [0, 45, 1, 74], [120]])
def test_history_is_exactly_the_last_buffer_dur(lengths, caplog):
    """0.3 s at 100 Hz: samples 90..119 after 120; a window may start at 90, not at 89."""
    host = _host()
    proc = sampler(buffer_dur=0.3, period=(0.0, 0.1))
    for c in _chunks(Backend.NUMPY, host, lengths):
        proc(c)
    t_ok = OFFSET + 89.5 / FS  # window starts at sample 90
    (e,) = proc(Trig(timestamp=t_ok))
    assert_close(e.data, host[90:100])
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert proc(Trig(timestamp=t_ok - 1 / FS)) == []  # would start at sample 89
    assert "skipped" in caplog.text
    assert sum(proc.state.buffer.lengths) <= 30 + max(lengths)


def test_numpy_copy_path_matches_the_portable_one():
    from ezmsg_sigproc_units._kernels import epochs, epochs_numpy

    x = np.arange(24.0).reshape(3, 8)
    for axis, keep in ((0, 2), (1, 5), (1, 99)):
        got = epochs_numpy.own(x, axis, keep)
        ref = epochs.own(Backend.ARRAY_API_STRICT.xp, Backend.ARRAY_API_STRICT.asarray(x),
                         axis, keep)
        np.testing.assert_array_equal(got, np.asarray(ref))
        assert not np.shares_memory(got, x)
