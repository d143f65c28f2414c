import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.fbcca import (
    FBCCA,
    FBCCASettings,
    FBCCATransformer,
    StreamingFBCCA,
    StreamingFBCCASettings,
    StreamingFBCCATransformer,
    calc_softmax,
    cca_rho_max,
)
from ezmsg_sigproc_units.testing import assert_close
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

FS = 250.0
FREQS = [8.0, 10.0, 12.0, 15.0]


def _signal(n=500, ch=4, seed=0, f=12.0):
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, ch)) + np.sin(2 * np.pi * f * t)[:, None] * [1, .5, 0, 2][:ch]


def _rho_ref(x, y):
    """Largest canonical correlation by its definition: the top singular value of
    Cxx^-1/2 Cxy Cyy^-1/2 (centred, zero-variance columns dropped)."""
    x = x - x.mean(0)
    y = y - y.mean(0)
    x, y = x[:, x.std(0) > 1e-12], y[:, y.std(0) > 1e-12]

    def isqrt(c):
        w, v = np.linalg.eigh(c)
        return v @ np.diag(w ** -0.5) @ v.T

    return np.linalg.svd(isqrt(x.T @ x) @ x.T @ y @ isqrt(y.T @ y), compute_uv=False)[0]


def _design(n, f, harmonics=5, fs=FS):
    t = np.arange(n) / fs
    return np.column_stack([fn(2 * np.pi * k * f * t) for k in range(1, harmonics + 1)
                            for fn in (np.sin, np.cos)])


def _score_ref(bands, freqs=FREQS, harmonics=5, beta=1.0, n=None):
    """bands: list of (time, ch) arrays, one per sub-band."""
    n = bands[0].shape[0] if n is None else n
    w = np.arange(1, len(bands) + 1) ** -1.25 + 0.25
    s = np.array([sum(wb * _rho_ref(b[:n], _design(n, f, harmonics)) ** 2
                      for wb, b in zip(w, bands, strict=True)) for f in freqs])
    if beta:
        e = np.exp(beta * (s - s.max()))
        s = e / e.sum()
    return s


def _rtol(backend, float_dtype):
    if float_dtype == "float32":
        return 1e-4
    return 1e-6 if backend.value == "mlx" else 1e-9  # MLX's float64 eigh: float32-like


def _msg(backend, host, dims=("time", "ch"), offset=3.0, **axes):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=offset), **axes})


@pytest.mark.parametrize("beta", [1.0, 0.0, 3.0])
def test_cca_scores_match_reference(backend, float_dtype, beta):
    host = _signal().astype(float_dtype)
    out = FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch", freqs=FREQS,
                                         softmax_beta=beta))(_msg(backend, host))
    assert out.dims == ["target_freq"]
    np.testing.assert_array_equal(out.axes["target_freq"].data, FREQS)
    assert_close(out.data, _score_ref([host.astype(np.float64)], beta=beta), xp=backend.xp,
                 device=backend.device, dtype=host.dtype,
                 rtol=_rtol(backend, float_dtype))
    assert int(np.argmax(to_host(out.data))) == 2  # 12 Hz


def test_filterbank_dim_and_outer_dims(backend):
    rng = np.random.default_rng(1)
    host = rng.standard_normal((2, 3, 300, 4))  # (win, band, time, ch)
    msg = AxisArray(backend.asarray(np.transpose(host, (2, 0, 3, 1))),
                    dims=["time", "win", "ch", "band"],
                    axes={"time": AxisArray.TimeAxis(fs=FS),
                          "win": AxisArray.CoordinateAxis(np.array([0.0, 1.0]), ["win"])})
    out = FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch", filterbank_dim="band",
                                         freqs=FREQS, harmonics=3))(msg)
    assert out.dims == ["win", "target_freq"] and "win" in out.axes and "time" not in out.axes
    ref = np.stack([_score_ref(list(host[w]), harmonics=3) for w in range(2)])
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype,
                 rtol=_rtol(backend, "float64"))


def test_max_int_time_uses_samples_from_the_window_start():
    host = _signal(seed=2)
    out = FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch", freqs=FREQS,
                                         max_int_time=1.0))(_msg_np(host, offset=100.0))
    assert_close(out.data, _score_ref([host], n=250))


def _msg_np(host, offset=0.0):
    return AxisArray(host, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=offset)})


def test_freqs_from_trigger_and_missing():
    host = _signal(n=200, seed=3)
    msg = _msg_np(host)
    trig = SampleTriggerMessage(timestamp=0.0)
    object.__setattr__(trig, "freqs", [10.0, 12.0])
    msg.attrs["trigger"] = trig
    out = FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch"))(msg)
    assert_close(out.data, _score_ref([host], freqs=[10.0, 12.0]))
    with pytest.raises(ValueError, match="^freqs"):
        FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch"))(_msg_np(host))


def test_zero_and_aliased_columns_are_ignored():
    """A flat channel adds nothing; a harmonic at Nyquist is a zero reference column."""
    host = _signal(n=300, seed=4)
    host[:, 1] = 2.0
    freqs = [62.5, 12.0]  # 2nd harmonic of 62.5 Hz at 250 Hz: sin == 0
    out = FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch", freqs=freqs,
                                         softmax_beta=0.0, harmonics=2))(_msg_np(host))
    ref = [1.25 * _rho_ref(host, _design(300, f, 2)) ** 2 for f in freqs]  # weight 1**-1.25+.25
    assert_close(out.data, np.array(ref))


def test_empty_windows():
    out = FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch", freqs=FREQS))(
        AxisArray(np.zeros((0, 10, 3)), dims=["win", "time", "ch"],
                  axes={"time": AxisArray.TimeAxis(fs=FS)}))
    assert out.dims == ["win", "target_freq"] and out.data.shape == (0, 4)


def test_streaming_matches_filter_window_and_offline_cca(backend):
    host = _signal(n=750, ch=3, seed=5)
    s = StreamingFBCCASettings(time_dim="time", ch_dim="ch", freqs=FREQS, filterbank_dim="band",
                               subbands=2, window_dur=1.0, window_shift=1.0)
    proc = StreamingFBCCATransformer(s)
    outs = [proc(_msg(backend, host[a:b], offset=a / FS)) for a, b in [(0, 300), (300, 750)]]
    got = np.concatenate([to_host(o.data) for o in outs], axis=0)
    assert outs[0].dims == ["fbcca_window", "target_freq"]
    bands = []
    for lo in (7.0, 14.0):
        n, beta = scipy.signal.kaiserord(20.0, 2.0 / (FS / 2))
        k = scipy.signal.firwin(n | 1, (lo - 2.0, 21.0), window=("kaiser", beta),
                                pass_zero=False, scale=False, fs=FS)
        bands.append(scipy.signal.lfilter(k, [1.0], host, axis=0))
    # zero_pad_until="shift": window ends at 1 s, 2 s, 3 s (no padding when dur == shift)
    ref = np.stack([_score_ref([b[i * 250:(i + 1) * 250] for b in bands]) for i in range(3)])
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9)


def test_helpers(backend):
    x = _signal(n=200, seed=6)
    y = _design(200, 12.0)
    assert cca_rho_max(backend.asarray(x), y) == pytest.approx(_rho_ref(x, y),
                                                             rel=_rtol(backend, "float64"))
    assert cca_rho_max(backend.asarray(x), np.ones((200, 2))) == 0.0
    cv = backend.asarray(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1000.0]]))
    sm = calc_softmax(cv, axis=-1, beta=2.0)
    e = np.exp(2 * (np.array([[1.0, 2, 3], [0, 0, 1000]]) - [[3], [1000]]))
    assert_close(sm, e / e.sum(1, keepdims=True), xp=backend.xp, device=backend.device,
                 dtype=np.float64, rtol=_rtol(backend, "float64"))


def test_bad_settings():
    with pytest.raises(ValueError, match="^time_dim"):
        FBCCASettings(time_dim="", ch_dim="ch")
    with pytest.raises(ValueError, match="^harmonics"):
        FBCCASettings(time_dim="time", ch_dim="ch", harmonics=0)
    with pytest.raises(ValueError, match="^freqs"):
        FBCCASettings(time_dim="time", ch_dim="ch", freqs=[10.0, -1.0])
    with pytest.raises(ValueError, match="^max_int_time"):
        FBCCASettings(time_dim="time", ch_dim="ch", max_int_time=-1.0)
    with pytest.raises(ValueError, match="^subbands"):
        StreamingFBCCASettings(time_dim="time", ch_dim="ch", subbands=0)
    with pytest.raises(ValueError, match="^window_dur"):
        StreamingFBCCASettings(time_dim="time", ch_dim="ch", window_dur=0.0)
    with pytest.raises(ValueError, match="ch"):
        FBCCATransformer(FBCCASettings(time_dim="time", ch_dim="ch", freqs=FREQS))(
            AxisArray(np.zeros((5, 2)), dims=["time", "x"],
                      axes={"time": AxisArray.TimeAxis(fs=FS)}))
    assert FBCCA.SETTINGS is FBCCASettings and StreamingFBCCA.SETTINGS is StreamingFBCCASettings
