import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units.kaiser import (
    KaiserFilter,
    KaiserFilterSettings,
    KaiserFilterTransformer,
    kaiser_design_fun,
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
    """Value returned by ezmsg-sigproc 3.11.1's kaiser_design_fun for the same arguments."""
    b, a = kaiser_design_fun(100.0, 20.0, 21.0, 20.0)
    np.testing.assert_allclose(b, [-0.062365952252575955, 0.09354892837886393,
                                   0.30273069145626286, 0.4, 0.30273069145626286,
                                   0.09354892837886393, -0.062365952252575955], rtol=1e-13)
    np.testing.assert_array_equal(a, [1.0])


@pytest.mark.parametrize("cutoff,pass_zero", [(30.0, True), (30.0, False),
                                              ([10.0, 50.0], False), ([10.0, 50.0], True)])
@pytest.mark.parametrize("ripple,width", [(20.0, 5.0), (60.0, 10.0), (80.0, 3.0)])
def test_design_equals_scipy(cutoff, pass_zero, ripple, width):
    b, a = kaiser_design_fun(FS, cutoff, ripple, width, pass_zero)
    numtaps, beta = scipy.signal.kaiserord(ripple, width / (FS / 2))
    ref = scipy.signal.firwin(numtaps | 1, cutoff, window=("kaiser", beta),
                              pass_zero=pass_zero, scale=False, fs=FS)
    assert len(b) % 2 == 1
    np.testing.assert_array_equal(b, ref)
    np.testing.assert_array_equal(a, [1.0])


def test_design_normalised():
    b, _ = kaiser_design_fun(FS, 0.2, 40.0, 0.05, wn_hz=False)
    numtaps, beta = scipy.signal.kaiserord(40.0, 0.05)
    np.testing.assert_array_equal(b, scipy.signal.firwin(numtaps | 1, 0.2,
                                                         window=("kaiser", beta), scale=False))


@pytest.mark.parametrize("kwargs", [dict(), dict(cutoff=30.0), dict(cutoff=30.0, ripple=40.0),
                                    dict(cutoff=30.0, width=5.0), dict(ripple=40.0, width=5.0)])
def test_design_passthrough(kwargs):
    assert kaiser_design_fun(FS, **kwargs) is None


@pytest.mark.parametrize("kwargs,field", [
    (dict(cutoff=150.0, ripple=40.0, width=5.0), "cutoff"),
    (dict(cutoff=30.0, ripple=5.0, width=5.0), "ripple"),
    (dict(cutoff=30.0, ripple=40.0, width=-5.0), "width"),
    (dict(cutoff=30.0, ripple=40.0, width=5.0, pass_zero="x"), "pass_zero"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        kaiser_design_fun(FS, **kwargs)


# ---------------------------------------------------------------- settings


def test_settings_defaults():
    s = KaiserFilterSettings()
    assert (s.cutoff, s.ripple, s.width, s.pass_zero, s.wn_hz, s.coef_type) == (
        None, None, None, True, True, "ba")
    assert KaiserFilter.SETTINGS is KaiserFilterSettings


@pytest.mark.parametrize("kwargs,field", [
    (dict(ripple=-1.0), "ripple"),
    (dict(ripple=7.0), "ripple"),
    (dict(width=-1.0), "width"),
    (dict(cutoff=-1.0), "cutoff"),
    (dict(cutoff=[20.0, 10.0]), "cutoff"),
    (dict(pass_zero="foo"), "pass_zero"),
    (dict(cutoff=1.5, wn_hz=False), "cutoff"),
    (dict(coef_type="fir"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        KaiserFilterSettings(**kwargs)


# ---------------------------------------------------------------- processor


def _make(**kw):
    return lambda: KaiserFilterTransformer(KaiserFilterSettings(axis="time", initial_state="zero",
                                                                **kw))


def test_chunked_equals_lfilter(backend, float_dtype):
    kw = dict(cutoff=30.0, ripple=40.0, width=15.0)
    assert_streams_like_scipy(_make(**kw), backend, float_dtype, fs=FS,
                              b=kaiser_design_fun(FS, **kw)[0])


def test_pickle_resumes():
    assert_pickle_resumes(_make(cutoff=[10.0, 50.0], ripple=40.0, width=10.0, pass_zero=False),
                          time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=2)[1], split_at=13)


def test_passthrough_and_out_of_band():
    assert_passthrough_then_out_of_band(_make(cutoff=30.0),
                                        _make(cutoff=30.0, ripple=40.0, width=5.0),
                                        fs=FS, field="cutoff", slow_fs=50.0)
