"""util.axisarray_buffer: messages written in random chunks and read back in random amounts
equal the whole stream (data and axis), on every backend; layout, overflow, axis queries."""

import warnings

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import backend_name, device_of, to_host
from ezmsg_sigproc_units.util.axisarray_buffer import HybridAxisArrayBuffer, HybridAxisBuffer

FS = 100.0
T0 = 3.0


def _stream(n, ch=3):
    """Sample k of channel c holds k + c / 10: the data say which sample they are."""
    return np.arange(n, dtype=np.float32)[:, None] + np.arange(ch, dtype=np.float32) / 10


def _msgs(backend, host, sizes, coords=False, time_last=False):
    out, k = [], 0
    ch = AxisArray.CoordinateAxis(data=np.array([f"c{i}" for i in range(host.shape[1])]),
                                  dims=["ch"])
    for n in sizes:
        part = host[k:k + n]
        if coords:
            tax = AxisArray.CoordinateAxis(data=T0 + np.arange(k, k + n) / FS, dims=["time"])
        else:
            tax = AxisArray.TimeAxis(fs=FS, offset=T0 + k / FS)
        data = np.ascontiguousarray(part.T) if time_last else part
        dims = ["ch", "time"] if time_last else ["time", "ch"]
        out.append(AxisArray(backend.asarray(data), dims=dims, axes={"time": tax, "ch": ch}))
        k += n
    return out


def _check_read(backend, out, host, k, coords, time_last):
    assert backend_name(out.data) == backend_name(backend.xp)
    assert device_of(out.data) == device_of(backend.asarray(np.zeros(1)))
    assert out.dims == (["ch", "time"] if time_last else ["time", "ch"])
    data = to_host(out.data)
    data = data.T if time_last else data
    n = data.shape[0]
    np.testing.assert_array_equal(data, host[k:k + n])
    tax = out.axes["time"]
    if coords:
        np.testing.assert_allclose(to_host(tax.data), T0 + np.arange(k, k + n) / FS)
    else:
        assert tax.offset == pytest.approx(T0 + k / FS) and tax.gain == pytest.approx(1 / FS)
    assert list(out.axes["ch"].data) == [f"c{i}" for i in range(host.shape[1])]
    return n


@pytest.mark.parametrize("coords", [False, True], ids=["linear", "coords"])
@pytest.mark.parametrize("time_last", [False, True], ids=["time-first", "time-last"])
def test_random_reads_equal_the_stream(backend, coords, time_last):
    rng = np.random.default_rng(int(coords) + 2 * int(time_last))
    sizes = [int(s) for s in rng.choice([0, 1, 4, 9], 24)]
    host = _stream(sum(sizes))
    buf = HybridAxisArrayBuffer(duration=1.0)
    assert buf.read() is None and buf.peek() is None and buf.available() == 0
    k = 0
    for msg in _msgs(backend, host, sizes, coords, time_last):
        buf.write(msg)
        assert buf.available() == len(host[:k + buf.available()]) - k
        if rng.random() < 0.6 and buf.available():
            want = int(rng.integers(1, buf.available() + 1))
            peeked = buf.peek(want)
            _check_read(backend, peeked, host, k, coords, time_last)
            k += _check_read(backend, buf.read(want), host, k, coords, time_last)
    rest = buf.read()
    if rest is not None:
        k += _check_read(backend, rest, host, k, coords, time_last)
    assert k == len(host) and buf.is_empty()
    assert buf.sample_axis == (1 if time_last else 0)


def test_later_messages_are_permuted_to_the_first_layout():
    from ezmsg_sigproc_units.testing import Backend

    host = _stream(10)
    first, second = _msgs(Backend.NUMPY, host, [4, 6])
    second = AxisArray(np.ascontiguousarray(second.data.T), dims=["ch", "time"],
                       axes=second.axes)
    buf = HybridAxisArrayBuffer(duration=1.0)
    buf.write(first)
    buf.write(second)
    out = buf.read()
    assert out.dims == ["time", "ch"]
    np.testing.assert_array_equal(out.data, host)


def test_input_is_not_kept_or_changed():
    from ezmsg_sigproc_units.testing import Backend

    host = _stream(6)
    (msg,) = _msgs(Backend.NUMPY, host.copy(), [6])
    buf = HybridAxisArrayBuffer(duration=1.0)
    buf.write(msg)
    msg.data[:] = -1
    np.testing.assert_array_equal(buf.read().data, host)


@pytest.mark.parametrize("coords", [False, True], ids=["linear", "coords"])
@pytest.mark.parametrize("strategy", ["warn-overwrite", "drop"])
def test_overflow_keeps_data_and_axis_in_step(coords, strategy):
    from ezmsg_sigproc_units.testing import Backend

    host = _stream(40)
    buf = HybridAxisArrayBuffer(duration=0.1, overflow_strategy=strategy)  # 10 samples
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for msg in _msgs(Backend.NUMPY, host, [6, 6, 6], coords):
            buf.write(msg)
            out = buf.peek()
            first = int(out.data[0, 0])
            tax = out.axes["time"]
            t_first = tax.data[0] if coords else tax.offset
            assert t_first == pytest.approx(T0 + first / FS)
            assert buf.available() <= 10
    out = buf.read()
    expected = np.arange(8, 18) if strategy == "warn-overwrite" else np.arange(0, 10)
    np.testing.assert_array_equal(out.data[:, 0], expected)


def test_axis_queries_linear():
    from ezmsg_sigproc_units.testing import Backend

    buf = HybridAxisArrayBuffer(duration=1.0)
    assert buf.axis_first_value is None and buf.axis_gain is None
    for msg in _msgs(Backend.NUMPY, _stream(20), [8, 12]):
        buf.write(msg)
    assert buf.axis_first_value == pytest.approx(T0)
    assert buf.axis_final_value == pytest.approx(T0 + 19 / FS)
    assert buf.axis_gain == pytest.approx(1 / FS)
    assert buf.axis_searchsorted(T0 + 0.05) == 5
    assert buf.axis_searchsorted(T0 + 0.05, side="right") == 6
    got = buf.axis_searchsorted(np.array([T0 + 0.031, T0 + 0.05]), side="right")
    np.testing.assert_array_equal(got, [4, 6])
    assert buf.prune(5) == 15 and buf.available() == 5
    assert buf.axis_first_value == pytest.approx(T0 + 15 / FS)
    assert buf.peek_axis().offset == pytest.approx(T0 + 15 / FS)
    assert buf.seek(-3) == -3 and buf.axis_first_value == pytest.approx(T0 + 12 / FS)
    assert not buf.is_full()


def test_axis_queries_coords():
    from ezmsg_sigproc_units.testing import Backend

    buf = HybridAxisArrayBuffer(duration=1.0)
    for msg in _msgs(Backend.NUMPY, _stream(20), [8, 12], coords=True):
        buf.write(msg)
    assert buf.axis_first_value == pytest.approx(T0)
    assert buf.axis_final_value == pytest.approx(T0 + 19 / FS)
    assert buf.axis_gain == pytest.approx(1 / FS)
    assert buf.axis_searchsorted(T0 + 0.051) == 6
    assert buf.prune(5) == 15
    np.testing.assert_allclose(buf.peek_axis().data, T0 + np.arange(15, 20) / FS)


def test_axis_buffer_linear_overflow_policies():
    lin = AxisArray.TimeAxis(fs=10.0, offset=0.0)
    nxt = AxisArray.TimeAxis(fs=10.0, offset=0.8)
    b = HybridAxisBuffer(duration=1.0, overflow_strategy="raise")  # 10 samples
    b.write(lin, 8)
    with pytest.raises(OverflowError):
        b.write(nxt, 4)
    b = HybridAxisBuffer(duration=1.0, overflow_strategy="drop")
    b.write(lin, 8)
    b.write(nxt, 4)
    assert b.available() == 10 and b.first_value == pytest.approx(0.0)
    b = HybridAxisBuffer(duration=1.0, overflow_strategy="warn-overwrite")
    b.write(lin, 8)
    with pytest.warns(RuntimeWarning):
        b.write(nxt, 4)
    assert b.available() == 10 and b.first_value == pytest.approx(0.2)
    assert b.final_value == pytest.approx(1.1) and b.is_full()
    with pytest.raises(TypeError):
        b.write(AxisArray.CoordinateAxis(data=np.zeros(2), dims=["time"]), 2)
    with pytest.raises(ValueError, match="gain"):
        b.write(AxisArray.TimeAxis(fs=20.0, offset=1.2), 2)


def test_pickle_mid_stream_resumes(backend):
    import pickle

    host = _stream(12)
    msgs = _msgs(backend, host, [5, 4, 3])
    a = HybridAxisArrayBuffer(duration=1.0)
    a.write(msgs[0])
    a.read(2)
    a.write(msgs[1])
    b = pickle.loads(pickle.dumps(a))
    for buf in (a, b):
        buf.write(msgs[2])
    k = 2
    for buf in (a, b):
        assert _check_read(backend, buf.read(), host, k, False, False) == 10
