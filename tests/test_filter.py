"""FilterTransformer and FilterByDesignTransformer: scipy equality on every backend for any
chunking, layouts (1-D to 3-D, axis first/middle/last), state conventions, coefficient updates
without a glitch, NaN confinement and reset, settings validation."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.signal as ss
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.filter import (
    FilterBaseSettings,
    FilterByDesignTransformer,
    FilterCoefficients,
    FilterSettings,
    FilterTransformer,
    filtergen,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    random_partitions,
)

FS = 200.0
SOS = ss.butter(4, (5.0, 30.0), btype="band", fs=FS, output="sos")
BA = ss.butter(3, 20.0, fs=FS)
FIR = ss.firwin(9, 20.0, fs=FS)
LONG_FIR = ss.firwin(81, 20.0, fs=FS)
FIXED = [[0, 1, 30, 0, 40, 49]]  # one partition for backends that compile every shape (JAX)


def _msg(backend, host, dims=("time", "ch"), fs=FS, offset=0.0):
    axes = {"time": AxisArray.TimeAxis(fs=fs, offset=offset)}
    return AxisArray(backend.asarray(host) if backend else host, dims=list(dims), axes=axes)


def _close(actual, desired, rtol):
    desired = np.asarray(desired)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def _steady_sos(sos, x):
    zi = ss.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    return ss.sosfilt(sos, x, axis=0, zi=zi)[0]


def _steady_ba(b, a, x):
    return ss.lfilter(b, a, x, axis=0, zi=ss.lfilter_zi(b, a)[:, None] * x[0][None, :])[0]


CASES = {
    "sos": (lambda: filtergen("time", SOS, "sos"), lambda x: _steady_sos(SOS, x)),
    "ba-iir": (lambda: filtergen("time", BA, "ba"), lambda x: _steady_ba(*BA, x)),
    "ba-fir": (lambda: filtergen(None, (FIR, np.array([1.0])), "ba"),
               lambda x: _steady_ba(FIR, [1.0], x)),
    "fir-fft": (lambda: FilterTransformer(FilterSettings(
        coefs=FilterCoefficients(b=LONG_FIR, a=np.array([1.0])))),
        lambda x: _steady_ba(LONG_FIR, [1.0], x)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_chunked_equals_scipy(backend, float_dtype, case):
    if backend.value == "jax" and (float_dtype == "float64" or case != "sos"):
        pytest.skip("JAX compiles every new shape eagerly: float32 sos only (suite time)")
    make, ref = CASES[case]
    host = np.random.default_rng(0).standard_normal((120, 3)).astype(float_dtype) + 2.0
    parts = random_partitions(120, count=4) if backend.value == "numpy" else FIXED
    assert_chunked_equals_whole(make, _msg(backend, host), partitions=parts,
                                reference=ref(host.astype(np.float64)))


def test_pickle_resumes(backend):
    host = np.random.default_rng(1).standard_normal((120, 3)).astype("float32")
    cases = ["sos"] if backend.value == "jax" else list(CASES)  # JAX: suite time
    for case in cases:
        assert_pickle_resumes(CASES[case][0], _msg(backend, host), split_at=40)


@pytest.mark.parametrize("btype,wn", [("low", 20.0), ("high", 20.0), ("band", (5.0, 30.0)),
                                      ("bandstop", (5.0, 30.0))])
def test_orders_1_to_8_numpy(btype, wn):
    host = np.random.default_rng(2).standard_normal((300, 2)).astype("float32")
    for order in range(1, 9):
        sos = ss.butter(order, wn, btype=btype, fs=FS, output="sos")
        for init in ("zero", "steady")[order % 2 :]:  # steady on every order, zero on even
            proc = FilterTransformer(FilterSettings(coefs=sos, coef_type="sos",
                                                    initial_state=init))
            x = host.astype(np.float64)
            ref = _steady_sos(sos, x) if init == "steady" else ss.sosfilt(sos, x, axis=0)
            out = np.concatenate([proc(_msg(None, host[:101])).data,
                                  proc(_msg(None, host[101:], offset=101 / FS)).data])
            assert_close(out, ref, dtype=np.float32, err_msg=f"{btype} {order} {init}")


LAYOUTS = [(("time",), (60,)), (("time", "ch"), (60, 6)), (("ch", "time"), (6, 60)),
           (("a", "time", "b"), (2, 60, 3)), (("a", "b", "time"), (2, 3, 60))]


@pytest.mark.parametrize("dims,shape", LAYOUTS, ids=lambda v: "-".join(map(str, v)))
def test_layouts(backend, dims, shape):
    if backend.value == "jax" and dims not in (("time", "ch"), ("a", "b", "time")):
        pytest.skip("JAX compiles every new shape eagerly (suite time)")
    host = np.random.default_rng(3).standard_normal(shape).astype("float32")
    ix = dims.index("time")
    ref = np.moveaxis(_steady_sos(SOS, np.moveaxis(host, ix, 0).reshape(60, -1)
                                  .astype(np.float64)).reshape(
        (60,) + tuple(np.delete(shape, ix))), 0, ix)
    proc = filtergen("time", SOS, "sos")
    first = proc(_msg(backend, np.take(host, range(25), axis=ix), dims))
    second = proc(_msg(backend, np.take(host, range(25, 60), axis=ix), dims, offset=25 / FS))
    assert first.dims == list(dims)
    out = backend.xp.concat([first.data, second.data], axis=ix)
    assert_close(out, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_empty_chunks_and_passthrough(backend):
    proc = filtergen("time", SOS, "sos")
    empty = np.zeros((0, 3), dtype="float32")
    assert tuple(proc(_msg(backend, empty)).data.shape) == (0, 3)
    host = np.random.default_rng(4).standard_normal((20, 3)).astype("float32") + 1.0
    out = proc(_msg(backend, host))  # the steady state comes from the first real sample
    assert_close(out.data, _steady_sos(SOS, host.astype(np.float64)), xp=backend.xp,
                 device=backend.device, dtype=host.dtype)
    msg = _msg(backend, host)
    assert FilterTransformer(FilterSettings())(msg) is msg


def test_integer_input_computes_in_float():
    host = (np.arange(40).reshape(20, 2) % 7).astype(np.int32)
    out = filtergen("time", SOS, "sos")(_msg(None, host)).data
    assert out.dtype == np.float64
    _close(out, _steady_sos(SOS, host.astype(np.float64)), rtol=1e-10)


@pytest.mark.parametrize("impl", ["iir", "fir"])
def test_update_coefficients_without_glitch(backend, impl):
    if backend.value == "jax" and impl == "fir":
        pytest.skip("JAX compiles every new shape eagerly (suite time)")
    host = np.random.default_rng(5).standard_normal((80, 2)).astype("float32")
    x = host.astype(np.float64)
    if impl == "iir":
        old, new = SOS, ss.butter(4, (8.0, 40.0), btype="band", fs=FS, output="sos")
        proc = FilterTransformer(FilterSettings(coefs=old, coef_type="sos",
                                                initial_state="zero"))
        _, zf = ss.sosfilt(old, x[:50], axis=0, zi=np.zeros((4, 2, 2)))
        ref = ss.sosfilt(new, x[50:], axis=0, zi=zf)[0]
    else:
        old, new = FIR, ss.firwin(9, 40.0, fs=FS)
        proc = FilterTransformer(FilterSettings(coefs=(old, [1.0]), initial_state="zero"))
        ref = ss.lfilter(new, [1.0], x, axis=0)[50:]
    proc(_msg(backend, host[:50]))
    if impl == "iir":
        proc.update_coefficients(new, coef_type="sos")
    else:
        proc.update_settings(FilterSettings(coefs=(new, [1.0]), initial_state="zero"))
    out = proc(_msg(backend, host[50:], offset=50 / FS))
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_update_to_another_order_restarts_steady():
    host = np.random.default_rng(6).standard_normal((60, 2)) + 3.0
    proc = filtergen("time", SOS, "sos")
    proc(_msg(None, host[:30]))
    sos2 = ss.butter(2, 30.0, fs=FS, output="sos")
    proc.update_coefficients(sos2, coef_type="sos")
    out = proc(_msg(None, host[30:], offset=30 / FS)).data
    _close(out, _steady_sos(sos2, host[30:]), rtol=1e-9)


@pytest.mark.parametrize("case", list(CASES))
def test_nonfinite_reaches_exactly_what_scipy_reaches(backend, case):
    """A NaN inside a block: the samples before it stay exact (the block products would
    spread it backwards), the outputs SciPy makes NaN are NaN, the rest match; other
    channels are untouched. Chunks put the NaN mid-block and mid-chunk."""
    make, ref_fn = CASES[case]
    host = np.random.default_rng(11).standard_normal((200, 3))
    host[37, 1] = np.nan
    host[150, 2] = np.inf
    dtype, rtol = ("float64", 1e-9) if backend.supports_float64() else ("float32", 2e-4)
    host = host.astype(dtype)
    ref = ref_fn(host.astype(np.float64))
    assert np.isnan(ref[37, 1]) and np.isfinite(ref[36, 1])
    partitions = ([200], [30, 40, 130], [34, 2, 1, 0, 163])
    for lengths in partitions if backend.value == "numpy" else partitions[1:2]:
        proc, start, outs = make(), 0, []
        for k in lengths:
            outs.append(to_host(proc(_msg(backend, host[start:start + k],
                                          offset=start / FS)).data))
            start += k
        got = np.concatenate(outs).astype(np.float64)
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref), err_msg=str(lengths))
        ok = np.isfinite(ref)
        _close(got[ok], ref[ok], rtol=rtol)


def test_nan_confined_and_reset_on_nonfinite():
    host = np.random.default_rng(7).standard_normal((90, 3))
    bad = host.copy()
    bad[35, 1] = np.nan
    chunks = [(0, 30), (30, 60), (60, 90)]
    outs = {}
    for reset in (False, True):
        proc = FilterTransformer(FilterSettings(coefs=SOS, coef_type="sos",
                                                reset_on_nonfinite=reset))
        outs[reset] = np.concatenate([proc(_msg(None, bad[a:b], offset=a / FS)).data
                                      for a, b in chunks])
    ref = _steady_sos(SOS, host)
    for out in outs.values():
        _close(out[:, [0, 2]], ref[:, [0, 2]], rtol=1e-10)
        _close(out[:35, 1], ref[:35, 1], rtol=1e-10)  # exact up to the NaN, as scipy
        assert np.all(np.isnan(out[35:60, 1]))
    assert np.all(np.isnan(outs[False][60:, 1]))
    # reset: channel 1 restarts at sample 60 from its steady state, like a fresh stream
    _close(outs[True][60:, 1], _steady_sos(SOS, host[60:, 1:2])[:, 0],
                               rtol=1e-10)


def test_portable_path_gives_the_same_result():
    host = np.random.default_rng(8).standard_normal((150, 4)).astype("float32")
    a = FilterTransformer(FilterSettings(coefs=SOS, coef_type="sos"))(_msg(None, host)).data
    b = FilterTransformer(FilterSettings(coefs=SOS, coef_type="sos", use_fast_sosfilt=False))(
        _msg(None, host)).data
    _close(a, b, rtol=1e-5)


@pytest.mark.parametrize("kwargs,field", [
    (dict(coef_type="zpk"), "coef_type"), (dict(coefs=np.ones((2, 5)), coef_type="sos"), "coefs"),
    (dict(coefs=np.ones((2, 6))), "coefs"), (dict(coefs=([1.0], [0.0, 1.0])), "coefs"),
    (dict(initial_state="random"), "initial_state"), (dict(fir_fft_min_taps=0), "fir_fft_min_taps"),
    (dict(axis=""), "axis"), (dict(reset_on_nonfinite=1), "reset_on_nonfinite")])
def test_bad_settings(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        FilterSettings(**kwargs)


def test_missing_axis_names_it():
    proc = filtergen("samples", SOS, "sos")
    with pytest.raises(ValueError, match="samples"):
        proc(_msg(None, np.zeros((5, 2))))


# ----------------------------------------------------------------------------- by design
class _LowSettings(FilterBaseSettings):
    order: int = 2
    cutoff: float = 20.0


class _Low(FilterByDesignTransformer[_LowSettings, np.ndarray]):
    def get_design_function(self):
        s = self.settings
        return lambda fs: ss.butter(s.order, s.cutoff, fs=fs, output="sos") if s.order else None


def test_by_design_follows_fs_and_settings(caplog):
    host = np.random.default_rng(9).standard_normal((120, 2)) + 1.0
    proc = _Low(_LowSettings(coef_type="sos"))
    sos = ss.butter(2, 20.0, fs=FS, output="sos")
    out = proc(_msg(None, host[:40])).data
    _close(out, _steady_sos(sos, host[:40]), rtol=1e-10)
    # a same-order redesign keeps the filter state (scipy zi carried over)
    _, zf = ss.sosfilt(sos, host[:40], axis=0, zi=ss.sosfilt_zi(sos)[:, :, None] * host[0])
    proc.update_settings(cutoff=30.0)
    sos30 = ss.butter(2, 30.0, fs=FS, output="sos")
    out = proc(_msg(None, host[40:80], offset=40 / FS)).data
    _close(out, ss.sosfilt(sos30, host[40:80], axis=0, zi=zf)[0],
                               rtol=1e-9)
    # a new sampling rate redesigns (with a log line) and restarts the filter
    with caplog.at_level(logging.INFO, logger="ezmsg"):  # EZMSG_LOGLEVEL may be WARNING
        out = proc(_msg(None, host[80:], fs=2 * FS, offset=1.0)).data
    assert "sampling rate" in caplog.text
    sos2 = ss.butter(2, 30.0, fs=2 * FS, output="sos")
    _close(out, _steady_sos(sos2, host[80:]), rtol=1e-9)
    proc.update_settings(_LowSettings(coef_type="sos", order=0))  # None: pass through
    msg = _msg(None, host[:10], fs=2 * FS)
    assert np.array_equal(proc(msg).data, host[:10])


def test_by_design_needs_a_sampling_rate():
    msg = AxisArray(np.zeros((5, 2)), dims=["time", "ch"],
                    axes={"time": AxisArray.CoordinateAxis(data=np.arange(5.0), dims=["time"])})
    with pytest.raises(ValueError, match="^axis"):
        _Low(_LowSettings())(msg)


def test_by_design_pickle_resumes(backend):
    if backend.value == "jax":
        pytest.skip("JAX compiles every new shape eagerly (suite time); numpy-equal code")
    host = np.random.default_rng(10).standard_normal((60, 2)).astype("float32")
    assert_pickle_resumes(lambda: _Low(_LowSettings(coef_type="sos")), _msg(backend, host),
                          split_at=21)
