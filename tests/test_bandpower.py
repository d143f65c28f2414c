import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host as to_host_array
from ezmsg_sigproc_units.aggregate import AggregationFunction
from ezmsg_sigproc_units.bandpower import BandPowerSettings, BandPowerTransformer
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings, spectrogram
from ezmsg_sigproc_units.testing import assert_chunked_equals_whole, assert_close

FS = 200.0
BANDS = [(8.0, 12.0), (18.0, 30.0)]


def _msg(backend, host):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS)})


def _settings(agg=AggregationFunction.MEAN):
    return BandPowerSettings(
        spectrogram_settings=SpectrogramSettings(window_dur=0.25, window_shift=0.05,
                                                 transform="REL_POWER"),
        bands=BANDS, aggregation=agg)


@pytest.mark.parametrize("agg", [AggregationFunction.MEAN, AggregationFunction.TRAPEZOID])
def test_bands_of_the_spectrogram(backend, float_dtype, agg):
    host = np.random.default_rng(1).standard_normal((300, 2)).astype(float_dtype)
    out = BandPowerTransformer(_settings(agg))(_msg(backend, host))
    spec = spectrogram(window_dur=0.25, window_shift=0.05, transform="REL_POWER")(
        _msg(backend, host.astype(np.float64)))
    s = to_host_array(spec.data)
    freqs = np.arange(s.shape[1]) * spec.axes["freq"].gain
    ref = []
    for lo, hi in BANDS:
        sel = (freqs >= lo) & (freqs <= hi)
        if agg is AggregationFunction.MEAN:
            ref.append(s[:, sel, :].mean(axis=1))
        else:
            ref.append(np.trapezoid(s[:, sel, :], freqs[sel], axis=1))
    ref = np.stack(ref, axis=1)
    assert out.dims == ["time", "freq", "ch"]
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=float_dtype)
    np.testing.assert_allclose(out.axes["freq"].data, [10.0, 24.0])


def test_chunked_equals_whole(backend):
    host = np.random.default_rng(2).standard_normal((150, 2)).astype("float32")
    assert_chunked_equals_whole(lambda: BandPowerTransformer(_settings()), _msg(backend, host))


def test_band_above_nyquist_is_refused():
    proc = BandPowerTransformer(BandPowerSettings(bands=[(70.0, 170.0)]))
    host = np.zeros((100, 1), dtype="float32")
    with pytest.raises(ValueError, match="bands"):
        proc(AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)}))


def test_bad_bands_at_construction():
    with pytest.raises(ValueError, match="bands"):
        BandPowerSettings(bands=[(30.0, 10.0)])
    with pytest.raises(ValueError, match="bands"):
        BandPowerSettings(bands=[(-1.0, 10.0)])


def test_defaults_match_peer():
    s = BandPowerSettings()
    assert s.bands == [(17.0, 30.0), (70.0, 170.0)]
    assert s.aggregation is AggregationFunction.MEAN and s.materialize.value == "async"
