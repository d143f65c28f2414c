import numpy as np
import pytest
import scipy.signal as ss
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.bandpower import BandPowerSettings, BandPowerTransformer
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings, SpectrogramTransformer, spectrogram
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

FS, W, H = 200.0, 50, 10  # window 0.25 s, hop 0.05 s


def _msg(backend, host):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=3.0)})


def _host(dtype, n=400, ch=3):
    return np.random.default_rng(0).standard_normal((n, ch)).astype(dtype)


def _scipy_rel_power(host):
    """REL_POWER of every full window, from scipy.signal.spectrogram on the whole signal."""
    w = np.hamming(W)
    _, _, s = ss.spectrogram(host.astype(np.float64).T, FS, window=w, nperseg=W,
                             noverlap=W - H, detrend=False, scaling="spectrum", mode="complex")
    forward = np.transpose(s, (2, 1, 0)) * w.sum() / W  # rfft(x w) / W, (win, freq, ch)
    return np.abs(forward) ** 2 * FS / np.sum(w**2)


def _make():
    return spectrogram(window_dur=W / FS, window_shift=H / FS, transform="REL_POWER")


def test_matches_scipy_on_the_whole_signal(backend, float_dtype):
    host = _host(float_dtype)
    out = _make()(_msg(backend, host))
    assert out.dims == ["time", "freq", "ch"] and out.stream_dim == "time"
    first_full = (W - H) // H  # earlier windows include the zero padding before the stream
    ref = _scipy_rel_power(host)
    got = out.data[first_full:, ...]
    assert_close(got, ref, xp=backend.xp, device=backend.device, dtype=float_dtype)
    t = out.axes["time"]
    assert t.gain == pytest.approx(H / FS) and t.offset == pytest.approx(3.0 + (H - W) / FS)
    assert out.axes["freq"].gain == pytest.approx(FS / W)


def test_chunked_equals_whole(backend, float_dtype):
    host = _host(float_dtype, n=120)
    assert_chunked_equals_whole(_make, _msg(backend, host))


def test_pickle_resumes(backend):
    assert_pickle_resumes(_make, _msg(backend, _host("float32", n=120)), split_at=37)


def test_empty_first_chunk(backend):
    proc = _make()
    out = proc(_msg(backend, _host("float32", n=0)))
    assert tuple(out.data.shape)[0] == 0
    out = proc(_msg(backend, _host("float32", n=60)))
    assert tuple(out.data.shape) == (6, W // 2 + 1, 3)


def test_settings_defaults_match_peer():
    s = SpectrogramSettings()
    assert (s.window_dur, s.window_shift) == (None, None)
    assert s.transform.value == "Log Power (Relative dB)"
    assert isinstance(SpectrogramTransformer(s), SpectrogramTransformer)


def _stage_by_stage(proc, message):
    """The composite's output computed by calling its (nested) stages one after another."""
    out = message
    for stage in proc._procs.values():
        out = _stage_by_stage(stage, out) if hasattr(stage, "_procs") else stage(out)
    return out


def _make_bandpower():
    return BandPowerTransformer(BandPowerSettings(
        spectrogram_settings=SpectrogramSettings(window_dur=W / FS, window_shift=H / FS),
        bands=[(10.0, 30.0), (40.0, 60.0)]))


@pytest.mark.parametrize("make", [_make, _make_bandpower], ids=["spectrogram", "bandpower"])
def test_skipped_stages_give_the_same_empty_messages(make):
    """Chunks that complete no window skip the later stages; their outputs must equal what
    the stages would have produced: same dims, shape, axes (time offset included), key and
    attrs, for a stream of short chunks with a layout change in the middle."""
    fast, slow = make(), make()
    host = _host("float32", n=90)
    for i, n in enumerate([3, 0, 4, 1, 2, 7, 3, 3, 5, 0, 2]):
        start = sum([3, 0, 4, 1, 2, 7, 3, 3, 5, 0, 2][:i])
        ch = 3 if i < 6 else 2  # the channel count changes: the state resets
        msg = AxisArray(np.ascontiguousarray(host[start:start + n, :ch]), dims=["time", "ch"],
                        axes={"time": AxisArray.TimeAxis(fs=FS, offset=start / FS)},
                        key="stream", attrs={"i": i})
        a, b = fast(msg), _stage_by_stage(slow, msg)
        assert a.dims == b.dims and a.data.shape == b.data.shape and a.key == b.key
        assert a.attrs == b.attrs and a.axes.keys() == b.axes.keys()
        for k in a.axes:
            assert a.axes[k] == b.axes[k], k
        np.testing.assert_array_equal(np.asarray(a.data), np.asarray(b.data))
