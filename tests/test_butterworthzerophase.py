import numpy as np
import pytest
import scipy.linalg
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._units import TransformerUnit
from ezmsg_sigproc_units.butterworthzerophase import (
    ButterworthBackwardFilterTransformer,
    ButterworthZeroPhase,
    ButterworthZeroPhaseSettings,
    ButterworthZeroPhaseTransformer,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_pickle_resumes,
    backend_partitions,
    random_partitions,
    split_message,
)

FS = 100.0


def _zp(**kw):
    return ButterworthZeroPhaseTransformer(ButterworthZeroPhaseSettings(**kw))


def _msg(backend, host, dims=("time", "ch"), offset=1.0, fs=FS):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=offset)})


def _np_msg(host, **kw):
    return AxisArray(host, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=kw.get("fs", FS),
                                                      offset=kw.get("offset", 1.0))})


def _sos(order, cuton=None, cutoff=None):
    if cuton is None:
        return scipy.signal.butter(order, cutoff, "lowpass", fs=FS, output="sos")
    if cutoff is None:
        return scipy.signal.butter(order, cuton, "highpass", fs=FS, output="sos")
    return scipy.signal.butter(order, (cuton, cutoff), "bandpass", fs=FS, output="sos")


def truncated_reference(sos, x, pad):
    """Forward sosfilt (edge-scaled start) on the whole signal, then for every sample n a
    backward sosfilt from n + pad (edge-scaled state) back to n: the impulse response
    truncated at the look-ahead, scipy only, sample by sample."""
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None]
    f = scipy.signal.sosfilt(sos, x, axis=0, zi=zi * x[0])[0]
    out = [scipy.signal.sosfilt(sos, f[n:n + pad + 1][::-1], axis=0, zi=zi * f[n + pad])[0][-1]
           for n in range(x.shape[0] - pad)]
    return np.stack(out) if out else np.zeros((0,) + x.shape[1:])


def lookahead_reference(sos, x, pad):
    """Forward sosfilt (edge-scaled start), then ``y[n] = sum_j g[j] f[n+j]`` with the taps
    ``g`` that best (least squares, white input) estimate ``sum_k h[k] f[n+k]`` from
    ``f[n..n+pad]`` with the exact DC gain: one dense constrained solve (a ridge of 1e-6 of
    the signal power on the diagonal)."""
    N = 1 << 12  # the designs tested here have settled to ~1e-15 by then
    h = scipy.signal.sosfilt(sos, np.eye(1, N, 0)[0])
    acf = scipy.signal.fftconvolve(h, h[::-1])[N - 1:]  # R[m], m >= 0
    P = pad + 1
    R = scipy.linalg.toeplitz(acf[:P]) + 1e-6 * acf[0] * np.eye(P)
    r = np.array([h @ acf[np.abs(np.arange(N) - j)] for j in range(P)])
    dc = np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1))
    K = np.block([[R, np.ones((P, 1))], [np.ones((1, P)), np.zeros((1, 1))]])
    g = np.linalg.solve(K, np.r_[r, dc])[:P]
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None]
    f = scipy.signal.sosfilt(sos, x, axis=0, zi=zi * x[0])[0]
    return scipy.signal.lfilter(g[::-1], [1.0], f, axis=0)[pad:]


CONFIGS = {
    "lp4": dict(order=4, cutoff=10.0),
    "bp2": dict(order=2, cuton=5.0, cutoff=20.0, settle_cutoff=0.1),
    "hp1": dict(order=1, cuton=10.0),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_chunked_equals_lookahead_reference(backend, float_dtype, name):
    if backend.value != "numpy" and name != "bp2":
        pytest.skip("numpy-only configuration (kept small on other backends)")
    if backend.value == "jax" and float_dtype == "float64":
        pytest.skip("JAX compiles the IIR kernel per shape and dtype (~2 s); float32 only")
    kw = CONFIGS[name]
    n = 80 if backend.value == "numpy" else 64
    host = (np.random.default_rng(1).standard_normal((n, 2)) + 2.0).astype(float_dtype)
    proc = _zp(**kw)
    proc(_np_msg(host[:1]))
    pad = proc.pad
    sos = _sos(kw["order"], kw.get("cuton"), kw.get("cutoff"))
    ref = lookahead_reference(sos, host.astype(np.float64), pad).astype(float_dtype)
    assert_chunked_equals_whole(lambda: _zp(**kw), _msg(backend, host), reference=ref,
                                partitions=backend_partitions(backend, n))


@pytest.mark.parametrize("settle", [0.01, 0.001])
def test_close_to_true_filtfilt_on_the_interior(settle):
    x = np.random.default_rng(2).standard_normal((2000, 3))
    sos = _sos(4, 5.0, 20.0)
    proc = _zp(order=4, cuton=5.0, cutoff=20.0, settle_cutoff=settle)
    out = proc(_np_msg(x)).data
    ref = scipy.signal.sosfiltfilt(sos, x, axis=0)
    interior = slice(300, 1500)  # away from both ends' transients
    err = np.abs(out[interior] - ref[interior]).max()
    assert err / np.abs(ref[interior]).max() < settle
    # Better than the impulse response truncated at the same look-ahead.
    trunc = truncated_reference(sos, x, proc.pad)
    assert err < 0.75 * np.abs(trunc[interior] - ref[interior]).max()


SPIKE_BAND = {  # 30 kHz: the cases of issue 12 (white noise, one 2 s chunk)
    "hp4": dict(order=4, cuton=250.0),
    "hp8": dict(order=8, cuton=250.0),
    "bp4": dict(order=4, cuton=300.0, cutoff=7500.0),
}


@pytest.mark.parametrize("name", list(SPIKE_BAND))
def test_agrees_with_sosfiltfilt_at_the_default_latency(name):
    """Above 0.999 correlation with offline sosfiltfilt at ezmsg-sigproc's latency (pad from
    settle_cutoff=0.01); the truncated impulse response gave 0.993-0.998. Any chunking
    gives the same numbers."""
    fs, kw = 30000.0, SPIKE_BAND[name]
    x = np.random.default_rng(9).standard_normal((60000, 2))
    msg = _np_msg(x, fs=fs, offset=0.0)
    btype = "bandpass" if "cutoff" in kw else "highpass"
    wn = (kw["cuton"], kw["cutoff"]) if "cutoff" in kw else kw["cuton"]
    sos = scipy.signal.butter(kw["order"], wn, btype, fs=fs, output="sos")
    ref = scipy.signal.sosfiltfilt(sos, x, axis=0)
    proc = _zp(**kw)
    out = proc(msg)
    assert out.axes["time"].offset == pytest.approx(0.0, abs=1e-12)
    n = out.data.shape[0]
    assert n == 60000 - proc.pad
    for ch in range(2):
        assert np.corrcoef(out.data[:, ch], ref[:n, ch])[0, 1] > 0.999
    trunc = truncated_reference(sos, x[:3000], proc.pad)
    assert np.corrcoef(trunc[:, 0], ref[: trunc.shape[0], 0])[0, 1] < 0.999  # (issue 12)
    assert_chunked_equals_whole(lambda: _zp(**kw), msg,
                                partitions=[[7, 1, 0, 30000 - 8, 29999, 1], [60000]])


@pytest.mark.parametrize("kw,pad", [
    (dict(order=4, cutoff=10.0), 24),
    (dict(order=2, cuton=5.0, cutoff=20.0, settle_cutoff=0.1), 14),
    (dict(order=1, cuton=10.0), 7),
    (dict(order=4, cutoff=10.0, max_pad_duration=0.1), 10),
    (dict(order=4, cutoff=10.0, max_pad_duration=0.0), 0),
])
def test_latency_matches_ezmsg_sigproc_and_timestamps_stay_true(kw, pad):
    x = np.random.default_rng(3).standard_normal((90, 2))
    msg = _np_msg(x, offset=2.0)
    for lengths in random_partitions(90, count=4, seed=pad):
        proc, emitted = _zp(**kw), 0
        for chunk in split_message(msg, lengths):
            out = proc(chunk)
            ax = out.axes["time"]
            assert ax.gain == pytest.approx(1 / FS)
            assert ax.offset == pytest.approx(2.0 + emitted / FS)
            emitted += out.data.shape[0]
        assert proc.pad == pad
        assert emitted == 90 - pad


def test_constant_input_is_preserved_and_pad_zero_is_the_forward_filter():
    const = np.full((60, 2), 3.0)
    np.testing.assert_allclose(_zp(order=4, cutoff=10.0)(_np_msg(const)).data, 3.0, rtol=1e-12)
    x = np.random.default_rng(4).standard_normal((60, 2))
    out = _zp(order=4, cutoff=10.0, max_pad_duration=0.0)(_np_msg(x)).data
    sos = _sos(4, cutoff=10.0)
    fwd = scipy.signal.sosfilt(sos, x, axis=0, zi=scipy.signal.sosfilt_zi(sos)[:, :, None] * x[0])
    np.testing.assert_allclose(out, fwd[0], rtol=1e-10, atol=1e-12)


def test_passthrough_without_edges():
    msg = _np_msg(np.ones((5, 2)))
    assert _zp(order=0)(msg) is msg


def test_layout_time_last(backend):
    host = np.random.default_rng(5).standard_normal((2, 32)).astype("float32") + 1.0
    kw = CONFIGS["bp2"]
    proc = _zp(**kw)
    out = proc(_msg(backend, host, dims=("ch", "time")))
    ref = lookahead_reference(_sos(2, 5.0, 20.0), host.T.astype(np.float64), proc.pad).T
    assert out.dims == ["ch", "time"]
    from ezmsg_sigproc_units.testing import assert_close
    assert_close(out.data, ref.astype("float32"), xp=backend.xp, device=backend.device,
                 dtype="float32")


def test_empty_and_short_chunks(backend):
    if backend.value == "jax":
        pytest.skip("JAX's empty chunks run in the chunked test (saves its compile time)")
    proc = _zp(**CONFIGS["bp2"])
    out = proc(_msg(backend, np.zeros((0, 2), "float32")))
    assert tuple(out.data.shape) == (0, 2)
    out = proc(_msg(backend, np.ones((1, 2), "float32")))  # shorter than the latency
    assert tuple(out.data.shape) == (0, 2)


def test_pickle_resumes(backend):
    host = np.random.default_rng(6).standard_normal((64, 2)).astype("float32")
    for split in ((32,) if backend.value == "jax" else (1, 32)):  # inside/after the latency
        assert_pickle_resumes(lambda: _zp(**CONFIGS["bp2"]), _msg(backend, host), split_at=split)


def test_sampling_rate_change_redesigns():
    proc = _zp(order=4, cutoff=10.0)
    proc(_np_msg(np.zeros((30, 1))))
    assert proc.pad == 24
    out = proc(_np_msg(np.zeros((300, 1)), fs=200.0))
    assert proc.pad != 24 and out.data.shape[0] == 300 - proc.pad


@pytest.mark.parametrize("kw,field", [
    (dict(settle_cutoff=0.0), "settle_cutoff"),
    (dict(settle_cutoff=1.0), "settle_cutoff"),
    (dict(settle_cutoff=float("nan")), "settle_cutoff"),
    (dict(max_pad_duration=-1.0), "max_pad_duration"),
    (dict(order=-1), "order"),
    (dict(cuton=5.0, cutoff=5.0), "cuton"),
])
def test_bad_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        ButterworthZeroPhaseSettings(**{"order": 2, **kw})


def test_cutoff_above_nyquist_raises_at_first_message():
    with pytest.raises(ValueError, match="^cutoff"):
        _zp(order=2, cutoff=60.0)(_np_msg(np.zeros((4, 1))))


def test_classes():
    assert issubclass(ButterworthZeroPhase, TransformerUnit)
    assert ButterworthZeroPhase.SETTINGS is ButterworthZeroPhaseSettings
    s = ButterworthZeroPhaseSettings()
    assert (s.settle_cutoff, s.max_pad_duration, s.order) == (0.01, None, 0)
    back = ButterworthBackwardFilterTransformer(ButterworthZeroPhaseSettings(order=4, cutoff=10.0))
    assert back._compute_pad_length(FS) == 24


def test_update_settings_keeping_the_latency_has_no_glitch():
    x = np.random.default_rng(7).standard_normal((100, 2))
    first, second = split_message(_np_msg(x), [50, 50])
    ref = _zp(order=4, cutoff=10.0)
    ref(first)
    want = ref(second).data
    proc = _zp(order=4, cutoff=10.0)
    proc(first)
    proc.update_settings(ButterworthZeroPhaseSettings(order=4, cutoff=10.0,
                                                      settle_cutoff=0.0101))
    got = proc(second)
    assert proc.pad == 24
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


def test_nan_stays_in_its_channel():
    x = np.random.default_rng(8).standard_normal((80, 2))
    x[30, 0] = np.nan
    out = _zp(order=2, cuton=5.0, cutoff=20.0)(_np_msg(x)).data
    assert np.all(np.isfinite(out[:, 1]))
