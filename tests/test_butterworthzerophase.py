import numpy as np
import pytest
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


def lookahead_reference(sos, x, pad):
    """Forward sosfilt (edge-scaled start) on the whole signal, then for every sample n a
    backward sosfilt from n + pad (edge-scaled state) back to n: scipy only, sample by sample."""
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None]
    f = scipy.signal.sosfilt(sos, x, axis=0, zi=zi * x[0])[0]
    out = [scipy.signal.sosfilt(sos, f[n:n + pad + 1][::-1], axis=0, zi=zi * f[n + pad])[0][-1]
           for n in range(x.shape[0] - pad)]
    return np.stack(out) if out else np.zeros((0,) + x.shape[1:])


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
    # The truncation bound of the module docstring: 2 max|f| sum_{k > pad} |h[k]|.
    h = scipy.signal.sosfilt(sos, np.eye(1, 20000, 0)[0])
    f = scipy.signal.sosfilt(sos, x, axis=0)
    assert err <= 2 * np.abs(f).max() * np.abs(h[proc.pad + 1:]).sum()
    # Empirically ~1.3 settle_cutoff of the output's peak on this band-pass.
    assert err / np.abs(ref[interior]).max() < 2 * settle


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
