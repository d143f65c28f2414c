import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._units import TransformerUnit
from ezmsg_sigproc_units.filterbank import (
    Filterbank,
    FilterbankMode,
    FilterbankSettings,
    FilterbankTransformer,
    MinPhaseMode,
    filterbank,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    backend_partitions,
)

FS = 100.0


def _kernels(long: bool = False) -> list[np.ndarray]:
    ks = [scipy.signal.firwin(11, 10.0, fs=FS),
          scipy.signal.firwin(21, [10.0, 20.0], fs=FS, pass_zero=False),
          np.array([1.0, -1.0]), np.array([0.5])]
    if long:
        ks.append(scipy.signal.firwin(71, 30.0, fs=FS))
    return ks


def _msg(backend, host, dims=("time", "ch"), dtype=None):
    return AxisArray(backend.asarray(host, dtype), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=0.5)})


def _reference(host, kernels, dims, axis="time"):
    """lfilter per kernel on the whole signal, laid out as (other dims..., kernel, time)."""
    ix = dims.index(axis)
    ys = [scipy.signal.lfilter(k, [1.0], host.astype(np.float64), axis=ix) for k in kernels]
    y = np.stack([np.moveaxis(v, ix, -1) for v in ys], axis=-2)
    return y


@pytest.mark.parametrize("mode", list(FilterbankMode))
def test_chunked_equals_lfilter_per_kernel(backend, float_dtype, mode):
    # A small grid off NumPy (JAX compiles every new shape): direct in float32, FFT in float64.
    if backend.value != "numpy" and (mode.name, float_dtype) not in (("CONV", "float32"),
                                                                     ("FFT", "float64")):
        pytest.skip("numpy-only combination (kept small on other backends)")
    n = 80 if backend.value == "numpy" else 64
    host = np.random.default_rng(1).standard_normal((n, 2)).astype(float_dtype)
    ks = _kernels(long=mode is not FilterbankMode.CONV)
    ref = _reference(host, ks, ["time", "ch"]).astype(float_dtype)
    assert_chunked_equals_whole(lambda: filterbank(ks, mode=mode), _msg(backend, host),
                                reference=ref, partitions=backend_partitions(backend, n))


@pytest.mark.parametrize("dims", [("a", "time", "b"), ("ch", "time"), ("time",)])
def test_layouts(backend, dims):
    if backend.value != "numpy" and dims != ("a", "time", "b"):
        pytest.skip("numpy-only layout (the 3-D one runs everywhere)")
    sizes = {"time": 32, "ch": 3, "a": 2, "b": 1}  # (T, C) = (32, 2) as elsewhere
    host = np.random.default_rng(2).standard_normal([sizes[d] for d in dims])
    host = host.astype("float32")
    ks = _kernels()
    out = filterbank(ks, axis="time")(_msg(backend, host, dims))
    want = [d for d in dims if d != "time"] + ["kernel", "time"]
    assert out.dims == want
    assert_close(out.data, _reference(host, ks, list(dims)).astype("float32"),
                 xp=backend.xp, device=backend.device, dtype="float32")


def test_axes_and_layout_follow_ezmsg_sigproc():
    host = np.random.default_rng(3).standard_normal((30, 2))
    msg = AxisArray(host, dims=["time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=FS, offset=2.0),
                          "ch": AxisArray.CoordinateAxis(np.array(["a", "b"]), dims=["ch"])})
    out = filterbank(_kernels(), new_axis="band")(msg)
    assert out.dims == ["ch", "band", "time"]
    assert out.data.shape == (2, 4, 30)
    assert out.axes["time"] == msg.axes["time"]  # no latency: timestamps unchanged
    assert out.axes["ch"] is msg.axes["ch"]
    assert msg.dims == ["time", "ch"] and msg.data is host  # input untouched


def test_modes_agree_and_fft_has_no_latency():
    host = np.random.default_rng(4).standard_normal((200, 2))
    ks = _kernels(long=True)
    outs = []
    for mode in FilterbankMode:
        proc = filterbank(ks, mode=mode)
        outs.append(np.concatenate([proc(c).data for c in _split(host, [37, 1, 0, 100, 62])],
                                   axis=-1))
    assert outs[0].shape == (2, 5, 200)
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-10, atol=1e-12)
    proc = filterbank(ks, mode=FilterbankMode.FFT)
    proc(_split(host, [5])[0])
    assert proc.state.plan.method == "fft"
    assert filterbank(ks, mode=FilterbankMode.CONV)(_msg_np(host)).data.shape[-1] == 200


def _msg_np(host, offset=0.0):
    return AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS,
                                                                             offset=offset)})


def _split(host, lengths):
    out, s = [], 0
    for k in lengths:
        out.append(_msg_np(host[s:s + k], s / FS))
        s += k
    return out


@pytest.mark.parametrize("mp", [MinPhaseMode.HILBERT, MinPhaseMode.HOMOMORPHIC])
def test_min_phase_uses_scipy_minimum_phase(mp):
    host = np.random.default_rng(5).standard_normal((60, 2))
    ks = _kernels()[:2]
    out = filterbank(ks, min_phase=mp)(_msg_np(host))
    mk = [scipy.signal.minimum_phase(k, method=mp.name.lower()) for k in ks]
    np.testing.assert_allclose(out.data, _reference(host, mk, ["time", "ch"]), atol=1e-12)


def test_integer_input_is_filtered_in_float():
    host = np.arange(24, dtype=np.int32).reshape(12, 2)
    out = filterbank(_kernels())(_msg_np(host))
    assert out.data.dtype == np.float64
    np.testing.assert_allclose(out.data, _reference(host, _kernels(), ["time", "ch"]),
                               atol=1e-12)


def test_empty_first_chunk(backend):
    if backend.value == "jax":
        pytest.skip("JAX's empty chunks run in the chunked test (saves its compile time)")
    out = filterbank(_kernels())(_msg(backend, np.zeros((0, 2), "float32")))
    assert tuple(out.data.shape) == (2, 4, 0)
    assert out.dims == ["ch", "kernel", "time"]


def test_pickle_resumes(backend):
    host = np.random.default_rng(6).standard_normal((64, 2)).astype("float32")
    assert_pickle_resumes(lambda: filterbank(_kernels()), _msg(backend, host), split_at=32)


@pytest.mark.parametrize("kw,field", [
    (dict(kernels=[]), "kernels"),
    (dict(kernels=np.ones(3)), "kernels"),
    (dict(kernels=[np.ones((2, 2))]), "kernels"),
    (dict(kernels=[np.array([1.0, np.nan])]), "kernels"),
    (dict(kernels=[np.ones(2)], min_phase=MinPhaseMode.HILBERT), "kernels"),
    (dict(kernels=[np.ones(3)], mode="bogus"), "mode"),
    (dict(kernels=[np.ones(3)], min_phase="bogus"), "min_phase"),
    (dict(kernels=[np.ones(3)], new_axis=""), "new_axis"),
    (dict(kernels=[np.ones(3)], axis=3), "axis"),
])
def test_bad_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        FilterbankSettings(**kw)


def test_bad_messages():
    with pytest.raises(ValueError, match="^new_axis"):
        filterbank([np.ones(3)], new_axis="ch")(_msg_np(np.zeros((4, 2))))
    with pytest.raises(ValueError, match="^axis"):
        filterbank([np.ones(3)], axis="nope")(_msg_np(np.zeros((4, 2))))


def test_enums_and_unit():
    assert FilterbankMode("Direct Convolution") is FilterbankMode.CONV
    assert [m.name for m in MinPhaseMode] == ["NONE", "HILBERT", "HOMOMORPHIC"]
    assert FilterbankSettings(kernels=[np.ones(3)], mode="fft").mode is FilterbankMode.FFT
    assert issubclass(Filterbank, TransformerUnit)
    assert Filterbank.SETTINGS is FilterbankSettings
    assert isinstance(filterbank([np.ones(3)]), FilterbankTransformer)


@pytest.mark.parametrize("mode", [FilterbankMode.CONV, FilterbankMode.FFT])
def test_nan_reaches_exactly_what_lfilter_reaches(mode):
    """A NaN stays in its channel and, per kernel, spoils exactly the outputs lfilter spoils
    (not the rest of its block or FFT frame), for a whole and a chunked stream."""
    host = np.random.default_rng(7).standard_normal((160, 2))
    host[40, 0] = np.nan
    ks = _kernels(long=True)
    ref = _reference(host, ks, ["time", "ch"])
    for lengths in ([160], [30, 13, 0, 117]):
        proc = filterbank(ks, mode=mode)
        out = np.concatenate([proc(m).data for m in _split(host, lengths)], axis=-1)
        np.testing.assert_array_equal(np.isfinite(out), np.isfinite(ref), err_msg=str(lengths))
        ok = np.isfinite(ref)
        np.testing.assert_allclose(out[ok], ref[ok], rtol=1e-9, atol=1e-12)
    assert np.all(np.isfinite(out[1]))
