import numpy as np
import pytest
import pywt
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units import _cwt_design
from ezmsg_sigproc_units._backend import array_namespace
from ezmsg_sigproc_units._kernels import cwt as _cwt
from ezmsg_sigproc_units.filterbank import MinPhaseMode
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)
from ezmsg_sigproc_units.wavelets import CWT, CWTSettings, CWTTransformer, cwt

FS = 200.0
FREQS = [40.0, 20.0]  # kernels of ~130 and ~65 taps at 200 Hz


def _host(n=150, ch=3, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, dims=("time", "ch"), fs=FS):
    ax = {"time": AxisArray.TimeAxis(fs=fs, offset=1.0),
          "ch": AxisArray.CoordinateAxis(data=np.array([f"c{i}" for i in range(host.shape[1])]),
                                         dims=["ch"])}
    return AxisArray(backend.asarray(host), dims=list(dims), axes=ax)


def _reference(host, wavelet, freqs=None, scales=None, fs=FS, min_phase=None):
    """pywt.cwt's construction taken causally, in float64: per scale the integrated wavelet
    resampled to the scale, convolved (from rest), differenced, times -sqrt(scale).
    (ch, freq, time) for (time, ch) input."""
    w = pywt.ContinuousWavelet(wavelet)
    int_psi, grid = pywt.integrate_wavelet(w, precision=10)
    if w.complex_cwt:
        int_psi = np.conj(int_psi)
    if freqs is not None:
        scales = pywt.frequency2scale(w, np.sort(freqs) / fs, precision=10)
    else:
        scales = np.sort(scales)[::-1]
    grid = grid.astype(host.dtype)  # a float32 stream resamples on the float32 grid
    out = []
    for s in scales:
        ix = (np.arange(s * (grid[-1] - grid[0]) + 1) / (s * (grid[1] - grid[0]))).astype(int)
        k = int_psi[ix[ix < int_psi.size]][::-1]
        if min_phase:
            k = scipy.signal.minimum_phase(k, method=min_phase)
        conv = scipy.signal.lfilter(k, [1.0], host.astype(np.float64), axis=0)
        out.append(-np.sqrt(s) * np.diff(conv, axis=0, prepend=0.0))
    return np.stack(out, axis=0).transpose(2, 0, 1), pywt.scale2frequency(w, scales, 10) * fs


CASES = [("morl", dict(frequencies=FREQS)), ("cmor1.5-1.0", dict(frequencies=FREQS)),
         ("mexh", dict(frequencies=None, scales=[2.0, 6.0, 11.0]))]


@pytest.mark.parametrize(("wavelet", "kw"), CASES, ids=[c[0] for c in CASES])
def test_chunked_equals_whole_and_reference(backend, float_dtype, wavelet, kw):
    host = _host(dtype=float_dtype)
    ref, _ = _reference(host, wavelet, freqs=kw.get("frequencies"), scales=kw.get("scales"))
    assert_chunked_equals_whole(lambda: CWTTransformer(CWTSettings(wavelet=wavelet, **kw)),
                                _msg(backend, host), reference=ref)


@pytest.mark.parametrize("wavelet", ["morl", "cmor1.5-1.0"])
def test_pickle_resumes(backend, float_dtype, wavelet):
    host = _host(dtype=float_dtype, seed=3)
    assert_pickle_resumes(lambda: cwt(FREQS, wavelet), _msg(backend, host), split_at=57)


def test_layout_dtype_and_freq_axis(backend):
    host = _host(n=40, dtype="float32")
    out = cwt(FREQS, "cmor1.5-1.0")(_msg(backend, host))
    assert out.dims == ["ch", "freq", "time"]
    assert tuple(out.data.shape) == (3, 2, 40)
    assert str(out.data.dtype).endswith("complex64")
    _, freqs = _reference(host, "cmor1.5-1.0", freqs=FREQS)
    np.testing.assert_allclose(out.axes["freq"].data, freqs, rtol=1e-9)
    assert out.axes["freq"].unit == "Hz"
    assert out.axes["time"].offset == 1.0 and list(out.axes["ch"].data) == ["c0", "c1", "c2"]
    real = cwt(FREQS, "morl")(_msg(backend, host))
    assert str(real.data.dtype).endswith("float32")


def test_time_in_the_middle_of_three_dims(backend):
    host = np.random.default_rng(1).standard_normal((2, 60, 3))
    msg = AxisArray(backend.asarray(host), dims=["a", "time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = cwt(FREQS, "morl")(msg)
    assert out.dims == ["a", "ch", "freq", "time"]
    ref = np.stack([_reference(host[i], "morl", freqs=FREQS)[0] for i in range(2)])
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


@pytest.mark.parametrize("method", ["hilbert", "homomorphic"])
def test_min_phase(method):
    host = _host()
    ref, _ = _reference(host, "morl", freqs=FREQS, min_phase=method)
    out = cwt(FREQS, "morl", min_phase=MinPhaseMode[method.upper()])(
        AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))
    assert_close(out.data, ref)


def test_long_and_short_kernels_grouped_match_reference(backend):
    """Scales an order of magnitude apart run in separate frame lengths."""
    host = _host(n=90, ch=2, seed=5)
    freqs = [3.0, 5.0, 9.0, 30.0, 45.0, 80.0]
    ref, _ = _reference(host, "morl", freqs=freqs)
    taps = _cwt_design.design("morl", freqs, None, 1 / FS, False)[0]
    assert len(_cwt.groups(taps, len(freqs), False)) > 2
    assert_chunked_equals_whole(lambda: cwt(freqs, "morl"), _msg(backend, host), reference=ref,
                                partitions=[[40, 1, 0, 49], [90]])


def test_empty_chunks_and_state(backend):
    host = _host(n=30)
    proc = cwt(FREQS, "cmor1.5-1.0")
    out = proc(_msg(backend, host[:0]))
    assert tuple(out.data.shape) == (3, 2, 0)
    ref, _ = _reference(host, "cmor1.5-1.0", freqs=FREQS)
    got = proc(_msg(backend, host))
    assert_close(got.data, ref, xp=backend.xp, device=backend.device, dtype=got.data.dtype)
    assert tuple(proc(_msg(backend, host[:0])).data.shape) == (3, 2, 0)


def test_nonfinite_input_stays_where_the_taps_read_it():
    host = _host(n=300, ch=2)
    host[100, 0] = np.nan
    out = cwt([40.0], "morl")(AxisArray(host, dims=["time", "ch"],
                                         axes={"time": AxisArray.TimeAxis(fs=FS)}))
    y = out.data
    n_taps = _cwt_design.design("morl", [40.0], None, 1 / FS, False)[0].shape[0]
    assert np.all(np.isfinite(y[1]))  # the other channel
    assert np.all(np.isfinite(y[0, 0, :100])) and np.all(np.isnan(y[0, 0, 100:100 + n_taps]))
    assert np.all(np.isfinite(y[0, 0, 100 + n_taps:]))


def test_input_not_mutated_and_state_not_a_view():
    host = _host(n=50)
    keep = host.copy()
    proc = cwt(FREQS, "morl")
    msg = AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)})
    proc(msg)
    np.testing.assert_array_equal(host, keep)
    ref_proc = cwt(FREQS, "morl")
    ref_proc(AxisArray(keep.copy(), dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))
    host[:] = 1e6
    nxt = _host(n=20, seed=9)
    a = proc(AxisArray(nxt, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))
    b = ref_proc(AxisArray(nxt, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))
    np.testing.assert_allclose(a.data, b.data)


def test_sampling_rate_change_redesigns():
    host = _host(n=60)
    proc = cwt(FREQS, "morl")
    proc(AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))
    out = proc(AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=400.0)}))
    assert_close(out.data, _reference(host, "morl", freqs=FREQS, fs=400.0)[0])


def test_bad_settings():
    with pytest.raises(ValueError, match="^frequencies"):
        CWTSettings(frequencies=None, wavelet="morl")
    with pytest.raises(ValueError, match="^frequencies"):
        CWTSettings(frequencies=[10.0, -1.0], wavelet="morl")
    with pytest.raises(ValueError, match="^scales"):
        CWTSettings(frequencies=None, wavelet="morl", scales=[])
    with pytest.raises(ValueError, match="^wavelet"):
        CWTSettings(frequencies=[10.0], wavelet="nope")
    with pytest.raises(ValueError, match="^min_phase"):
        CWTSettings(frequencies=[10.0], wavelet="cmor1.5-1.0", min_phase=MinPhaseMode.HILBERT)
    with pytest.raises(ValueError, match="^min_phase"):
        CWTSettings(frequencies=[10.0], wavelet="morl", min_phase="bogus")
    assert CWT.SETTINGS is CWTSettings


def test_bad_messages():
    host = _host(n=10)
    with pytest.raises(ValueError, match="time"):
        cwt(FREQS, "morl", axis="time")(AxisArray(host, dims=["x", "ch"]))
    with pytest.raises(ValueError, match="freq"):
        cwt(FREQS, "morl")(AxisArray(host, dims=["time", "freq"],
                                     axes={"time": AxisArray.TimeAxis(fs=FS)}))


def test_wavelet_object_accepted():
    host = _host(n=40)
    out = cwt(FREQS, pywt.ContinuousWavelet("morl"))(
        AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))
    assert_close(out.data, _reference(host, "morl", freqs=FREQS)[0])


def test_fft_size():
    for need in [1, 17, 100, 1331, 1501, 4097]:
        n = _cwt.fft_size(need)
        assert n >= need and n % 2 == 0
        m = n // 2
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        assert m == 1


def test_direct_path_in_blocks_equals_fft_path():
    """The direct path (backends whose FFT loses float64) agrees with the FFT path, also when
    its gathered windows are split into blocks."""
    taps = _cwt_design.design("morl", FREQS, None, 1 / FS, False)[0]
    host = _host(n=70, ch=2, seed=11)
    m = taps.shape[0] - 1
    tail = np.random.default_rng(12).standard_normal((m, 2))
    fft, _ = _cwt.cwt_bank(np, (_cwt.bank_spectrum(np, taps, _cwt.fft_size(70 + m)),), tail,
                           host, direct=False, ms=(m,), span=(_cwt.spans(taps),), n_cplx=(0,))
    direct, new_tail = _cwt.cwt_bank(np, (taps,), tail, host, direct=True, ms=(m,),
                                     span=(_cwt.spans(taps),), n_cplx=(0,))
    np.testing.assert_allclose(direct, fft, rtol=1e-10, atol=1e-12)
    blocks = _cwt._direct_windows(np, taps, np.concatenate([tail, host]), 70, budget=500)
    np.testing.assert_allclose(np.transpose(blocks, (1, 2, 0)), direct, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(new_tail, np.concatenate([tail, host])[70:])


def test_float32_stream_resamples_on_the_float32_grid():
    """As the peer: a float32 stream's kernel indices come from the float32 wavelet grid (at
    3 Hz and 200 Hz, morl's float32 and float64 grids pick different samples)."""
    host = _host(n=900, ch=1, dtype="float32", seed=13)
    out = cwt([3.0], "morl")(AxisArray(host, dims=["time", "ch"],
                                       axes={"time": AxisArray.TimeAxis(fs=FS)}))
    ref32, _ = _reference(host, "morl", freqs=[3.0])
    ref64, _ = _reference(host.astype(np.float64), "morl", freqs=[3.0])
    assert np.abs(ref32 - ref64).max() > 1e-4 * np.abs(ref64).max()
    assert_close(out.data, ref32, xp=array_namespace(host), device="cpu", dtype=host.dtype)
