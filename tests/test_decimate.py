import asyncio

import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._units import TransformerUnit
from ezmsg_sigproc_units.cheby import ChebyshevFilterSettings
from ezmsg_sigproc_units.decimate import (
    ChebyForDecimate,
    ChebyForDecimateTransformer,
    Decimate,
    DecimateSettings,
    DecimateTransformer,
    DecimateUnit,
    anti_alias_settings,
    decimate,
)
from ezmsg_sigproc_units.downsample import Downsample
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_pickle_resumes,
    backend_partitions,
)

FS = 1000.0


def _msg(backend, host, dims=("time", "ch"), offset=0.5, fs=FS):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=offset)})


def _np_msg(host, offset=0.5, fs=FS):
    return AxisArray(host, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=offset)})


def _reference(x, q, steady=True):
    """``sosfilt(cheby1(8, 0.05, 0.8 / q), x)[::q]`` on the whole signal (time first)."""
    sos = scipy.signal.cheby1(8, 0.05, 0.8 / q, output="sos")
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * (x[0] if steady else 0.0)
    return scipy.signal.sosfilt(sos, x, axis=0, zi=zi)[0][::q]


@pytest.mark.parametrize("q", [2, 3])
def test_chunked_equals_causal_reference(backend, float_dtype, q):
    if backend.value != "numpy" and q != 3:
        pytest.skip("numpy-only factor (kept small on other backends)")
    if backend.value == "jax" and float_dtype == "float64":
        pytest.skip("JAX compiles the IIR kernel per shape and dtype (~2 s); float32 only")
    n = 80 if backend.value == "numpy" else 64
    host = (np.random.default_rng(q).standard_normal((n, 2)) + 1.0).astype(float_dtype)
    ref = _reference(host.astype(np.float64), q).astype(float_dtype)
    assert_chunked_equals_whole(lambda: decimate(factor=q), _msg(backend, host), reference=ref,
                                partitions=backend_partitions(backend, n))


def test_matches_scipy_decimate_causal_form():
    """scipy.signal.decimate(zero_phase=False) filters with lfilter from rest; ours with
    initial_state="zero" is the same filter in second-order sections."""
    x = np.random.default_rng(1).standard_normal((300, 2))
    proc = ChebyForDecimateTransformer(ChebyshevFilterSettings(
        **{**_settings_dict(anti_alias_settings(DecimateSettings(factor=4))),
           "initial_state": "zero"}))
    got = proc(_np_msg(x)).data[::4]
    want = scipy.signal.decimate(x, 4, ftype="iir", axis=0, zero_phase=False)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def _settings_dict(s):
    import dataclasses

    return {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}


def test_output_axis_and_layout(backend):
    host = np.random.default_rng(2).standard_normal((2, 32)).astype("float32")
    out = decimate(factor=4, axis="time")(_msg(backend, host, dims=("ch", "time"), offset=2.0))
    assert out.dims == ["ch", "time"] and tuple(out.data.shape) == (2, 8)
    assert out.axes["time"].gain == pytest.approx(0.004)
    assert out.axes["time"].offset == pytest.approx(2.0)
    from ezmsg_sigproc_units.testing import assert_close
    ref = _reference(host.T.astype(np.float64), 4).T.astype("float32")
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype="float32")


def test_target_rate_and_anti_alias_settings():
    s = anti_alias_settings(DecimateSettings(target_rate=250.0))
    assert (s.order, s.ripple_tol, s.Wn, s.wn_hz, s.cheby_type) == (8, 0.05, 100.0, True,
                                                                   "cheby1")
    s = anti_alias_settings(DecimateSettings(factor=5, axis="time"))
    assert (s.Wn, s.wn_hz, s.axis, s.coef_type) == (0.16, False, "time", "sos")
    x = np.random.default_rng(3).standard_normal((100, 1))
    out = decimate(target_rate=250.0)(_np_msg(x))
    np.testing.assert_allclose(out.data, _reference(x, 4), rtol=1e-9, atol=1e-12)


def test_factor_one_is_a_passthrough():
    x = np.random.default_rng(4).standard_normal((10, 2))
    msg = _np_msg(x)
    np.testing.assert_array_equal(decimate(factor=1)(msg).data, x)
    np.testing.assert_array_equal(decimate(target_rate=600.0)(msg).data, x)  # q = 1


def test_no_alias_of_a_tone_above_the_new_nyquist():
    t = np.arange(4000) / FS
    x = np.sin(2 * np.pi * 180.0 * t)[:, None]  # aliases to 20 Hz at 200 Hz without the filter
    out = decimate(factor=5)(_np_msg(x)).data[100:]
    assert np.abs(out).max() < 1e-3


def test_pickle_resumes(backend):
    host = np.random.default_rng(5).standard_normal((64, 2)).astype("float32")
    assert_pickle_resumes(lambda: decimate(factor=3), _msg(backend, host), split_at=32)


def test_empty_first_chunk(backend):
    if backend.value == "jax":
        pytest.skip("JAX's empty chunks run in the chunked test (saves its compile time)")
    out = decimate(factor=3)(_msg(backend, np.zeros((0, 2), "float32")))
    assert tuple(out.data.shape) == (0, 2)


def test_bad_input():
    with pytest.raises(ValueError, match="^factor"):
        DecimateTransformer(DecimateSettings())
    with pytest.raises(ValueError, match="^factor"):
        DecimateSettings(factor=0)
    with pytest.raises(ValueError, match="^target_rate"):
        DecimateSettings(target_rate=-1.0)
    x = np.random.default_rng(9).standard_normal((4, 1))  # unreachable rate: every sample
    np.testing.assert_allclose(decimate(target_rate=2000.0)(_np_msg(x)).data, x)  # (the peer's)


def test_collection_wires_filter_then_downsample():
    d = Decimate(DecimateSettings(factor=4))
    d.configure()
    assert isinstance(d.FILTER, ChebyForDecimate) and isinstance(d.DOWNSAMPLE, Downsample)
    assert d.FILTER.SETTINGS == anti_alias_settings(DecimateSettings(factor=4))
    assert d.DOWNSAMPLE.SETTINGS.factor == 4
    net = list(d.network())
    assert net[0] == (d.INPUT_SIGNAL, d.FILTER.INPUT_SIGNAL)
    assert net[1] == (d.FILTER.OUTPUT_SIGNAL, d.DOWNSAMPLE.INPUT_SIGNAL)
    assert net[2] == (d.DOWNSAMPLE.OUTPUT_SIGNAL, d.OUTPUT_SIGNAL)


def test_units_publish_the_transformer_output():
    x = np.random.default_rng(6).standard_normal((40, 2))
    unit = DecimateUnit(DecimateSettings(factor=2))
    assert isinstance(unit, TransformerUnit)

    async def run() -> list:
        await unit.initialize()
        return [out async for _, out in unit.on_signal(_np_msg(x))]

    (out,) = asyncio.run(run())
    np.testing.assert_allclose(out.data, _reference(x, 2), rtol=1e-9, atol=1e-12)
    assert issubclass(ChebyForDecimate, TransformerUnit)
    assert ChebyForDecimate.SETTINGS is ChebyshevFilterSettings


@pytest.mark.parametrize("wn,wn_hz,passthrough", [(0.8, False, True), (0.41, False, True),
                                                  (0.4, False, False), (200.0, True, False),
                                                  (205.0, True, True)])
def test_cheby_for_decimate_passes_through_when_no_decimation_is_implied(wn, wn_hz, passthrough):
    s = ChebyshevFilterSettings(order=8, ripple_tol=0.05, Wn=wn, wn_hz=wn_hz, coef_type="sos")
    coefs = ChebyForDecimateTransformer(s).get_design_function()(FS)
    assert (coefs is None) == passthrough
    if not passthrough:
        want = scipy.signal.cheby1(8, 0.05, wn, output="sos", fs=FS if wn_hz else None)
        np.testing.assert_allclose(coefs, want)
