import importlib
import pickle
import sys
import warnings

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.signalinjector import (
    SignalInjectorSettings,
    SignalInjectorTransformer,
)
from ezmsg_sigproc_units.testing import assert_chunked_equals_whole, assert_close

FS = 250.0
OFFSET = 10000.3  # a long running time: float32 phases must not drift


def _host(n=60, ch=4, dtype="float32"):
    return np.random.default_rng(1).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, offset=OFFSET, times=None):
    tax = (AxisArray.TimeAxis(fs=FS, offset=offset) if times is None
           else AxisArray.CoordinateAxis(data=times, dims=["time"], unit="s"))
    return AxisArray(backend.asarray(host), dims=["time", "ch"], axes={"time": tax})


def _reference(host, freq, amp, seed, offset=OFFSET):
    t = offset + np.arange(host.shape[0]) / FS
    mix = np.random.default_rng(seed).random((1, host.shape[1])) * 2.0 - 1.0
    return host.astype(np.float64) + np.sin(2 * np.pi * freq * t)[:, None] * mix * amp


def _proc(freq=13.0, amp=0.7, seed=5):
    return SignalInjectorTransformer(SignalInjectorSettings(frequency=freq, amplitude=amp,
                                                            mixing_seed=seed))


def test_injects_the_reference_on_every_backend(backend, float_dtype):
    host = _host(dtype=float_dtype)
    msg = _msg(backend, host)
    ref = _reference(host, 13.0, 0.7, 5)
    rtol = 1e-4 if float_dtype == "float32" else 1e-9
    if backend.library == "mlx":  # MLX's float64 sine is float32-accurate
        rtol = max(rtol, 1e-6)
    assert_chunked_equals_whole(_proc, msg, reference=ref, rtol=rtol, atol=rtol)
    assert_close(_proc()(msg).data, ref, xp=backend.xp, device=backend.device,
                 dtype=msg.data.dtype, rtol=rtol, atol=rtol)


def test_coordinate_time_axis():
    host = _host()
    times = OFFSET + np.arange(host.shape[0]) / FS
    out = _proc()(_msg(_backend_np(), host, times=times))
    assert_close(out.data, _reference(host, 13.0, 0.7, 5).astype(np.float32), rtol=1e-4)


def _backend_np():
    from ezmsg_sigproc_units.testing import Backend

    return Backend.NUMPY


def test_no_frequency_passes_through_and_live_changes():
    host = _host()
    msg = _msg(_backend_np(), host)
    proc = SignalInjectorTransformer(SignalInjectorSettings(mixing_seed=2))
    assert proc(msg) is msg
    proc.state.cur_frequency = 20.0
    proc.state.cur_amplitude = 3.0
    assert_close(proc(msg).data, _reference(host, 20.0, 3.0, 2).astype(np.float32), rtol=1e-4)
    np.testing.assert_array_equal(msg.data, host)  # the input is not written


def test_state_pickles():
    host = _host()
    proc = _proc()
    proc(_msg(_backend_np(), host[:30]))
    again = _proc()
    again.state = pickle.loads(pickle.dumps(proc.state))
    again._hash = proc._hash
    nxt = _msg(_backend_np(), host[30:], offset=OFFSET + 30 / FS)
    assert_close(again(nxt).data, proc(nxt).data)


def test_missing_time_dim_and_bad_settings():
    msg = AxisArray(np.zeros((3, 2)), dims=["win", "ch"])
    with pytest.raises(ValueError, match="^time_dim"):
        _proc()(msg)
    with pytest.raises(ValueError, match="^frequency"):
        SignalInjectorSettings(frequency="x")
    with pytest.raises(ValueError, match="^amplitude"):
        SignalInjectorSettings(amplitude=float("nan"))
    with pytest.raises(ValueError, match="^mixing_seed"):
        SignalInjectorSettings(mixing_seed=1.5)


# --------------------------------------------------------------------------- messages.TSMessage
def test_tsmessage_warns_and_builds_an_axisarray():
    sys.modules.pop("ezmsg_sigproc_units.messages", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mod = importlib.import_module("ezmsg_sigproc_units.messages")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    data = np.zeros((3, 20))
    msg = mod.TSMessage(data, fs=10.0, time_dim=1, timestamp=5.0)
    assert msg.dims == ["dim_0", "time"]
    assert msg.data is data
    assert msg.axes["time"].gain == 0.1 and msg.axes["time"].offset == pytest.approx(3.0)
    assert mod.TSMessage(np.zeros(4)).dims == ["time"]
