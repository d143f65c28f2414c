import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.align import (
    AlignAlongAxisProcessor,
    AlignAlongAxisSettings,
    AlignAlongAxisState,
)
from ezmsg_sigproc_units.testing import Backend, assert_close

FS = 100.0


def _msg(host, start, backend=Backend.NUMPY, key="k", ch=None):
    ch = ch if ch is not None else host.shape[1]
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=start / FS),
                           "ch": AxisArray.CoordinateAxis(
                               np.asarray([f"{key}{i}" for i in range(ch)]), dims=["ch"])},
                     key=key)


def _ramp(n, start, ch=2):
    """Sample k of the stream holds k + start in every channel: values name their time."""
    return np.repeat(np.arange(start, start + n, dtype="float32")[:, None], ch, axis=1)


def test_pairs_cover_same_samples(backend):
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings())
    assert proc(_msg(_ramp(10, 0), 0, backend, "a")) is None
    a, b = proc.push_b(_msg(_ramp(8, 4, 3), 4, backend, "b", 3))
    assert_close(a.data, _ramp(6, 4), xp=backend.xp, device=backend.device, dtype="float32")
    assert_close(b.data, _ramp(6, 4, 3), xp=backend.xp, device=backend.device,
                 dtype="float32")
    assert a.key == "a" and b.key == "b" and b.data.shape == (6, 3)
    assert a.axes["time"].offset == b.axes["time"].offset == pytest.approx(0.04)
    a, b = proc(_msg(_ramp(5, 10), 10, backend, "a"))
    assert a.data.shape[0] == 2 and a.axes["time"].offset == pytest.approx(0.10)


def test_no_overlap_drops_the_earlier_input():
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings())
    proc(_msg(_ramp(5, 0), 0))
    assert proc.push_b(_msg(_ramp(5, 20), 20)) is None
    assert proc.state.buf_a.n == 0 and proc.state.buf_b.n == 5
    a, b = proc(_msg(_ramp(30, 5), 5))
    np.testing.assert_array_equal(a.data, _ramp(5, 20))
    np.testing.assert_array_equal(b.data, _ramp(5, 20))


def test_empty_messages_and_input_not_kept():
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings())
    assert proc(_msg(_ramp(0, 0), 0)) is None
    assert proc.push_b(_msg(_ramp(0, 0), 0)) is None
    host = _ramp(6, 0)
    msg = _msg(host, 0)
    proc(msg)
    msg.data[:] = -1  # the caller reuses its buffer: the processor kept a copy
    a, _ = proc.push_b(_msg(_ramp(6, 0), 0))
    np.testing.assert_array_equal(a.data, _ramp(6, 0))


def test_layout_change_resets_that_input():
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings())
    proc(_msg(_ramp(10, 0), 0))
    proc.push_b(_msg(_ramp(4, 0, 3), 0, ch=3))
    a, b = proc.push_b(_msg(_ramp(4, 4, 5), 4, ch=5))  # B's channel count changed
    assert b.data.shape == (4, 5)
    np.testing.assert_array_equal(a.data, _ramp(4, 4))


def test_pickle_resumes():
    first = AlignAlongAxisProcessor(AlignAlongAxisSettings())
    first(_msg(_ramp(10, 0), 0))
    first.push_b(_msg(_ramp(4, 3), 3))
    second = AlignAlongAxisProcessor(AlignAlongAxisSettings())
    second.state = pickle.dumps(first.state)
    assert isinstance(second.state, AlignAlongAxisState)
    for p in (first, second):
        a, b = p.push_b(_msg(_ramp(10, 7), 7))
        np.testing.assert_array_equal(a.data, _ramp(3, 7))
        np.testing.assert_array_equal(b.data, _ramp(3, 7))


def _overfill(strategy, **kw):
    """A runs 30 samples ahead with a 10-sample buffer, then B arrives from sample 0."""
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings(buffer_dur=0.1,
                                                          overflow_strategy=strategy, **kw))
    for k in range(3):
        proc(_msg(_ramp(10, 10 * k), 10 * k))
    return proc


def test_overflow_grow_up_to_max_size():
    proc = _overfill("grow")
    assert proc.state.buf_a.n == 30
    a, b = proc.push_b(_msg(_ramp(30, 0), 0))
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(OverflowError, match="^max_size"):
        _overfill("grow", max_size=30 * 2 * 4 - 1)


def test_overflow_raise():
    with pytest.raises(OverflowError, match="^buffer_dur"):
        _overfill("raise")


def test_overflow_warn_overwrite_keeps_newest():
    with pytest.warns(RuntimeWarning, match="overwrote"):
        proc = _overfill("warn-overwrite")
    assert proc.state.buf_a.n == 10
    a, b = proc.push_b(_msg(_ramp(30, 0), 0))
    np.testing.assert_array_equal(a.data, _ramp(10, 20))
    np.testing.assert_array_equal(b.data, _ramp(10, 20))


def test_overflow_drop_keeps_oldest_then_restarts():
    with pytest.warns(RuntimeWarning, match="dropped"):
        proc = _overfill("drop")
    assert proc.state.buf_a.n == 10
    a, b = proc.push_b(_msg(_ramp(8, 0), 0))
    np.testing.assert_array_equal(a.data, _ramp(8, 0))
    np.testing.assert_array_equal(b.data, _ramp(8, 0))
    proc.push_b(_msg(_ramp(2, 8), 8))
    assert proc.state.buf_a.n == 0
    assert proc(_msg(_ramp(5, 30), 30)) is None  # a new run after the dropped samples
    a, b = proc.push_b(_msg(_ramp(10, 25), 25))
    np.testing.assert_array_equal(a.data, _ramp(5, 30))
    np.testing.assert_array_equal(b.data, _ramp(5, 30))


def test_buffers_stay_bounded_when_one_input_stops():
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings(buffer_dur=0.2,
                                                          overflow_strategy="warn-overwrite"))
    proc.push_b(_msg(_ramp(1, 0), 0))
    with pytest.warns(RuntimeWarning):
        for k in range(50):
            proc(_msg(_ramp(7, 1 + 7 * k), 1 + 7 * k))
    assert proc.state.buf_a.n <= 20


def test_rate_change_of_both_inputs_resets():
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings())
    proc(_msg(_ramp(10, 0), 0))
    fast = AxisArray(np.ones((4, 2), np.float32), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=200.0, offset=1.0)})
    with pytest.raises(ValueError, match="200 Hz and A at 100 Hz"):
        proc.push_b(fast)
    assert proc(fast) is None  # both at 200 Hz now: buffers reset
    assert proc.state.gain == 1 / 200.0 and proc.state.buf_b is None


@pytest.mark.parametrize("field,value", [("buffer_dur", -1.0), ("gain_rtol", -1.0),
                                         ("overflow_strategy", "spill"), ("max_size", 0)])
def test_bad_settings(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        AlignAlongAxisSettings(**{field: value})


def test_missing_axis():
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings(axis="time"))
    bad = AxisArray(np.zeros((3, 2)), dims=["win", "ch"])
    with pytest.raises(ValueError, match="time"):
        proc(bad)


def test_integer_offsets_and_direct_pairing():
    """Offsets given as ints; once aligned, a message whose samples the other input already
    holds is paired as it is (same numbers as the buffered path)."""
    proc = AlignAlongAxisProcessor(AlignAlongAxisSettings())

    def m(start, n, key):
        return AxisArray(_ramp(n, start), dims=["time", "ch"],
                         axes={"time": AxisArray.LinearAxis(gain=1, offset=start)}, key=key)

    proc(m(0, 10, "a"))
    proc.push_b(m(0, 4, "b"))
    a, _ = proc.push_b(m(4, 6, "b"))
    assert a.axes["time"].offset == 4.0 and isinstance(a.axes["time"].offset, float)
    assert proc.push_b(m(10, 5, "b")) is None
    out = proc(m(10, 5, "a"))
    np.testing.assert_array_equal(out[0].data, _ramp(5, 10))
    np.testing.assert_array_equal(out[1].data, _ramp(5, 10))
    assert out[0].axes["time"].offset == out[1].axes["time"].offset == 10.0
