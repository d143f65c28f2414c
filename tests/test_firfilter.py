import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units.firfilter import (
    FIRFilter,
    FIRFilterSettings,
    FIRFilterTransformer,
    firwin_design_fun,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_pickle_resumes,
    time_signal,
)
from tests.helpers.filter_checks import (
    assert_passthrough_then_out_of_band,
    assert_streams_like_scipy,
)

FS = 200.0

# ---------------------------------------------------------------- design function


def test_design_reference_values():
    """Value returned by ezmsg-sigproc 3.11.1's firwin_design_fun for the same arguments."""
    b, a = firwin_design_fun(100.0, 7, 10.0)
    np.testing.assert_allclose(b, [0.013496923634082036, 0.07845086862310179,
                                   0.2408624742396308, 0.33437946700637067,
                                   0.24086247423963084, 0.07845086862310188,
                                   0.013496923634082036], rtol=1e-13)
    np.testing.assert_array_equal(a, [1.0])


@pytest.mark.parametrize("order,cutoff,pass_zero", [
    (31, 30.0, True), (31, 30.0, False), (30, 30.0, True), (31, [5.0, 30.0], False),
    (31, [5.0, 30.0], "bandstop"), (64, [5.0, 30.0], "bandpass")])
@pytest.mark.parametrize("width,window,scale", [(None, "hamming", True), (8.0, "hamming", True),
                                                (None, "hann", False),
                                                (None, ("kaiser", 4.0), True)])
def test_design_equals_scipy(order, cutoff, pass_zero, width, window, scale):
    b, a = firwin_design_fun(FS, order, cutoff, width, window, pass_zero, scale)
    ref = scipy.signal.firwin(order, cutoff, width=width, window=window, pass_zero=pass_zero,
                              scale=scale, fs=FS)
    np.testing.assert_array_equal(b, ref)
    np.testing.assert_array_equal(a, [1.0])


def test_design_normalised():
    b, _ = firwin_design_fun(FS, 21, 0.2, wn_hz=False)
    np.testing.assert_array_equal(b, scipy.signal.firwin(21, 0.2))


def test_design_passthrough():
    assert firwin_design_fun(FS) is None
    assert firwin_design_fun(FS, 0, 30.0) is None


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=11), "cutoff"),  # ezmsg-sigproc returned NaN taps here
    (dict(order=11, cutoff=100.0), "cutoff"),
    (dict(order=11, cutoff=[30.0, 10.0]), "cutoff"),
    (dict(order=10, cutoff=30.0, pass_zero=False), "order"),  # even taps, high-pass
    (dict(order=11, cutoff=30.0, window="nope"), "window"),
    (dict(order=11, cutoff=30.0, pass_zero="comb"), "pass_zero"),
    (dict(order=11, cutoff=30.0, pass_zero="bandpass"), "pass_zero"),
    (dict(order=11, cutoff=30.0, width=-1.0), "width"),
    (dict(order=-1, cutoff=30.0), "order"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        firwin_design_fun(FS, **kwargs)


# ---------------------------------------------------------------- settings


def test_settings_defaults():
    s = FIRFilterSettings()
    assert (s.order, s.cutoff, s.width, s.window, s.pass_zero, s.scale, s.wn_hz,
            s.coef_type) == (0, None, None, "hamming", True, True, True, "ba")
    assert FIRFilter.SETTINGS is FIRFilterSettings


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=-1), "order"),
    (dict(order=11), "cutoff"),
    (dict(order=11, cutoff=-3.0), "cutoff"),
    (dict(order=10, cutoff=[5.0, 30.0], pass_zero=True), "order"),  # band-stop, even taps
    (dict(width=0.0), "width"),
    (dict(window=None), "window"),
    (dict(pass_zero="foo"), "pass_zero"),
    (dict(order=11, cutoff=1.2, wn_hz=False), "cutoff"),
    (dict(order=11, cutoff="high"), "cutoff"),
    (dict(coef_type="fir"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        FIRFilterSettings(**kwargs)


# ---------------------------------------------------------------- processor


def _make(**kw):
    return lambda: FIRFilterTransformer(FIRFilterSettings(axis="time", initial_state="zero",
                                                          **kw))


def _check_lfilter(backend, float_dtype, kw):
    assert_streams_like_scipy(_make(**kw), backend, float_dtype, fs=FS,
                              b=firwin_design_fun(FS, **kw)[0])


def test_chunked_equals_lfilter(backend, float_dtype):
    # 101 taps: the FFT overlap-save path (shorter designs of the other modules: direct)
    _check_lfilter(backend, float_dtype, dict(order=101, cutoff=[10.0, 40.0], pass_zero=False))


def test_short_filter_chunked_equals_lfilter_numpy():
    _check_lfilter(Backend.NUMPY, "float64", dict(order=15, cutoff=30.0))


def test_time_axis_last():
    host, msg = time_signal(Backend.NUMPY, (3, 48), fs=FS, dims=("ch", "time"), offset=0.5,
                            seed=1)
    b, _ = firwin_design_fun(FS, 9, 30.0)
    out = _make(order=9, cutoff=30.0)()(msg)
    np.testing.assert_allclose(out.data, scipy.signal.lfilter(b, [1.0], host, axis=1),
                               rtol=1e-10, atol=1e-12)


def test_pickle_resumes():
    assert_pickle_resumes(_make(order=21, cutoff=30.0),
                          time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=2)[1], split_at=13)


def test_passthrough_and_out_of_band():
    assert_passthrough_then_out_of_band(_make(), _make(order=11, cutoff=30.0),
                                        fs=FS, field="cutoff", slow_fs=50.0)
