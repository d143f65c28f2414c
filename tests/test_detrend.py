import numpy as np
import pytest
import scipy.signal as ss
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.detrend import DetrendTransformer, DetrendUnit
from ezmsg_sigproc_units.ewma import EWMASettings
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

FS = 50.0
TAU = 0.2


def _host(n=40, ch=3, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, ch)) + np.linspace(0, 5, n)[:, None]).astype(dtype)


def _msg(backend, host):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS)})


def _ref(host):
    a = 1 - np.exp(-1 / (FS * TAU))
    x = host.astype(np.float64)
    t = np.arange(1, x.shape[0] + 1)
    return x - ss.lfilter([a], [1, a - 1], x, axis=0) / (1 - (1 - a) ** t)[:, None]


def _make():
    return DetrendTransformer(EWMASettings(time_constant=TAU))


def test_chunked_equals_whole_and_reference(backend, float_dtype):
    host = _host(dtype=float_dtype)
    # float32: the difference of two values near 5 carries their rounding (~5 * eps)
    assert_chunked_equals_whole(_make, _msg(backend, host), reference=_ref(host),
                                atol=1e-5 if float_dtype == "float32" else None)


def test_first_output_is_zero_and_pickle_resumes(backend):
    host = _host()
    out = _make()(_msg(backend, host[:1]))
    assert_close(out.data, np.zeros((1, 3)), xp=backend.xp, device=backend.device,
                 dtype=host.dtype, atol=1e-12)
    assert_pickle_resumes(_make, _msg(backend, host), split_at=11)


def test_passthrough_and_empty(backend):
    host = _host(n=10)
    proc = DetrendTransformer(EWMASettings(time_constant=TAU, passthrough=True))
    msg = _msg(backend, host)
    assert proc(msg) is msg
    out = _make()(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (0, 3)


def test_unit_and_errors():
    assert DetrendUnit.SETTINGS is EWMASettings
    with pytest.raises(ValueError, match="'nope'"):
        DetrendTransformer(EWMASettings(axis="nope"))(AxisArray(np.zeros((2, 2)),
                                                                 dims=["time", "ch"]))
