import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._units import TransformerUnit
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilterSettings
from ezmsg_sigproc_units.downsample import DownsampleSettings
from ezmsg_sigproc_units.materialize import MaterializeMode
from ezmsg_sigproc_units.singlebandpow import (
    RMSBandPower,
    RMSBandPowerSettings,
    RMSBandPowerTransformer,
    SquareLawBandPower,
    SquareLawBandPowerSettings,
    SquareLawBandPowerTransformer,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    backend_partitions,
    random_partitions,
    split_message,
)

FS = 100.0
BAND = dict(order=2, cuton=5.0, cutoff=20.0, coef_type="sos")


def _msg(backend, host, dims=("time", "ch"), offset=2.0):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=offset)})


def _np_msg(host, offset=2.0):
    return AxisArray(host, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=offset)})


def _sosfilt(sos, x):
    zi = scipy.signal.sosfilt_zi(sos).reshape(sos.shape[0], 2, *([1] * (x.ndim - 1))) * x[0]
    return scipy.signal.sosfilt(sos, x, axis=0, zi=zi)[0]


def _bandpassed(x):
    return _sosfilt(scipy.signal.butter(2, (5.0, 20.0), "bandpass", fs=FS, output="sos"), x)


def rms_reference(x, size, apply_sqrt=True):
    """Offline: band-pass the whole signal, square, mean over complete bins, sqrt."""
    y = _bandpassed(x) ** 2
    n = y.shape[0] // size
    m = y[: n * size].reshape(n, size, *y.shape[1:]).mean(axis=1)
    return np.sqrt(m) if apply_sqrt else m


def square_law_reference(x, q):
    s = _bandpassed(x) ** 2
    return _sosfilt(scipy.signal.butter(4, 3.0, fs=FS, output="sos"), s)[::q]


def _rms(**kw):
    return RMSBandPowerTransformer(RMSBandPowerSettings(
        bandpass=ButterworthFilterSettings(**BAND), **kw))


def _square_law(q=5):
    return SquareLawBandPowerTransformer(SquareLawBandPowerSettings(
        bandpass=ButterworthFilterSettings(**BAND),
        # order 4: the state size of the order-2 band-pass, so JAX reuses its compilations
        lowpass=ButterworthFilterSettings(order=4, cutoff=3.0, coef_type="sos"),
        downsample=DownsampleSettings(factor=q)))


def _skip_heavy(backend, float_dtype):
    if backend.value == "jax" and float_dtype == "float64":
        pytest.skip("JAX compiles the IIR kernel per shape and dtype (~2 s); float32 only")


@pytest.mark.parametrize("apply_sqrt", [True, False])
def test_rms_chunked_equals_offline(backend, float_dtype, apply_sqrt):
    _skip_heavy(backend, float_dtype)
    if backend.value != "numpy" and not apply_sqrt:
        pytest.skip("numpy-only variant (kept small on other backends)")
    n = 80 if backend.value == "numpy" else 64
    host = (np.random.default_rng(1).standard_normal((n, 2)) + 1.0).astype(float_dtype)
    ref = rms_reference(host.astype(np.float64), 5, apply_sqrt).astype(float_dtype)
    assert_chunked_equals_whole(lambda: _rms(apply_sqrt=apply_sqrt), _msg(backend, host),
                                reference=ref, partitions=backend_partitions(backend, n))


def test_square_law_chunked_equals_offline(backend, float_dtype):
    _skip_heavy(backend, float_dtype)
    n = 80 if backend.value == "numpy" else 64
    host = (np.random.default_rng(2).standard_normal((n, 2)) + 1.0).astype(float_dtype)
    ref = square_law_reference(host.astype(np.float64), 5).astype(float_dtype)
    assert_chunked_equals_whole(_square_law, _msg(backend, host), reference=ref,
                                partitions=backend_partitions(backend, n))


@pytest.mark.parametrize("dims", [("a", "time", "b"), ("ch", "time")])
def test_rms_layouts(backend, dims):
    if backend.value != "numpy" and dims != ("a", "time", "b"):
        pytest.skip("numpy-only layout (the 3-D one runs everywhere)")
    sizes = {"time": 32, "ch": 3, "a": 2, "b": 1}  # (T, C) = (32, 2) as elsewhere
    host = np.random.default_rng(3).standard_normal([sizes[d] for d in dims]).astype("float32")
    out = _rms()(_msg(backend, host, dims))
    assert out.dims == list(dims)
    ix = dims.index("time")
    ref = np.moveaxis(rms_reference(np.moveaxis(host, ix, 0).astype(np.float64), 5), 0, ix)
    assert_close(out.data, ref.astype("float32"), xp=backend.xp, device=backend.device,
                 dtype="float32")


@pytest.mark.parametrize("bin_duration,size", [(0.05, 5), (0.036, 3), (0.07, 7), (0.01, 1)])
def test_rms_bins_and_timestamps(bin_duration, size):
    x = np.random.default_rng(4).standard_normal((60, 2))
    msg = _np_msg(x, offset=2.0)
    for lengths in random_partitions(60, count=4, seed=size):
        proc, emitted = _rms(bin_duration=bin_duration), 0
        for chunk in split_message(msg, lengths):
            out = proc(chunk)
            ax = out.axes["time"]
            assert ax.gain == pytest.approx(size / FS)
            assert ax.offset == pytest.approx(2.0 + emitted * size / FS)  # bin start times
            emitted += out.data.shape[0]
        assert emitted == 60 // size


def test_square_law_axis():
    out = _square_law(q=4)(_np_msg(np.ones((40, 2)), offset=1.0))
    assert out.data.shape == (10, 2)
    assert (out.axes["time"].gain, out.axes["time"].offset) == (pytest.approx(0.04), 1.0)


def test_empty_chunks(backend):
    if backend.value == "jax":
        pytest.skip("JAX's empty chunks run in the chunked test (saves its compile time)")
    out = _rms()(_msg(backend, np.zeros((0, 2), "float32")))
    assert tuple(out.data.shape) == (0, 2)
    out = _square_law()(_msg(backend, np.zeros((0, 2), "float32")))
    assert tuple(out.data.shape) == (0, 2)


def test_pickle_resumes(backend):
    host = np.random.default_rng(5).standard_normal((64, 2)).astype("float32")
    split = 32 if backend.value == "jax" else 35  # mid-bin off JAX (shapes: see backend_partitions)
    assert_pickle_resumes(_rms, _msg(backend, host), split_at=split)
    assert_pickle_resumes(_square_law, _msg(backend, host), split_at=split)


def test_defaults_follow_ezmsg_sigproc():
    s = RMSBandPowerSettings()
    assert (s.bandpass.order, s.bandpass.coef_type, s.bandpass.cuton, s.bandpass.cutoff) == (
        4, "sos", None, None)
    assert (s.bin_duration, s.apply_sqrt, s.materialize) == (0.05, True, MaterializeMode.ASYNC)
    q = SquareLawBandPowerSettings()
    assert (q.lowpass.order, q.lowpass.coef_type, q.downsample.factor) == (4, "sos", None)
    assert issubclass(RMSBandPower, TransformerUnit)
    assert issubclass(SquareLawBandPower, TransformerUnit)
    assert RMSBandPower.SETTINGS is RMSBandPowerSettings


@pytest.mark.parametrize("kw,field", [
    (dict(bin_duration=0.0), "bin_duration"),
    (dict(bin_duration=float("nan")), "bin_duration"),
    (dict(apply_sqrt=1), "apply_sqrt"),
    (dict(materialize="bogus"), "materialize"),
    (dict(bandpass=DownsampleSettings()), "bandpass"),
])
def test_bad_rms_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        RMSBandPowerSettings(**kw)


def test_bad_input():
    with pytest.raises(ValueError, match="^lowpass"):
        SquareLawBandPowerSettings(lowpass=DownsampleSettings())
    with pytest.raises(ValueError, match="^downsample"):
        SquareLawBandPowerSettings(downsample=ButterworthFilterSettings())
    with pytest.raises(ValueError, match="^bin_duration"):
        _rms(bin_duration=0.005)(_np_msg(np.zeros((4, 1))))  # below one sample at 100 Hz
    with pytest.raises(ValueError, match="^cutoff"):
        RMSBandPowerTransformer(RMSBandPowerSettings(bandpass=ButterworthFilterSettings(
            order=2, cuton=5.0, cutoff=80.0)))(_np_msg(np.zeros((4, 1))))
