import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

import ezmsg_sigproc_units._backend as backend_pkg
import ezmsg_sigproc_units._backend.host as host_mod
from ezmsg_sigproc_units.spectrum import (
    SpectralOutput,
    SpectralTransform,
    SpectrumSettings,
    SpectrumTransformer,
    WindowFunction,
    spectrum,
)
from ezmsg_sigproc_units.testing import assert_close

FS = 50.0
_WINDOWS = {
    "NONE": lambda n, p: np.ones(n),
    "HAMMING": lambda n, p: np.hamming(n),
    "HANNING": lambda n, p: np.hanning(n),
    "BARTLETT": lambda n, p: np.bartlett(n),
    "BLACKMAN": lambda n, p: np.blackman(n),
    "BLACKMAN_HARRIS": lambda n, p: scipy.signal.windows.blackmanharris(n, sym=True),
    "FLATTOP": lambda n, p: scipy.signal.windows.flattop(n, sym=True),
    "TUKEY": lambda n, p: scipy.signal.windows.tukey(n, 0.5 if p is None else p, sym=True),
    "KAISER": lambda n, p: scipy.signal.windows.kaiser(n, 14.0 if p is None else p, sym=True),
}


def _msg(backend, host, dims=("time", "ch"), fs=FS):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=1.0)})


def _ref(x, *, ix=0, window="HAMMING", transform="REL_DB", output="POSITIVE", shift=True,
         norm="forward", nfft=None, param=None, fs=FS):
    """NumPy float64 model of the spectrum, as observed from ezmsg-sigproc 3.11.1."""
    x = np.moveaxis(np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64),
                    ix, -1)
    n = x.shape[-1]
    nfft = nfft or n
    w = _WINDOWS[window](n, param)
    f = np.fft.fft(x * w, n=nfft, axis=-1, norm=norm)
    if output == "POSITIVE":
        f = f[..., : nfft // 2 + 1]
    elif output == "NEGATIVE":
        f = np.fft.fftshift(f, axes=-1)[..., : nfft // 2 + 1]
    elif shift:
        f = np.fft.fftshift(f, axes=-1)
    p = np.abs(f) ** 2
    out = {"RAW_COMPLEX": f, "REAL": f.real, "IMAG": f.imag,
           "REL_POWER": p * fs / np.sum(w * w), "REL_DB": 10 * np.log10(p * fs / np.sum(w * w)),
           "MAGNITUDE": np.abs(f), "POWER": p, "DB": 10 * np.log10(p)}[transform]
    return np.moveaxis(out, -1, ix)


def _check(out, ref, backend, float_dtype, complex_out=False):
    dt = ({"float32": "complex64", "float64": "complex128"}[float_dtype]
          if complex_out else float_dtype)
    if complex_out and backend.value == "mlx":
        dt = "complex64"  # MLX has no complex128
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=dt)


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) + 0.5


# ------------------------------------------------------------------------- peer conformance
def test_matches_values_observed_from_peer():
    t = np.arange(10)
    x = np.stack([np.sin(0.7 * t) + 0.1 * t, np.cos(1.3 * t) - 0.5], axis=1)
    msg = AxisArray(x, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=50.0)})
    out = SpectrumTransformer(SpectrumSettings(axis="time"))(msg)
    peer = [[-1.6792602580340275, -1.1832977178013426], [-2.1383544932481096, -14.127444180467714],
            [-6.089003752090734, -0.9957016716036805], [-28.166836959786295, -6.020187640208398],
            [-39.82687317713615, -27.69911457391407], [-36.26186899994937, -42.07369480775292]]
    np.testing.assert_allclose(out.data, np.array(peer), rtol=1e-12)
    assert out.dims == ["freq", "ch"]
    assert out.axes["freq"] == LinearAxis(gain=5.0, offset=0.0, unit="Hz")
    assert "time" not in out.axes
    full = SpectrumTransformer(SpectrumSettings(
        axis="time", output="FULL", transform="RAW_COMPLEX", window="BLACKMAN"))(msg)
    assert full.axes["freq"].offset == -25.0 and full.data[5, 0].imag == 0.0


@pytest.mark.parametrize("transform", list(SpectralTransform))
@pytest.mark.parametrize("output,shift", [("POSITIVE", True), ("NEGATIVE", True),
                                          ("NEGATIVE", False), ("FULL", True), ("FULL", False)])
def test_transforms_and_outputs(backend, float_dtype, transform, output, shift):
    host = _data((9, 3)).astype(float_dtype)
    s = SpectrumSettings(axis="time", transform=transform, output=output, do_fftshift=shift)
    out = SpectrumTransformer(s)(_msg(backend, host))
    ref = _ref(host, transform=transform.name, output=output, shift=shift)
    _check(out, ref, backend, float_dtype, transform is SpectralTransform.RAW_COMPLEX)


@pytest.mark.parametrize("n", [8, 9])
@pytest.mark.parametrize("output,shift,offset_bins", [
    ("POSITIVE", True, 0), ("FULL", True, -1), ("FULL", False, 0), ("NEGATIVE", False, -1)])
def test_frequency_axis(n, output, shift, offset_bins):
    out = SpectrumTransformer(SpectrumSettings(axis="time", output=output, do_fftshift=shift))(
        AxisArray(_data((n, 2)), dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))
    ax = out.axes["freq"]
    assert ax.gain == pytest.approx(FS / n) and ax.unit == "Hz"
    assert ax.offset == pytest.approx(offset_bins * (n // 2) * FS / n)
    assert out.data.shape[0] == (n if output == "FULL" else n // 2 + 1)


@pytest.mark.parametrize("window", list(WindowFunction))
def test_windows(backend, float_dtype, window):
    host = _data((16, 2)).astype(float_dtype)
    s = SpectrumSettings(axis="time", window=window, transform="POWER", output="FULL")
    out = SpectrumTransformer(s)(_msg(backend, host))
    _check(out, _ref(host, window=window.name, transform="POWER", output="FULL"), backend,
           float_dtype)


@pytest.mark.parametrize("window,param", [("TUKEY", 0.0), ("TUKEY", 1.0), ("KAISER", 3.5)])
def test_window_param(window, param):
    host = _data((16, 2))
    out = spectrum(axis="time", window=window, window_param=param, transform="POWER")(
        _msg_np(host))
    np.testing.assert_allclose(out.data, _ref(host, window=window, param=param,
                                              transform="POWER"), rtol=1e-12)


def _msg_np(host):
    return AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)})


@pytest.mark.parametrize("norm", [None, "forward", "backward", "ortho"])
def test_norm(backend, norm):
    host = _data((10, 2))
    out = SpectrumTransformer(SpectrumSettings(axis="time", norm=norm,
                                               transform="REL_POWER"))(_msg(backend, host))
    ref = _ref(host, norm=norm or "backward", transform="REL_POWER")
    _check(out, ref, backend, "float64" if backend.supports_float64() else "float32")


@pytest.mark.parametrize("nfft", [1, 5, 12, 13, 40])
@pytest.mark.parametrize("output", ["POSITIVE", "FULL", "NEGATIVE"])
def test_nfft_pads_or_truncates(backend, float_dtype, nfft, output):
    host = _data((12, 3)).astype(float_dtype)
    s = SpectrumSettings(axis="time", nfft=nfft, output=output, transform="RAW_COMPLEX")
    out = SpectrumTransformer(s)(_msg(backend, host))
    _check(out, _ref(host, nfft=nfft, output=output, transform="RAW_COMPLEX"), backend,
           float_dtype, complex_out=True)
    assert out.axes["freq"].gain == pytest.approx(FS / nfft)  # peer keeps fs / n: a bug


def test_axis_not_last_and_default_axis(backend, float_dtype):
    host = _data((2, 11, 3)).astype(float_dtype)
    msg = AxisArray(backend.asarray(host), dims=["a", "time", "b"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = SpectrumTransformer(SpectrumSettings(axis="time", transform="DB"))(msg)
    assert out.dims == ["a", "freq", "b"]
    _check(out, _ref(host, ix=1, transform="DB"), backend, float_dtype)
    first = AxisArray(backend.asarray(np.moveaxis(host, 1, 0)), dims=["time", "a", "b"],
                      axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = SpectrumTransformer(SpectrumSettings())(first)  # axis=None: the first dim
    assert out.dims == ["freq", "a", "b"]
    _check(out, _ref(np.moveaxis(host, 1, 0)), backend, float_dtype)


def test_out_axis_none_keeps_name():
    out = SpectrumTransformer(SpectrumSettings(axis="time", out_axis=None))(_msg_np(_data((8, 2))))
    assert out.dims == ["time", "ch"] and out.axes["time"].unit == "Hz"


@pytest.mark.parametrize("scaling", ["density", "spectrum"])
@pytest.mark.parametrize("output", ["POSITIVE", "FULL"])
@pytest.mark.parametrize("nfft", [None, 20])
@pytest.mark.parametrize("window", ["HANNING", "NONE", "KAISER"])
def test_scaling_matches_periodogram(backend, float_dtype, scaling, output, nfft, window):
    host = _data((3, 15)).astype(float_dtype)  # time last
    msg = AxisArray(backend.asarray(host), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    s = SpectrumSettings(axis="time", transform="POWER", output=output, scaling=scaling,
                         nfft=nfft, window=window, do_fftshift=False)
    out = SpectrumTransformer(s)(msg)
    win = _WINDOWS[window](15, None)
    _, ref = scipy.signal.periodogram(host.astype(np.float64), FS, window=win, nfft=nfft,
                                      detrend=False, scaling=scaling, axis=-1,
                                      return_onesided=output == "POSITIVE")
    _check(out, ref, backend, float_dtype)
    mag = SpectrumTransformer(SpectrumSettings(axis="time", transform="MAGNITUDE", output=output,
                                               scaling=scaling, nfft=nfft, window=window,
                                               do_fftshift=False))(msg)
    _check(mag, np.sqrt(ref), backend, float_dtype)


# ---------------------------------------------------------------------- edges and contract
@pytest.mark.parametrize("transform", ["REL_DB", "RAW_COMPLEX"])
@pytest.mark.parametrize("nfft", [None, 16])
def test_empty_chunk_gives_empty_output(backend, transform, nfft):
    proc = SpectrumTransformer(SpectrumSettings(axis="time", transform=transform, nfft=nfft))
    out = proc(_msg(backend, np.zeros((0, 3), dtype="float32")))
    assert tuple(out.data.shape) == (0, 3) and out.dims == ["freq", "ch"]
    dt = "complex64" if transform == "RAW_COMPLEX" else "float32"
    assert_close(out.data, np.zeros((0, 3)), xp=backend.xp, device=backend.device, dtype=dt)
    host = _data((8, 3)).astype("float32")  # the stream goes on normally afterwards
    out = proc(_msg(backend, host))
    assert tuple(out.data.shape) == ((16 if nfft else 8) // 2 + 1, 3)


def test_zero_channels(backend):
    out = SpectrumTransformer(SpectrumSettings(axis="time"))(
        _msg(backend, np.zeros((8, 0), dtype="float32")))
    assert tuple(out.data.shape) == (5, 0)


def test_float32_stays_float32_and_int_promotes(backend):
    out = SpectrumTransformer(SpectrumSettings(axis="time", transform="RAW_COMPLEX"))(
        _msg(backend, _data((8, 2)).astype("float32")))
    assert_close(out.data, _ref(_data((8, 2)), transform="RAW_COMPLEX"), xp=backend.xp,
                 device=backend.device, dtype="complex64", rtol=1e-5)
    if backend.supports_float64():
        host = np.arange(16, dtype="int32").reshape(8, 2) % 5
        out = SpectrumTransformer(SpectrumSettings(axis="time", transform="POWER"))(
            _msg(backend, host))
        _check(out, _ref(host, transform="POWER"), backend, "float64")


def test_complex_input(backend):
    host = _data((9, 2)) + 1j * _data((9, 2), seed=1)
    host = host.astype("complex64")
    for output in ("POSITIVE", "NEGATIVE"):
        out = SpectrumTransformer(SpectrumSettings(axis="time", output=output,
                                                   transform="POWER"))(_msg(backend, host))
        assert_close(out.data, _ref(host, output=output, transform="POWER"), xp=backend.xp,
                     device=backend.device, dtype="float32", rtol=2e-5)


def test_seed_usage_on_mlx():
    mx = pytest.importorskip("mlx.core")
    x = mx.array(np.random.default_rng(0).standard_normal((1000, 64)).astype("float32"))
    out = SpectrumTransformer(SpectrumSettings(axis="time"))(
        AxisArray(x, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=500.0)}))
    assert isinstance(out.data, mx.array) and out.data.dtype == mx.float32
    assert tuple(out.data.shape) == (501, 64)


def test_no_host_transfer_in_process(backend, monkeypatch):
    msg = _msg(backend, _data((12, 3)).astype("float32"))
    for s in (SpectrumSettings(axis="time"), SpectrumSettings(
            axis="time", output="FULL", scaling="density", transform="DB")):
        proc = SpectrumTransformer(s)
        proc(msg)  # builds state

        def boom(*a, **k):
            raise AssertionError("host transfer inside _process")

        with monkeypatch.context() as m:
            m.setattr(host_mod, "to_host", boom)
            m.setattr(backend_pkg, "to_host", boom)
            out = proc(msg)
        assert tuple(out.data.shape)[1] == 3


def test_state_rebuilt_when_length_changes():
    proc = SpectrumTransformer(SpectrumSettings(axis="time"))
    a = proc(_msg_np(_data((8, 2))))
    b = proc(_msg_np(_data((10, 2))))
    assert a.data.shape == (5, 2) and b.data.shape == (6, 2)
    assert b.axes["freq"].gain == pytest.approx(FS / 10)


def test_window_stream_alternating_zero_and_one_window_does_not_reset():
    """The tables depend on the in-window length, not on how many windows a message holds:
    the window stage's output (stream_dim "win") alternating 0 and 1 windows keeps them."""
    proc = SpectrumTransformer(SpectrumSettings(axis="time"))
    plans = []
    for i in range(6):
        host = _data((i % 2, 8, 2))
        msg = AxisArray(host, dims=["win", "time", "ch"], stream_dim="win",
                        axes={"win": AxisArray.TimeAxis(fs=5.0, offset=0.2 * i),
                              "time": AxisArray.TimeAxis(fs=FS)})
        assert proc(msg).data.shape == (i % 2, 5, 2)
        plans.append(proc.state.plan)
    assert all(p is plans[0] for p in plans)
    # ... while a new in-window length rebuilds them
    proc(AxisArray(_data((1, 10, 2)), dims=["win", "time", "ch"], stream_dim="win",
                   axes={"time": AxisArray.TimeAxis(fs=FS)}))
    assert proc.state.plan is not plans[0] and proc.state.plan["nfft"] == 10


def test_does_not_mutate_input(backend):
    host = _data((8, 2))
    msg = _msg(backend, host)
    axes = dict(msg.axes)
    SpectrumTransformer(SpectrumSettings(axis="time"))(msg)
    assert msg.axes == axes and msg.dims == ["time", "ch"]
    assert_close(msg.data, host, xp=backend.xp, device=backend.device,
                 dtype="float64" if backend.supports_float64() else "float32")


def test_missing_axis_names_axis_and_dims():
    with pytest.raises(ValueError, match=r"axis.*'nope'.*\['time', 'ch'\]"):
        SpectrumTransformer(SpectrumSettings(axis="nope"))(_msg_np(_data((8, 2))))
    with pytest.raises(ValueError, match="axis.*LinearAxis"):
        SpectrumTransformer(SpectrumSettings(axis="ch"))(_msg_np(_data((8, 2))))


@pytest.mark.parametrize("kwargs,field", [
    ({"window": "Gaussian"}, "window"), ({"transform": "Phase"}, "transform"),
    ({"output": "Both"}, "output"), ({"nfft": 0}, "nfft"), ({"nfft": 2.5}, "nfft"),
    ({"norm": "unit"}, "norm"), ({"window": "TUKEY", "window_param": 1.5}, "window_param"),
    ({"window": "KAISER", "window_param": -1.0}, "window_param"),
    ({"window": "HAMMING", "window_param": 0.5}, "window_param"),
    ({"scaling": "psd"}, "scaling"), ({"scaling": "density"}, "scaling"),
    ({"axis": ""}, "axis"), ({"do_fftshift": 1}, "do_fftshift"),
])
def test_settings_errors_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        SpectrumSettings(**kwargs)


def test_settings_accept_values_and_names():
    s = SpectrumSettings(window="Hanning", transform="REL_POWER", output="full")
    assert s.window is WindowFunction.HANNING and s.transform is SpectralTransform.REL_POWER
    assert s.output is SpectralOutput.FULL
    assert spectrum().settings.window is WindowFunction.HANNING  # the peer factory's default
    assert SpectrumSettings().window is WindowFunction.HAMMING


# ------------------------------------------------------------------------------ multitaper
@pytest.mark.parametrize("output,nfft", [("POSITIVE", None), ("POSITIVE", 33), ("FULL", None)])
def test_multitaper_is_mean_of_dpss_periodograms(backend, float_dtype, output, nfft):
    scaling = "density"
    host = _data((2, 32, 3)).astype(float_dtype)  # time in the middle
    msg = AxisArray(backend.asarray(host), dims=["a", "time", "b"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    s = SpectrumSettings(axis="time", tapers=4, nw=2.5, transform="POWER", scaling=scaling,
                         output=output, nfft=nfft, do_fftshift=False)
    out = SpectrumTransformer(s)(msg)
    tap = scipy.signal.windows.dpss(32, 2.5, 4, sym=True)
    ref = np.mean([scipy.signal.periodogram(
        host.astype(np.float64), FS, window=w, nfft=nfft, detrend=False, scaling=scaling,
        axis=1, return_onesided=output == "POSITIVE")[1] for w in tap], axis=0)
    _check(out, ref, backend, float_dtype)


@pytest.mark.parametrize("transform", ["REL_POWER", "REL_DB", "MAGNITUDE"])
def test_multitaper_relative_and_default_nw(backend, float_dtype, transform):
    host = _data((24, 2)).astype(float_dtype)
    out = SpectrumTransformer(SpectrumSettings(axis="time", tapers=3, transform=transform))(
        _msg(backend, host))
    tap = scipy.signal.windows.dpss(24, 2.0, 3, sym=True)  # nw default (3 + 1) / 2
    f = np.fft.rfft(host.astype(np.float64)[None] * tap[:, :, None], axis=1, norm="forward")
    p = np.abs(f) ** 2
    rel = np.mean(p * FS / np.sum(tap**2, axis=1)[:, None, None], axis=0)
    ref = {"REL_POWER": rel, "REL_DB": 10 * np.log10(rel),
           "MAGNITUDE": np.sqrt(np.mean(p, axis=0))}[transform]
    _check(out, ref, backend, float_dtype)


def test_multitaper_settings_and_short_chunks():
    with pytest.raises(ValueError, match="^tapers:"):
        SpectrumSettings(tapers=0)
    with pytest.raises(ValueError, match="^tapers:"):
        SpectrumSettings(tapers=3, transform="RAW_COMPLEX")
    with pytest.raises(ValueError, match="^scaling:"):
        SpectrumSettings(tapers=3, transform="POWER", scaling="spectrum")
    with pytest.raises(ValueError, match="^nw:"):
        SpectrumSettings(nw=2.0)
    with pytest.raises(ValueError, match="^nw:"):
        SpectrumSettings(tapers=2, nw=-1.0)
    with pytest.raises(ValueError, match="^nw:"):
        SpectrumTransformer(SpectrumSettings(axis="time", tapers=2, nw=4.0))(
            _msg_np(_data((8, 2))))
    out = SpectrumTransformer(SpectrumSettings(axis="time", tapers=2))(
        _msg_np(np.zeros((0, 2))))
    assert out.data.shape == (0, 2)


def test_state_pickles(backend):
    import pickle

    msg = _msg(backend, _data((16, 2)).astype("float32"))
    s = SpectrumSettings(axis="time", output="FULL", scaling="density", transform="POWER")
    saved, first = SpectrumTransformer(s).stateful_op(None, msg)
    _, again = SpectrumTransformer(s).stateful_op(pickle.loads(pickle.dumps(saved)), msg)
    assert_close(again.data, first.data)
