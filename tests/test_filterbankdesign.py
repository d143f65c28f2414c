import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.filterbank import FilterbankMode
from ezmsg_sigproc_units.filterbankdesign import (
    FilterbankDesignSettings,
    FilterbankDesignTransformer,
)
from ezmsg_sigproc_units.kaiser import KaiserFilterSettings
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

FS = 250.0
FILTERS = [KaiserFilterSettings(cutoff=(20.0, 60.0), ripple=20.0, width=8.0, pass_zero=False),
           KaiserFilterSettings(cutoff=30.0, ripple=30.0, width=10.0),
           KaiserFilterSettings()]  # passthrough: the one-tap kernel


def _host(n=120, ch=3, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, fs=FS):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=fs)})


def _taps(cutoff, ripple, width, pass_zero, fs=FS):
    n, beta = scipy.signal.kaiserord(ripple, width / (fs / 2))
    return scipy.signal.firwin(n | 1, cutoff, window=("kaiser", beta), pass_zero=pass_zero,
                               scale=False, fs=fs)


def _reference(host, fs=FS):
    """(ch, kernel, time): lfilter of each designed kernel from rest, float64."""
    kernels = [_taps((20.0, 60.0), 20.0, 8.0, False, fs), _taps(30.0, 30.0, 10.0, True, fs),
               np.array([1.0])]
    ys = [scipy.signal.lfilter(k, [1.0], host.astype(np.float64), axis=0) for k in kernels]
    return np.stack(ys, axis=0).transpose(2, 0, 1)


def _make(**kw):
    return lambda: FilterbankDesignTransformer(FilterbankDesignSettings(filters=FILTERS, **kw))


@pytest.mark.parametrize("mode", [FilterbankMode.CONV, FilterbankMode.FFT])
def test_chunked_equals_whole_and_reference(backend, float_dtype, mode):
    host = _host(dtype=float_dtype)
    assert_chunked_equals_whole(_make(mode=mode), _msg(backend, host), reference=_reference(host))


def test_pickle_resumes(backend, float_dtype):
    assert_pickle_resumes(_make(), _msg(backend, _host(dtype=float_dtype, seed=2)), split_at=41)


def test_layout_and_new_axis(backend):
    out = _make(new_axis="band")()(_msg(backend, _host(n=10)))
    assert out.dims == ["ch", "band", "time"]
    assert tuple(out.data.shape) == (3, 3, 10)


def test_sampling_rate_change_redesigns():
    host = _host(n=80, seed=3)
    proc = _make()()
    proc(_msg_np(host, FS))
    out = proc(_msg_np(host, 500.0))
    assert_close(out.data, _reference(host, fs=500.0))


def _msg_np(host, fs):
    return AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=fs)})


def test_update_settings_redesigns_from_rest():
    host = _host(n=60, seed=4)
    proc = FilterbankDesignTransformer(FilterbankDesignSettings(filters=FILTERS[1:]))
    proc(_msg_np(host, FS))
    proc.update_settings(filters=FILTERS)
    assert_close(proc(_msg_np(host, FS)).data, _reference(host))


def test_min_phase_matches_scipy():
    host = _host(n=80, seed=5)
    f = [KaiserFilterSettings(cutoff=30.0, ripple=30.0, width=10.0)]
    out = FilterbankDesignTransformer(FilterbankDesignSettings(filters=f, min_phase="hilbert"))(
        _msg_np(host, FS))
    k = scipy.signal.minimum_phase(_taps(30.0, 30.0, 10.0, True), method="hilbert")
    ref = scipy.signal.lfilter(k, [1.0], host, axis=0).T[:, None, :]
    assert_close(out.data, ref)


def test_bad_settings_and_messages():
    with pytest.raises(ValueError, match="^filters"):
        FilterbankDesignSettings(filters=[])
    with pytest.raises(ValueError, match="^filters"):
        FilterbankDesignSettings(filters=[{"cutoff": 3.0}])
    with pytest.raises(ValueError, match="^mode"):
        FilterbankDesignSettings(filters=FILTERS, mode="nope")
    with pytest.raises(ValueError, match="^new_axis"):
        FilterbankDesignSettings(filters=FILTERS, new_axis="")
    gen = FilterbankDesignSettings(filters=(f for f in FILTERS))  # an iterable, kept
    assert len(gen.filters) == 3
    with pytest.raises(ValueError, match="time"):
        _make(axis="time")()(AxisArray(_host(n=5), dims=["x", "ch"]))
    with pytest.raises(ValueError, match="cutoff"):  # an edge above this stream's Nyquist
        _make()()(_msg_np(_host(n=5), 100.0))
