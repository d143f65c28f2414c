import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray
from ezmsg.util.messages.util import replace

from ezmsg_sigproc_units.fir_hilbert import (
    FIRHilbertEnvelopeTransformer,
    FIRHilbertEnvelopeUnit,
    FIRHilbertFilterSettings,
    FIRHilbertFilterTransformer,
    FIRHilbertFilterUnit,
    fir_hilbert_design_fun,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_pickle_resumes,
    backend_partitions,
    time_signal,
)

FS = 200.0
NYQ = FS / 2

# ---------------------------------------------------------------- design function


def test_design_reference_values():
    """Value returned by ezmsg-sigproc 3.11.1's fir_hilbert_design_fun (same arguments)."""
    b, a = fir_hilbert_design_fun(100.0, 8, 5.0, None, 5.0, 1.0)
    np.testing.assert_allclose(b, [-0.3965995127541011, 0.12620693440874634,
                                   -0.08151768304975132, 0.5954946876615296, 0.0,
                                   -0.5954946876615296, 0.08151768304975132,
                                   -0.12620693440874634, 0.3965995127541011],
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(a, [1.0])


WEIGHTS = dict(weight_pass=2.0, weight_stop_lo=3.0, weight_stop_hi=4.0)


@pytest.mark.parametrize("order", [40, 41])
def test_design_three_band(order):
    b, _ = fir_hilbert_design_fun(FS, order, 5.0, 60.0, 4.0, 6.0, **WEIGHTS)
    assert len(b) == ((order + 1) | 1)
    ref = scipy.signal.remez(len(b), [0, 5, 9, 60, 66, NYQ], [0, 1, 0], weight=[3.0, 2.0, 4.0],
                             type="hilbert", fs=FS)
    np.testing.assert_array_equal(b, ref)
    np.testing.assert_allclose(b, -b[::-1], atol=1e-15)  # antisymmetric (type III)


@pytest.mark.parametrize("f_hi", [None, 95.0])  # no f_hi, or f_hi + trans_hi >= Nyquist
def test_design_two_band(f_hi):
    b, _ = fir_hilbert_design_fun(FS, 30, 5.0, f_hi, 4.0, 6.0, **WEIGHTS)
    ref = scipy.signal.remez(31, [0, 5, 9, NYQ], [0, 1], weight=[3.0, 2.0], type="hilbert",
                             fs=FS)
    np.testing.assert_array_equal(b, ref)


def test_design_normalisation():
    base, _ = fir_hilbert_design_fun(FS, 40, 5.0, 60.0, 4.0, 6.0)
    b, _ = fir_hilbert_design_fun(FS, 40, 5.0, 60.0, 4.0, 6.0, norm_freq=30.0)
    _, h = scipy.signal.freqz(b, worN=[30.0], fs=FS)
    assert abs(abs(h[0]) - 1.0) < 1e-12
    np.testing.assert_allclose(b, base * (b[0] / base[0]), rtol=1e-12, atol=1e-15)  # rescale
    b, _ = fir_hilbert_design_fun(FS, 40, 5.0, 60.0, 4.0, 6.0, norm_band=(10.0, 50.0))
    _, h = scipy.signal.freqz(b, worN=np.linspace(10.0, 50.0, 2048), fs=FS)
    assert abs(np.median(np.abs(h)) - 1.0) < 1e-12
    both, _ = fir_hilbert_design_fun(FS, 40, 5.0, 60.0, 4.0, 6.0, norm_band=(10.0, 50.0),
                                     norm_freq=30.0)
    np.testing.assert_array_equal(
        both, fir_hilbert_design_fun(FS, 40, 5.0, 60.0, 4.0, 6.0, norm_freq=30.0)[0])


def test_design_passthrough():
    assert fir_hilbert_design_fun(FS, 0) is None


@pytest.mark.parametrize("kwargs,field", [
    (dict(f_lo=120.0), "f_lo"),
    (dict(f_lo=0.0), "f_lo"),
    (dict(f_lo=10.0, f_hi=12.0, trans_lo=3.0), "f_lo"),
    (dict(f_hi=150.0), "f_hi"),
    (dict(norm_freq=100.0), "norm_freq"),
    (dict(norm_band=(50.0, 10.0)), "norm_band"),
    (dict(norm_band=(10.0, 150.0)), "norm_band"),
    (dict(order=-1), "order"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        fir_hilbert_design_fun(FS, **kwargs)


# ---------------------------------------------------------------- settings


def test_settings_defaults():
    s = FIRHilbertFilterSettings()
    assert (s.order, s.f_lo, s.f_hi, s.trans_lo, s.trans_hi, s.weight_pass, s.weight_stop_lo,
            s.weight_stop_hi, s.norm_band, s.norm_freq, s.coef_type) == (
        170, 1.0, None, 1.0, 1.0, 1.0, 1.0, 1.0, None, None, "ba")
    assert FIRHilbertFilterUnit.SETTINGS is FIRHilbertFilterSettings
    assert FIRHilbertEnvelopeUnit.SETTINGS is FIRHilbertFilterSettings


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=-1), "order"),
    (dict(f_lo=0.0), "f_lo"),
    (dict(f_lo=10.0, f_hi=10.5), "f_lo"),
    (dict(f_hi=-1.0), "f_hi"),
    (dict(trans_lo=0.0), "trans_lo"),
    (dict(weight_pass=-1.0), "weight_pass"),
    (dict(norm_band=(5.0,)), "norm_band"),
    (dict(norm_freq=-2.0), "norm_freq"),
    (dict(coef_type="fir"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        FIRHilbertFilterSettings(**kwargs)


# ---------------------------------------------------------------- processor

KW = dict(order=30, f_lo=5.0, f_hi=80.0, trans_lo=5.0, trans_hi=5.0)


def _settings(initial_state="zero", **kw):
    return FIRHilbertFilterSettings(axis="time", initial_state=initial_state, **{**KW, **kw})


def _envelope_ref(host, axis=0, steady=False, **kw):
    b, _ = fir_hilbert_design_fun(FS, **kw)
    x = np.moveaxis(host.astype(np.float64), axis, 0)
    d = (len(b) - 1) // 2
    if steady:
        zi = scipy.signal.lfilter_zi(b, [1.0])[:, None] * x[0]
        h = scipy.signal.lfilter(b, [1.0], x, axis=0, zi=zi)[0]
        pad = np.repeat(x[:1], d, axis=0)
    else:
        h = scipy.signal.lfilter(b, [1.0], x, axis=0)
        pad = np.zeros((d,) + x.shape[1:])
    delayed = np.concatenate([pad, x])[: x.shape[0]]
    return np.moveaxis(np.abs(delayed + 1j * h), 0, axis)


def test_filter_chunked_equals_lfilter(backend, float_dtype):
    host, msg = time_signal(backend, dtype=float_dtype, fs=FS, offset=0.5)
    b, _ = fir_hilbert_design_fun(FS, **KW)
    ref = scipy.signal.lfilter(b, [1.0], host.astype(np.float64), axis=0)
    assert_chunked_equals_whole(
        lambda: FIRHilbertFilterTransformer(_settings()),
        msg, reference=ref, partitions=backend_partitions(backend, 48, count=5, seed=1))


def test_get_taps():
    proc = FIRHilbertFilterTransformer(_settings())
    assert proc.get_taps() is None  # nothing designed before the first message
    proc(time_signal(Backend.NUMPY, fs=FS, offset=0.5)[1])
    assert proc.get_taps() == 31


def test_envelope_chunked_equals_reference(backend, float_dtype):
    host, msg = time_signal(backend, dtype=float_dtype, fs=FS, offset=0.5, seed=1)
    assert_chunked_equals_whole(
        lambda: FIRHilbertEnvelopeTransformer(_settings()),
        msg, reference=_envelope_ref(host, **KW),
        partitions=backend_partitions(backend, 48, count=5, seed=1))


def test_envelope_time_last_and_steady(backend):
    host, msg = time_signal(backend, (3, 48), fs=FS, dtype="float32", dims=("ch", "time"),
                            offset=0.5, seed=2)
    host, msg = host + 3.0, replace(msg, data=msg.data + 3.0)
    settings = _settings(initial_state="steady")
    ref = _envelope_ref(host, axis=1, steady=True, **KW)
    assert_chunked_equals_whole(lambda: FIRHilbertEnvelopeTransformer(settings), msg,
                                reference=ref,
                                partitions=backend_partitions(backend, 48, count=5, seed=1))


def test_envelope_of_a_tone_is_flat():
    t = np.arange(400) / FS
    host = (2.0 * np.cos(2 * np.pi * 30.0 * t))[:, None]
    settings = FIRHilbertFilterSettings(axis="time", order=60, f_lo=5.0, f_hi=80.0,
                                        trans_lo=10.0, trans_hi=10.0)
    msg = AxisArray(host, dims=["time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=FS, offset=0.5)})
    env = FIRHilbertEnvelopeTransformer(settings)(msg).data
    np.testing.assert_allclose(env[70:, 0], 2.0, rtol=0.005)  # after the FIR has filled


def test_envelope_pickle_resumes():
    assert_pickle_resumes(
        lambda: FIRHilbertEnvelopeTransformer(_settings()),
        time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=3)[1], split_at=23)


def test_envelope_needs_an_order():
    proc = FIRHilbertEnvelopeTransformer(FIRHilbertFilterSettings(axis="time", order=0))
    with pytest.raises(ValueError, match="^order"):
        proc(time_signal(Backend.NUMPY, fs=FS, offset=0.5)[1])


def test_out_of_band_raises_at_first_message():
    proc = FIRHilbertFilterTransformer(FIRHilbertFilterSettings(axis="time", f_lo=120.0))
    with pytest.raises(ValueError, match=r"^f_lo.*fs/2"):
        proc(time_signal(Backend.NUMPY, fs=FS, offset=0.5)[1])
