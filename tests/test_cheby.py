import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units.cheby import (
    ChebyshevFilter,
    ChebyshevFilterSettings,
    ChebyshevFilterTransformer,
    cheby_design_fun,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_close,
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
    """Value returned by ezmsg-sigproc 3.11.1's cheby_design_fun for the same arguments."""
    sos = cheby_design_fun(100.0, 2, 30.0, 20.0, btype="highpass", coef_type="sos",
                           cheby_type="cheby2")
    np.testing.assert_allclose(sos, [[0.0945576079019278, -0.11013381410799496,
                                      0.09455760790192778, 1.0, 1.0991810958021002,
                                      0.3984301257139508]], rtol=1e-13)


@pytest.mark.parametrize("cheby_type,ripple", [("cheby1", 0.5), ("cheby2", 40.0)])
@pytest.mark.parametrize("btype,wn", [("lowpass", 30.0), ("high", 12.0),
                                      ("bandpass", (5.0, 40.0)), ("bandstop", [45.0, 55.0])])
@pytest.mark.parametrize("coef_type", ["ba", "sos"])
def test_design_equals_scipy(cheby_type, ripple, btype, wn, coef_type):
    got = cheby_design_fun(FS, 4, ripple, wn, btype=btype, coef_type=coef_type,
                           cheby_type=cheby_type)
    fn = getattr(scipy.signal, cheby_type)
    ref = fn(4, ripple, wn, btype=btype, output=coef_type, fs=FS)
    for g, r in zip(got if coef_type == "ba" else [got], ref if coef_type == "ba" else [ref],
                    strict=True):
        np.testing.assert_array_equal(g, r)


def test_design_normalised_and_analog():
    np.testing.assert_array_equal(
        cheby_design_fun(FS, 3, 1.0, 0.25, coef_type="sos", wn_hz=False),
        scipy.signal.cheby1(3, 1.0, 0.25, output="sos"))
    b, a = cheby_design_fun(FS, 3, 1.0, 0.25, analog=True, wn_hz=False)  # scipy's prototype
    rb, ra = scipy.signal.cheby1(3, 1.0, 0.25, analog=True)
    np.testing.assert_array_equal(b, rb)
    np.testing.assert_array_equal(a, ra)


def test_design_passthrough():
    assert cheby_design_fun(FS, 0, 0.5, 30.0) is None
    assert cheby_design_fun(FS) is None


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=4, ripple_tol=0.5), "Wn"),  # ezmsg-sigproc returned NaN coefficients here
    (dict(order=4, Wn=30.0), "ripple_tol"),
    (dict(order=4, ripple_tol=0.5, Wn=100.0), "Wn"),
    (dict(order=4, ripple_tol=0.5, Wn=(30.0, 10.0), btype="bandpass"), "Wn"),
    (dict(order=4, ripple_tol=0.5, Wn=30.0, btype="bandpass"), "Wn"),
    (dict(order=4, ripple_tol=0.5, Wn=30.0, btype="comb"), "btype"),
    (dict(order=4, ripple_tol=0.5, Wn=30.0, cheby_type="cheby3"), "cheby_type"),
    (dict(order=4, ripple_tol=0.5, Wn=30.0, analog=True), "analog"),
    (dict(order=-2, ripple_tol=0.5, Wn=30.0), "order"),
    (dict(order=2, ripple_tol=0.5, Wn=30.0, coef_type="abc"), "coef_type"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        cheby_design_fun(FS, **kwargs)


# ---------------------------------------------------------------- settings


def test_settings_defaults():
    s = ChebyshevFilterSettings()
    assert (s.order, s.ripple_tol, s.Wn, s.btype, s.analog, s.cheby_type, s.wn_hz,
            s.coef_type) == (0, None, None, "lowpass", False, "cheby1", True, "ba")
    assert ChebyshevFilter.SETTINGS is ChebyshevFilterSettings


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=-1), "order"),
    (dict(cheby_type="foo"), "cheby_type"),
    (dict(btype="foo"), "btype"),
    (dict(order=4, ripple_tol=-1.0, Wn=30.0), "ripple_tol"),
    (dict(order=4, Wn=30.0), "ripple_tol"),
    (dict(order=4, ripple_tol=1.0), "Wn"),
    (dict(order=4, ripple_tol=1.0, Wn=(10.0, 20.0)), "Wn"),
    (dict(order=4, ripple_tol=1.0, Wn=1.5, wn_hz=False), "Wn"),
    (dict(analog=True), "analog"),
    (dict(coef_type="zpk"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        ChebyshevFilterSettings(**kwargs)


# ---------------------------------------------------------------- processor


def _make(**kw):
    return lambda: ChebyshevFilterTransformer(ChebyshevFilterSettings(
        axis="time", initial_state="zero", **kw))


def _check_sosfilt(backend, float_dtype, kw):
    s = ChebyshevFilterSettings(**kw)
    sos = cheby_design_fun(FS, s.order, s.ripple_tol, s.Wn, s.btype, coef_type="sos",
                           cheby_type=s.cheby_type)
    assert_streams_like_scipy(_make(**kw), backend, float_dtype, fs=FS, sos=sos)


def test_chunked_equals_sosfilt(backend, float_dtype):
    _check_sosfilt(backend, float_dtype, dict(order=4, ripple_tol=0.5, Wn=(10.0, 40.0),
                                              btype="bandpass", coef_type="sos"))


def test_cheby2_chunked_equals_sosfilt_numpy():
    _check_sosfilt(Backend.NUMPY, "float64", dict(order=3, ripple_tol=40.0, Wn=30.0,
                                                  cheby_type="cheby2", coef_type="sos"))


def test_ba_equals_lfilter_in_float64(backend):
    if not backend.supports_float64():
        pytest.skip(f"{backend.value} has no float64 here")
    host, msg = time_signal(backend, fs=FS, offset=0.5, seed=1)
    b, a = cheby_design_fun(FS, 4, 1.0, (10.0, 40.0), "bandpass")
    out = _make(order=4, ripple_tol=1.0, Wn=(10.0, 40.0), btype="bandpass")()(msg)
    assert_close(out.data, scipy.signal.lfilter(b, a, host, axis=0), xp=backend.xp,
                 device=backend.device, dtype="float64")


def test_pickle_resumes():
    assert_pickle_resumes(_make(order=4, ripple_tol=0.5, Wn=30.0, coef_type="sos"),
                          time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=2)[1], split_at=21)


def test_passthrough_and_out_of_band():
    assert_passthrough_then_out_of_band(_make(), _make(order=2, ripple_tol=1.0, Wn=120.0),
                                        fs=FS, field="Wn")
