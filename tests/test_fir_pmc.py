import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units.fir_pmc import (
    ParksMcClellanFIR,
    ParksMcClellanFIRSettings,
    ParksMcClellanFIRTransformer,
    parks_mcclellan_design_fun,
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
NYQ = FS / 2

# ---------------------------------------------------------------- design function


def test_design_reference_values():
    """Value returned by ezmsg-sigproc 3.11.1's parks_mcclellan_design_fun (same arguments)."""
    b, a = parks_mcclellan_design_fun(100.0, 8, None, 20.0, 10.0)
    np.testing.assert_allclose(b, [-2.4671622769447922e-17, -1.1960365235449355e-01,
                                   2.4671622769447922e-17, 3.1312642704269056e-01,
                                   5.0000000000000011e-01, 3.1312642704269056e-01,
                                   2.4671622769447922e-17, -1.1960365235449355e-01,
                                   -2.4671622769447922e-17], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(a, [1.0])


W = dict(weight_pass=2.0, weight_stop_lo=3.0, weight_stop_hi=4.0)


@pytest.mark.parametrize("cuton,cutoff,bands,desired,weight", [
    (None, 40.0, [0, 40, 50, NYQ], [1, 0], [2.0, 4.0]),
    (30.0, None, [0, 20, 30, NYQ], [0, 1], [3.0, 2.0]),
    (20.0, 60.0, [0, 10, 20, 60, 70, NYQ], [0, 1, 0], [3.0, 2.0, 4.0]),
    (60.0, 20.0, [0, 20, 30, 50, 60, NYQ], [1, 0, 1], [2.0, 4.0, 2.0]),  # band-stop
    (None, 95.0, [0, 95, NYQ, NYQ], [1, 0], [2.0, 4.0]),  # transition clipped at Nyquist
])
@pytest.mark.parametrize("order", [30, 31])
def test_design_equals_scipy(order, cuton, cutoff, bands, desired, weight):
    b, a = parks_mcclellan_design_fun(FS, order, cuton, cutoff, 10.0, **W)
    assert len(b) == 31 if order == 30 else len(b) == 33  # order + 1, made odd
    ref = scipy.signal.remez(len(b), bands, desired, weight=weight, fs=FS)
    np.testing.assert_array_equal(b, ref)


def test_design_low_transition_clipped_at_zero():
    b, _ = parks_mcclellan_design_fun(FS, 31, 5.0, 40.0, 10.0)
    ref = scipy.signal.remez(33, [0, 0, 5, 40, 50, NYQ], [0, 1, 0], fs=FS)
    np.testing.assert_allclose(b, ref, rtol=0, atol=1e-13)


def test_design_passthrough():
    assert parks_mcclellan_design_fun(FS) is None
    assert parks_mcclellan_design_fun(FS, 0, 5.0, 40.0) is None
    assert parks_mcclellan_design_fun(FS, 31) is None


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=31, cutoff=100.0), "cutoff"),
    (dict(order=31, cuton=120.0), "cuton"),
    (dict(order=31, cuton=20.0, cutoff=20.0), "cuton"),
    (dict(order=31, cuton=30.0, cutoff=20.0, transition=10.0), "transition"),
    (dict(order=31, cutoff=20.0, transition=0.0), "transition"),
    (dict(order=-1, cutoff=20.0), "order"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        parks_mcclellan_design_fun(FS, **kwargs)


# ---------------------------------------------------------------- settings


def test_settings_defaults_and_specs():
    s = ParksMcClellanFIRSettings()
    assert (s.order, s.cuton, s.cutoff, s.transition, s.weight_pass, s.weight_stop_lo,
            s.weight_stop_hi, s.coef_type) == (0, None, None, 10.0, 1.0, 1.0, 1.0, "ba")
    assert s.filter_specs() is None
    assert ParksMcClellanFIRSettings(order=31, cuton=40.0, cutoff=5.0).filter_specs() == (
        "bandstop", (5.0, 40.0))
    assert ParksMcClellanFIR.SETTINGS is ParksMcClellanFIRSettings


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=-1), "order"),
    (dict(cuton=-1.0), "cuton"),
    (dict(cuton=10.0, cutoff=10.0), "cuton"),
    (dict(transition=-1.0), "transition"),
    (dict(weight_stop_lo=0.0), "weight_stop_lo"),
    (dict(cuton=30.0, cutoff=20.0, transition=6.0), "transition"),
    (dict(coef_type="fir"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        ParksMcClellanFIRSettings(**kwargs)


# ---------------------------------------------------------------- processor


def _make(**kw):
    return lambda: ParksMcClellanFIRTransformer(ParksMcClellanFIRSettings(
        axis="time", initial_state="zero", **kw))


def test_chunked_equals_lfilter(backend, float_dtype):
    kw = dict(order=30, cuton=20.0, cutoff=60.0)
    assert_streams_like_scipy(_make(**kw), backend, float_dtype, fs=FS,
                              b=parks_mcclellan_design_fun(FS, **kw)[0])


def test_pickle_resumes():
    assert_pickle_resumes(_make(order=40, cuton=60.0, cutoff=20.0),
                          time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=2)[1], split_at=13)


def test_passthrough_and_out_of_band():
    assert_passthrough_then_out_of_band(_make(cutoff=30.0), _make(order=20, cutoff=30.0),
                                        fs=FS, field="cutoff", slow_fs=50.0)
