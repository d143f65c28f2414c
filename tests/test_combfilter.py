import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.combfilter import (
    CombFilterSettings,
    CombFilterTransformer,
    CombFilterUnit,
    comb,
    comb_design_fun,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_pickle_resumes,
    backend_partitions,
    time_signal,
)

FS = 500.0

# ---------------------------------------------------------------- design function


def test_design_reference_values():
    """Value returned by ezmsg-sigproc 3.11.1's comb_design_fun for the same arguments."""
    sos = comb_design_fun(100.0, 20.0, 3, 10.0)
    np.testing.assert_allclose(sos, [
        [0.9408092961815945, -0.5814521219720921, 0.9408092961815945, 1.0,
         -0.5814521219720921, 0.881618592363189],
        [0.8878397555248065, 1.436554901002534, 0.8878397555248065, 1.0, 1.436554901002534,
         0.7756795110496131]], rtol=1e-14)  # the 3rd harmonic (60 Hz) is above Nyquist


@pytest.mark.parametrize("filter_type", ["notch", "peak"])
@pytest.mark.parametrize("quality_scaling", ["constant", "proportional"])
def test_design_equals_scipy(filter_type, quality_scaling):
    sos = comb_design_fun(FS, 60.0, 5, 20.0, filter_type, "sos", quality_scaling)
    fn = scipy.signal.iirnotch if filter_type == "notch" else scipy.signal.iirpeak
    rows = []
    for k in range(1, 5):  # 300 Hz is above Nyquist (250 Hz): dropped
        q = 20.0 * k if quality_scaling == "proportional" else 20.0
        rows.append(np.concatenate(fn(60.0 * k, q, fs=FS)))
    np.testing.assert_array_equal(sos, np.array(rows))
    b, a = comb_design_fun(FS, 60.0, 5, 20.0, filter_type, "ba", quality_scaling)
    rb, ra = scipy.signal.sos2tf(sos)
    np.testing.assert_array_equal(b, rb)
    np.testing.assert_array_equal(a, ra)


def test_design_passthrough():
    assert comb_design_fun(FS, 60.0, 0) is None


@pytest.mark.parametrize("kwargs,field", [
    (dict(fundamental_freq=300.0), "fundamental_freq"),  # ezmsg-sigproc: silent passthrough
    (dict(fundamental_freq=0.0), "fundamental_freq"),
    (dict(num_harmonics=-1), "num_harmonics"),
    (dict(q_factor=0.0), "q_factor"),
    (dict(filter_type="band"), "filter_type"),
    (dict(quality_scaling="linear"), "quality_scaling"),
    (dict(coef_type="zpk"), "coef_type"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        comb_design_fun(FS, **kwargs)


# ---------------------------------------------------------------- settings


def test_settings_defaults_and_factory():
    s = CombFilterSettings()
    assert (s.fundamental_freq, s.num_harmonics, s.q_factor, s.filter_type,
            s.quality_scaling, s.coef_type) == (60.0, 3, 35.0, "notch", "constant", "ba")
    t = comb("time")  # ezmsg-sigproc's factory defaults: 50 Hz, SOS
    assert isinstance(t, CombFilterTransformer)
    assert (t.settings.axis, t.settings.fundamental_freq, t.settings.coef_type) == (
        "time", 50.0, "sos")
    assert CombFilterUnit.SETTINGS is CombFilterSettings


@pytest.mark.parametrize("kwargs,field", [
    (dict(fundamental_freq=-60.0), "fundamental_freq"),
    (dict(num_harmonics=-1), "num_harmonics"),
    (dict(num_harmonics=2.0), "num_harmonics"),
    (dict(q_factor=-1.0), "q_factor"),
    (dict(filter_type="foo"), "filter_type"),
    (dict(quality_scaling="foo"), "quality_scaling"),
    (dict(coef_type="foo"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        CombFilterSettings(**kwargs)


# ---------------------------------------------------------------- processor


def test_chunked_equals_sosfilt(backend, float_dtype):
    host, msg = time_signal(backend, dtype=float_dtype, fs=FS, offset=0.5)
    sos = comb_design_fun(FS, 50.0, 4, 20.0)
    assert sos.shape == (4, 6)  # 50, 100, 150, 200 Hz (fs 500 Hz)
    ref = scipy.signal.sosfilt(sos, host.astype(np.float64), axis=0)
    assert_chunked_equals_whole(
        lambda: CombFilterTransformer(CombFilterSettings(
            axis="time", fundamental_freq=50.0, num_harmonics=4, q_factor=20.0,
            coef_type="sos", initial_state="zero")),
        msg, reference=ref, partitions=backend_partitions(backend, 48, count=5, seed=1))


def test_ba_equals_lfilter_in_float64():
    host, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=1)
    b, a = comb_design_fun(FS, 60.0, 2, 10.0, coef_type="ba")
    out = CombFilterTransformer(CombFilterSettings(axis="time", num_harmonics=2, q_factor=10.0,
                                                   initial_state="zero"))(msg)
    np.testing.assert_allclose(out.data, scipy.signal.lfilter(b, a, host, axis=0), rtol=1e-10,
                               atol=1e-10)


def test_notch_removes_the_line_frequency():
    t = np.arange(2000) / FS
    host = np.sin(2 * np.pi * 50.0 * t)[:, None] + np.sin(2 * np.pi * 100.0 * t)[:, None]
    msg = AxisArray(host, dims=["time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=FS, offset=0.5)})
    out = comb("time", 50.0, 2, 10.0)(msg).data
    assert np.abs(out[-500:]).max() < 0.05  # after settling, both harmonics are gone


def test_pickle_resumes():
    assert_pickle_resumes(lambda: comb("time"),
                          time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=2)[1], split_at=13)


def test_passthrough_and_out_of_band():
    host, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=3)
    np.testing.assert_array_equal(comb("time", num_harmonics=0)(msg).data, host)
    with pytest.raises(ValueError, match=r"^fundamental_freq.*fs/2"):
        comb("time", 60.0)(time_signal(Backend.NUMPY, fs=100.0, offset=0.5, seed=3)[1])
