import asyncio
import logging
import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.process.seqseqsampler import (
    SeqSeqSampler,
    SeqSeqSamplerSettings,
)
from ezmsg_sigproc_units.testing import assert_close, random_partitions
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

FS = 20.0
N = 60


def _streams(dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, 3)).astype(dtype),
            rng.standard_normal((N, 2)).astype(dtype))


def _chunks(backend, host, lengths, dims=("time", "ch"), times=None):
    out, start = [], 0
    for k in lengths:
        if times is None:
            tax = AxisArray.TimeAxis(fs=FS, offset=start / FS)
        else:
            tax = AxisArray.CoordinateAxis(data=times[start:start + k], dims=["time"], unit="s")
        out.append(AxisArray(backend.asarray(host[start:start + k]), dims=list(dims),
                             axes={"time": tax}))
        start += k
    return out


def _trig(ts, period=(0.0, 0.5), value="go"):
    return SampleTriggerMessage(timestamp=ts, period=period, value=value)


def _expected(host, times, trig):
    lo, hi = trig.timestamp + trig.period[0], trig.timestamp + trig.period[1]
    keep = (times >= lo - 1e-9) & (times < hi - 1e-9)
    return host[keep]


def _run(sampler, events):
    out = []
    for kind, msg in events:
        out += getattr(sampler, f"push_{kind}")(msg)
    return out


def _interleave(backend, sig, val, sig_parts, val_parts, triggers, rng):
    """Signal and value chunks merged in a random order (each stream in its own order), the
    triggers up front."""
    s = [("signal", m) for m in _chunks(backend, sig, sig_parts)]
    v = [("value", m) for m in _chunks(backend, val, val_parts, dims=("time", "y"))]
    events = [("trigger", t) for t in triggers]
    while s or v:
        src = s if (s and (not v or rng.random() < 0.5)) else v
        events.append(src.pop(0))
    return events


TRIGGERS = [_trig(0.4), _trig(1.0, (0.0, 0.45)), _trig(2.0, (-0.2, 0.3))]


def test_samples_equal_the_window_every_backend(backend):
    """(Slicing and copying only: one dtype is enough; float32 runs everywhere.)"""
    float_dtype = "float32"
    sig, val = _streams(float_dtype)
    t = np.arange(N) / FS
    rng = np.random.default_rng(1)
    parts = ([[0, 1, 29, 0, 30], [N]] if backend.value != "numpy"
             else random_partitions(N, count=3, seed=2))
    for sp in parts:
        events = _interleave(backend, sig, val, sp, [N // 2, 0, N - N // 2], TRIGGERS, rng)
        out = _run(SeqSeqSampler(max_buffer_dur=5.0), events)
        assert len(out) == len(TRIGGERS)
        for o, trig in zip(out, TRIGGERS, strict=True):  # each window completes in order
            assert_close(o.data, _expected(sig, t, trig), xp=backend.xp, device=backend.device,
                         dtype=float_dtype)
            target = o.attrs["trigger"].value
            assert_close(target.data, _expected(val, t, trig), xp=backend.xp,
                         device=backend.device, dtype=float_dtype)
            assert o.attrs["trigger"].timestamp == trig.timestamp
            lo = trig.timestamp + trig.period[0]
            assert o.axes["time"].offset == pytest.approx(lo)
            assert target.dims == ["time", "y"]
            assert target.axes["time"].offset == pytest.approx(lo)


def test_irregular_timestamps_one_extra_value_sample_is_cropped(caplog):
    """Jittered clocks: the value stream has one more sample in the window; the sub-range
    whose times best match the signal's is kept."""
    t_sig = np.arange(N) / FS
    t_val = np.sort(np.append(t_sig, 1.2125))  # one extra value sample inside [1.0, 1.5)
    sig, val = _streams()
    val = np.random.default_rng(9).standard_normal((N + 1, 2))
    events = ([("signal", m) for m in _chunks(_Np, sig, [N], times=t_sig)]
              + [("value", m) for m in _chunks(_Np, val, [N + 1], dims=("time", "y"),
                                               times=t_val)]
              + [("trigger", _trig(1.0, (0.0, 0.5)))])
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        (o,) = _run(SeqSeqSampler(), events)
    assert "trimming value" in caplog.text
    np.testing.assert_array_equal(o.data, sig[20:30])
    # 11 value samples (rows 20..30) against the signal's 10 at 1.0 .. 1.45: dropping the first
    # costs a mean |dt| of 0.02125 s, dropping the last 0.02375 s: rows 21..30 are kept
    np.testing.assert_array_equal(o.attrs["trigger"].value.data, val[21:31])
    np.testing.assert_allclose(o.attrs["trigger"].value.axes["time"].data, t_val[21:31])


def test_dropped_triggers(caplog):
    sig, val = _streams()
    s = SeqSeqSampler(max_buffer_dur=1.0)
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert s.push_trigger(_trig(0.0, period=None)) == []
        s.push_trigger(_trig(0.1))  # before what a 1 s buffer still holds
        s.push_trigger(_trig(0.0, value="end"))  # reserved, ignored
        for m in _chunks(_Np, val, [N], dims=("time", "y")):
            s.push_value(m)
        out = []
        for m in _chunks(_Np, sig, [N]):
            out += s.push_signal(m)
    assert out == [] and not s._triggers
    assert "without a period" in caplog.text and "before buffers could satisfy" in caplog.text


def test_mismatch_of_two_samples_drops(caplog):
    t = np.arange(N) / FS
    t_val = t.copy()
    t_val[20:30] = np.linspace(1.0, 1.49, 10)  # squeeze: 2 more value samples in [1.0, 1.5)
    t_val[30:32] = [1.495, 1.4975]
    t_val[32:] = np.arange(N - 32) / FS + 1.5
    sig, val = _streams()
    s = SeqSeqSampler()
    s.push_value(_chunks(_Np, val, [N], dims=("time", "y"), times=t_val)[0])
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        assert _run(s, [("signal", _chunks(_Np, sig, [N])[0]),
                        ("trigger", _trig(1.0))]) == []
    assert "could not align" in caplog.text


def test_state_pickles_mid_stream(backend):
    sig, val = _streams()
    rng = np.random.default_rng(5)
    events = _interleave(backend, sig, val, [7, 0, 13, 1, 39], [20, 20, 20], TRIGGERS, rng)
    whole = _run(SeqSeqSampler(), events)
    a = SeqSeqSampler()
    first = _run(a, events[:5])
    b = pickle.loads(pickle.dumps(a))
    rest = _run(b, events[5:])
    assert len(first + rest) == len(whole) == 3
    for got, want in zip(first + rest, whole, strict=True):
        assert_close(got.data, want.data)
        assert_close(got.attrs["trigger"].value.data, want.attrs["trigger"].value.data)


def test_async_api_as_ezmsg_learn():
    sig, val = _streams()

    async def go():
        s = SeqSeqSampler()
        s = s.__aiter__()
        await s.enqueue_trigger(_trig(0.5))
        for m in _chunks(_Np, val, [N], dims=("time", "y")):
            await s.enqueue_value(m)
        assert await s.asend(_chunks(_Np, sig, [N])[0]) is not None
        return await s.__anext__()

    assert asyncio.run(go()) is None  # one trigger, one sample


def test_inputs_are_copied_not_kept():
    sig, val = _streams()
    s = SeqSeqSampler()
    s.push_trigger(_trig(0.5))
    sm, vm = _chunks(_Np, sig, [N])[0], _chunks(_Np, val, [N], dims=("time", "y"))[0]
    s.push_value(vm)
    before = sig.copy()
    sm.data = sig  # the message's own array
    (o,) = s.push_signal(sm)
    sig[:] = 0.0  # an upstream buffer reused after the call
    np.testing.assert_array_equal(o.data, before[10:20])
    (o2,) = s.push_trigger(_trig(1.0))  # its samples are already buffered
    np.testing.assert_array_equal(o2.data, before[20:30])  # the buffer held copies


def test_layout_change_restarts_that_buffer(caplog):
    sig, val = _streams()
    s = SeqSeqSampler()
    s.push_signal(_chunks(_Np, sig, [10])[0])
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        s.push_signal(_chunks(_Np, sig[:, :2], [10])[0])
    assert "signal stream's layout changed" in caplog.text


def test_stream_without_time_axis_is_refused():
    with pytest.raises(ValueError, match="'time' dim"):
        SeqSeqSampler().push_signal(AxisArray(np.zeros((3, 2)), dims=["win", "ch"]))


def test_settings():
    assert SeqSeqSamplerSettings().max_buffer_dur == 5.0
    for bad in (0, -1.0, float("inf"), "5", True):
        with pytest.raises(ValueError, match="^max_buffer_dur"):
            SeqSeqSamplerSettings(max_buffer_dur=bad)


class _Np:
    value = "numpy"

    @staticmethod
    def asarray(x):
        return x
