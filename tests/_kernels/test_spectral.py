import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units._backend import asarray, fft
from ezmsg_sigproc_units._kernels import spectral, tapers
from ezmsg_sigproc_units.testing import assert_close

_CDT = {"float32": "complex64", "float64": "complex128"}


def _cdt(backend, float_dtype):
    return "complex64" if backend.value == "mlx" else _CDT[float_dtype]


@pytest.mark.parametrize("name,sp", [
    ("hamming", "hamming"), ("hanning", "hann"), ("bartlett", "bartlett"),
    ("blackman", "blackman"), ("blackman_harris", "blackmanharris"), ("flattop", "flattop"),
    ("tukey", ("tukey", 0.5)), ("kaiser", ("kaiser", 14.0)), ("none", "boxcar")])
@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_windows_are_symmetric_scipy_windows(name, sp, n):
    ref = scipy.signal.get_window(sp, n, fftbins=False)
    np.testing.assert_allclose(tapers.window(name, n), ref, rtol=1e-13, atol=1e-15)


def test_window_rejects_unknown_name_and_handles_zero_length():
    with pytest.raises(ValueError, match="^window:"):
        tapers.window("gaussian", 8)
    assert tapers.window("tukey", 0).shape == (0,)


@pytest.mark.parametrize("nfft", [7, 8])
def test_bins(nfft):
    assert list(spectral.bins(nfft, "positive", True)) == list(range(nfft // 2 + 1))
    assert list(spectral.bins(nfft, "full", False)) == list(range(nfft))
    full = np.fft.fftfreq(nfft)[spectral.bins(nfft, "full", True)]
    assert np.all(np.diff(full) > 0)  # frequency order
    neg = np.fft.fftfreq(nfft)[spectral.bins(nfft, "negative", False)]
    assert np.all(np.diff(neg) > 0) and neg[-1] == 0.0 and len(neg) == nfft // 2 + 1
    assert spectral.bins(0, "positive", True).shape == (0,)


@pytest.mark.parametrize("nfft", [5, 10, 16])
def test_dft_tables_equal_fft(nfft):
    x = np.random.default_rng(0).standard_normal((3, 10))
    w = np.hanning(10) * 0.3
    idx = spectral.bins(nfft, "full", True)
    c, s = spectral.dft_tables(w, idx, nfft)
    ref = np.fft.fft(x * w, n=nfft, axis=-1)[:, idx]
    np.testing.assert_allclose(x @ c + 1j * (x @ s), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nfft", [6, 9, 14])
def test_windowed_fft(backend, float_dtype, nfft):
    host = np.random.default_rng(1).standard_normal((9, 4)).astype(float_dtype)
    w = np.hamming(9)[:, None] / 9.0
    xp, dev = backend.xp, backend.device
    x = backend.asarray(host)
    win = asarray(xp, w, dtype=x.dtype, device=dev)
    full = np.fft.fft(host.astype(np.float64) * w, n=nfft, axis=0)
    got = spectral.windowed_fft(xp, x, axis=0, nfft=nfft, win=win, one_sided=True, take=None)
    assert_close(got, full[: nfft // 2 + 1], xp=xp, device=dev,
                 dtype=_cdt(backend, float_dtype))
    idx = spectral.bins(nfft, "negative", True)
    take = asarray(xp, idx, dtype=xp.int64, device=dev)
    got = spectral.windowed_fft(xp, x, axis=0, nfft=nfft, win=win, one_sided=False, take=take)
    assert_close(got, full[idx], xp=xp, device=dev, dtype=_cdt(backend, float_dtype))


def test_windowed_dft_axis_in_middle(backend, float_dtype):
    host = np.random.default_rng(2).standard_normal((2, 8, 3)).astype(float_dtype)
    idx = spectral.bins(8, "positive", True)
    c, s = spectral.dft_tables(np.ones(8), idx, 8)
    xp, dev = backend.xp, backend.device
    x = backend.asarray(host)
    re, im = spectral.windowed_dft(xp, x, perm=(0, 2, 1), inv_perm=(0, 2, 1),
                                   cos_t=asarray(xp, c, dtype=x.dtype, device=dev),
                                   sin_t=asarray(xp, s, dtype=x.dtype, device=dev))
    ref = np.fft.rfft(host.astype(np.float64), axis=1)
    assert_close(re, ref.real, xp=xp, device=dev, dtype=float_dtype)
    assert_close(im, ref.imag, xp=xp, device=dev, dtype=float_dtype)
    p = spectral.finish(xp, (re, im), "db", 2.0)
    assert_close(p, 10 * np.log10(2.0 * np.abs(ref) ** 2), xp=xp, device=dev, dtype=float_dtype)


@pytest.mark.parametrize("transform", spectral.TRANSFORMS)
def test_finish(backend, float_dtype, transform):
    host = np.fft.fft(np.random.default_rng(3).standard_normal((6, 2)), axis=0)
    host[2, 1] = 0.0  # -inf in dB
    xp, dev = backend.xp, backend.device
    cdt = _cdt(backend, float_dtype)
    spec = asarray(xp, host.astype(cdt), dtype=getattr(xp, cdt), device=dev)
    p = np.abs(host) ** 2 * 0.5
    with np.errstate(divide="ignore"):
        ref = {"complex": host, "real": host.real, "imag": host.imag, "power": p,
               "magnitude": np.sqrt(p), "db": 10 * np.log10(p)}[transform]
    want = cdt if transform == "complex" else ("float32" if cdt == "complex64" else "float64")
    with np.errstate(divide="ignore"):
        assert_close(spectral.finish(xp, spec, transform, 0.5), ref, xp=xp, device=dev,
                     dtype=want, rtol=2e-5 if want in ("float32", "complex64") else None)


@pytest.mark.parametrize("shape,axis,n", [((0, 3), 0, 8), ((8, 0), 0, 8), ((4, 3), 0, 0)])
def test_fft_zero_size_never_calls_library(backend, shape, axis, n):
    xp, dev = backend.xp, backend.device
    x = backend.asarray(np.zeros(shape, dtype="float32"))
    got = fft.fft(xp, x, n=n, axis=axis)
    want = list(shape)
    want[axis] = n
    assert_close(got, np.zeros(want), xp=xp, device=dev, dtype="complex64")
    got = fft.rfft(xp, x, n=n, axis=axis)
    want[axis] = n // 2 + 1 if n else 0
    assert_close(got, np.zeros(want), xp=xp, device=dev, dtype="complex64")


def test_fft_precision_flag(backend):
    xp = backend.xp
    assert fft.fft_keeps_precision(xp, xp.float32)
    if backend.supports_float64():
        assert fft.fft_keeps_precision(xp, xp.float64) == (backend.value != "mlx")


@pytest.mark.parametrize("shape,ix", [((12,), 0), ((2, 12, 3), 1), ((3, 12), 1)])
def test_multitaper_fft_and_dft_agree_with_numpy(backend, float_dtype, shape, ix):
    host = np.random.default_rng(4).standard_normal(shape).astype(float_dtype)
    tabs = scipy.signal.windows.dpss(12, 2.0, 3, sym=True) * 0.7
    idx = spectral.bins(12, "full", True)
    xm = np.moveaxis(host.astype(np.float64), ix, -1)
    ref = np.moveaxis(np.sum(np.abs(np.fft.fft(xm[None] * tabs.reshape(
        (3,) + (1,) * (len(shape) - 1) + (12,)), axis=-1)[..., idx]) ** 2, axis=0), -1, ix)
    xp, dev = backend.xp, backend.device
    x = backend.asarray(host)
    wshape = [1] * len(shape)
    wshape[ix] = 12
    tab_dev = asarray(xp, tabs.reshape((3, *wshape)), dtype=x.dtype, device=dev)
    take = asarray(xp, idx, dtype=xp.int64, device=dev)
    if fft.fft_keeps_precision(xp, x.dtype):  # MLX float64: only the DFT path is exact
        got = spectral.multitaper_fft(xp, x, axis=ix, nfft=12, tabs=tab_dev, one_sided=False,
                                      take=take)
        assert_close(got, ref, xp=xp, device=dev, dtype=float_dtype)
    cs = [spectral.dft_tables(t, idx, 12) for t in tabs]
    lead = (3,) + (1,) * (len(shape) - 1)
    c, s = (asarray(xp, np.stack([t[i] for t in cs]).reshape(lead + (12, 12)), dtype=x.dtype,
                    device=dev) for i in (0, 1))
    perm = tuple(i for i in range(len(shape)) if i != ix) + (ix,)
    inv = tuple(int(i) for i in np.argsort(perm))
    got = spectral.multitaper_dft(xp, x, perm=perm, inv_perm=inv, cos_t=c, sin_t=s)
    assert_close(got, ref, xp=xp, device=dev, dtype=float_dtype)


def test_power_scale_and_doubling():
    w = np.hanning(8)
    assert spectral.power_scale(w, 10.0, "relative", None) == pytest.approx(10 / np.sum(w**2))
    assert spectral.power_scale(w, 10.0, "absolute", "density") == pytest.approx(
        1 / (10 * np.sum(w**2)))
    assert spectral.power_scale(w, 10.0, "absolute", "spectrum") == pytest.approx(
        1 / np.sum(w) ** 2)
    assert spectral.power_scale(w, 10.0, "absolute", None) == 1.0
    assert list(spectral.one_sided_doubling(5, 8)) == [1, 2, 2, 2, 1]
    assert list(spectral.one_sided_doubling(5, 9)) == [1, 2, 2, 2, 2]
