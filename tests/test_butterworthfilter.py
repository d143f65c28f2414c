import pickle

import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.util import replace

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilter,
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
    butter,
    butter_design_fun,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    backend_partitions,
    split_message,
    time_signal,
)

FS = 200.0

# ---------------------------------------------------------------- design function


def test_design_reference_values():
    """Values returned by ezmsg-sigproc 3.11.1's butter_design_fun for the same arguments."""
    b, a = butter_design_fun(100.0, 2, None, 10.0, "ba")
    np.testing.assert_allclose(b, [0.0674552738890719, 0.1349105477781438, 0.0674552738890719],
                               rtol=1e-14)
    np.testing.assert_allclose(a, [1.0, -1.1429805025399011, 0.41280159809618877], rtol=1e-14)
    sos = butter_design_fun(100.0, 1, 5.0, 20.0, "sos")
    np.testing.assert_allclose(sos, [[0.33754015188354686, 0.0, -0.33754015188354686, 1.0,
                                      -1.051462224238267, 0.3249196962329061]],
                               rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("order", [1, 4, 7])
@pytest.mark.parametrize("coef_type", ["ba", "sos"])
@pytest.mark.parametrize("cuton,cutoff,btype,wn", [
    (None, 30.0, "lowpass", 30.0),
    (12.0, None, "highpass", 12.0),
    (5.0, 40.0, "bandpass", (5.0, 40.0)),
    (40.0, 5.0, "bandstop", (5.0, 40.0)),
])
def test_design_equals_scipy(order, coef_type, cuton, cutoff, btype, wn):
    got = butter_design_fun(FS, order, cuton, cutoff, coef_type)
    ref = scipy.signal.butter(order, wn, btype=btype, output=coef_type, fs=FS)
    for g, r in zip(got if coef_type == "ba" else [got], ref if coef_type == "ba" else [ref],
                    strict=True):
        np.testing.assert_array_equal(g, r)


def test_design_normalised_edges():
    got = butter_design_fun(FS, 3, 0.1, 0.4, "sos", wn_hz=False)
    np.testing.assert_array_equal(got, scipy.signal.butter(3, (0.1, 0.4), "bandpass",
                                                           output="sos"))
    with pytest.raises(ValueError, match=r"^cutoff.*\(0, 1\)"):
        butter_design_fun(FS, 3, 0.1, 1.5, "sos", wn_hz=False)


def test_design_passthrough():
    assert butter_design_fun(FS, 0, 5.0, 40.0, "sos") is None  # order 0: passthrough
    assert butter_design_fun(FS, 4, None, None, "sos") is None  # no edge: passthrough


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=4, cutoff=100.0), "cutoff"),  # == fs/2
    (dict(order=4, cutoff=150.0), "cutoff"),
    (dict(order=4, cuton=120.0), "cuton"),
    (dict(order=4, cuton=5.0, cutoff=5.0), "cuton"),
    (dict(order=4, cuton=0.0), "cuton"),
    (dict(order=-1, cutoff=10.0), "order"),
    (dict(order=4, cutoff=10.0, coef_type="tf"), "coef_type"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        butter_design_fun(FS, **kwargs)


# ---------------------------------------------------------------- settings


def test_settings_defaults_and_specs():
    s = ButterworthFilterSettings()
    assert (s.axis, s.coef_type, s.order, s.cuton, s.cutoff, s.wn_hz) == (
        None, "ba", 0, None, None, True)
    assert s.filter_specs() is None
    assert ButterworthFilterSettings(order=4, cutoff=40.0).filter_specs() == ("lowpass", 40.0)
    assert ButterworthFilterSettings(order=4, cuton=5.0).filter_specs() == ("highpass", 5.0)
    assert ButterworthFilterSettings(order=4, cuton=5.0, cutoff=40.0).filter_specs() == (
        "bandpass", (5.0, 40.0))
    assert ButterworthFilterSettings(order=4, cuton=40.0, cutoff=5.0).filter_specs() == (
        "bandstop", (5.0, 40.0))
    assert pickle.loads(pickle.dumps(s)) == s


@pytest.mark.parametrize("kwargs,field", [
    (dict(order=-1), "order"),
    (dict(order=2.5), "order"),
    (dict(order=True), "order"),
    (dict(order=4, cuton=-5.0), "cuton"),
    (dict(order=4, cutoff=float("nan")), "cutoff"),
    (dict(order=4, cuton=10.0, cutoff=10.0), "cuton"),
    (dict(order=4, cutoff=2.0, wn_hz=False), "cutoff"),
    (dict(coef_type="zpk"), "coef_type"),
    (dict(coef_type="foo"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        ButterworthFilterSettings(**kwargs)


def test_factory_and_unit():
    t = butter("time", 3, 5.0, 40.0, "sos")
    assert isinstance(t, ButterworthFilterTransformer)
    assert t.settings == ButterworthFilterSettings(axis="time", order=3, cuton=5.0,
                                                   cutoff=40.0, coef_type="sos")
    assert ButterworthFilter.SETTINGS is ButterworthFilterSettings


# ---------------------------------------------------------------- processor


def _zero(order, cuton, cutoff, coef_type="sos"):
    """A processor factory starting from rest (the default initial state is "steady")."""
    return lambda: ButterworthFilterTransformer(ButterworthFilterSettings(
        axis="time", order=order, cuton=cuton, cutoff=cutoff, coef_type=coef_type,
        initial_state="zero"))


def _ref_sos(sos, host, axis=0, zi=None):
    y = scipy.signal.sosfilt(sos, host.astype(np.float64), axis=axis, zi=zi)
    return y if zi is None else y[0]


def test_chunked_equals_sosfilt(backend, float_dtype):
    host, msg = time_signal(backend, dtype=float_dtype, fs=FS, offset=0.5)
    sos = butter_design_fun(FS, 4, 10.0, 40.0, "sos")
    assert_chunked_equals_whole(_zero(4, 10.0, 40.0), msg, reference=_ref_sos(sos, host),
                                partitions=backend_partitions(backend, 48, count=5, seed=1))


def test_ba_equals_lfilter_in_float64(backend):
    if not backend.supports_float64():
        pytest.skip(f"{backend.value} has no float64 here")
    host, msg = time_signal(backend, fs=FS, offset=0.5, seed=2)
    b, a = butter_design_fun(FS, 4, 10.0, 40.0, "ba")
    out = _zero(4, 10.0, 40.0, "ba")()(msg)
    assert_close(out.data, scipy.signal.lfilter(b, a, host, axis=0), xp=backend.xp,
                 device=backend.device, dtype="float64")


@pytest.mark.parametrize("order", range(1, 9))
@pytest.mark.parametrize("cuton,cutoff", [(None, 30.0), (15.0, None), (10.0, 40.0),
                                          (40.0, 10.0)])
def test_orders_and_band_types_numpy(order, cuton, cutoff):
    host, msg = time_signal(Backend.NUMPY, (40, 2), fs=FS, seed=order)
    sos = butter_design_fun(FS, order, cuton, cutoff, "sos")
    out = _zero(order, cuton, cutoff)()(msg)
    np.testing.assert_allclose(out.data, _ref_sos(sos, host), rtol=1e-10,
                               atol=1e-10 * np.abs(_ref_sos(sos, host)).max())


LAYOUTS = {"1d": (("time",), (48,)), "time-last": (("ch", "time"), (3, 48)),
           "3d-first": (("time", "ch", "freq"), (48, 2, 3)),
           "3d-last": (("ch", "freq", "time"), (2, 3, 48)),
           "3d-middle": (("ch", "time", "freq"), (1, 48, 3))}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_axis_position_and_ndim_numpy(layout):
    dims, shape = LAYOUTS[layout]
    host, msg = time_signal(Backend.NUMPY, shape, fs=FS, dims=dims, offset=0.5, seed=3)
    sos = butter_design_fun(FS, 2, 10.0, 40.0, "sos")
    assert_chunked_equals_whole(_zero(2, 10.0, 40.0), msg,
                                reference=_ref_sos(sos, host, dims.index("time")),
                                partitions=backend_partitions(Backend.NUMPY, 48, count=5, seed=1))


def test_axis_in_the_middle_of_3d(backend):
    # Same filter and channel count as the other tests, so JAX reuses its compiled kernels.
    dims, shape = LAYOUTS["3d-middle"]
    host, msg = time_signal(backend, shape, fs=FS, dtype="float32", dims=dims, offset=0.5,
                            seed=3)
    sos = butter_design_fun(FS, 4, 10.0, 40.0, "sos")
    assert_chunked_equals_whole(_zero(4, 10.0, 40.0), msg,
                                reference=_ref_sos(sos, host, dims.index("time")),
                                partitions=backend_partitions(backend, 48, count=5, seed=1))


def test_steady_initial_state_is_the_default(backend):
    host, msg = time_signal(backend, fs=FS, dtype="float32", offset=0.5, seed=4)
    host, msg = host + 5.0, replace(msg, data=msg.data + 5.0)  # DC: zero state would ring
    sos = butter_design_fun(FS, 4, 10.0, 40.0, "sos")
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * host[0].astype(np.float64)
    ref = _ref_sos(sos, host, zi=zi)
    assert_chunked_equals_whole(lambda: butter("time", 4, 10.0, 40.0, "sos"), msg,
                                reference=ref,
                                partitions=backend_partitions(backend, 48, count=5, seed=1))


def test_pickle_resumes():
    _, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=5)
    assert_pickle_resumes(lambda: butter("time", 4, 5.0, 40.0, "sos"), msg, split_at=19)


def test_passthrough(backend):
    host, msg = time_signal(backend, fs=FS, dtype="float32", offset=0.5, seed=6)
    out = butter("time")(msg)
    assert_close(out.data, host, xp=backend.xp, device=backend.device, dtype="float32")


def test_cutoff_above_nyquist_raises_at_first_message():
    proc = butter("time", 4, None, 150.0, "sos")
    with pytest.raises(ValueError, match=r"^cutoff.*fs/2"):
        proc(time_signal(Backend.NUMPY, fs=FS, offset=0.5)[1])


def test_rate_change_redesigns():
    _, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=7)
    host, fast = time_signal(Backend.NUMPY, fs=2 * FS, offset=0.5, seed=7)  # same samples
    proc = _zero(2, None, 30.0)()
    proc(msg)
    out = proc(fast)
    sos = butter_design_fun(2 * FS, 2, None, 30.0, "sos")
    np.testing.assert_allclose(out.data, _ref_sos(sos, host), rtol=1e-10, atol=1e-12)


def test_update_settings_redesigns_and_keeps_the_state():
    host, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=9)
    head, tail = split_message(msg, [20, 28])
    proc = _zero(4, 10.0, 40.0)()
    first = proc(head)
    proc.update_settings(cutoff=30.0)
    second = proc(tail)
    sos1 = butter_design_fun(FS, 4, 10.0, 40.0, "sos")
    sos2 = butter_design_fun(FS, 4, 10.0, 30.0, "sos")
    y1, zf = scipy.signal.sosfilt(sos1, host[:20], axis=0, zi=np.zeros((4, 2, 3)))
    y2, _ = scipy.signal.sosfilt(sos2, host[20:], axis=0, zi=zf)  # same order: no restart
    np.testing.assert_allclose(np.concatenate([first.data, second.data]),
                               np.concatenate([y1, y2]), rtol=1e-10, atol=1e-12)


def test_nan_stays_in_its_channel():
    _, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=8)
    msg.data[10, 1] = np.nan
    out = butter("time", 2, 5.0, 40.0, "sos")(msg)
    assert np.isnan(out.data[10:, 1]).all()  # an IIR never forgets a NaN ...
    assert np.isfinite(out.data[:, [0, 2]]).all()  # ... but it stays in its channel


def test_missing_axis_raises():
    with pytest.raises(ValueError, match="nope"):
        butter("nope", 2, None, 30.0)(time_signal(Backend.NUMPY, fs=FS, offset=0.5)[1])


def test_pickled_transformer_is_small_and_resumes_exactly(backend):
    """A 4th-order band-pass at 1 kHz on 64 float32 channels pickles, after one chunk, as
    its coefficients and filter state (well under 20 KB; its derived matrices were ~375 KB)
    and the unpickled copy continues the stream with the very same output."""
    fs = 1000.0
    host, msg = time_signal(backend, (80, 64), fs=fs, dtype="float32", offset=0.5, seed=10)
    head, tail = split_message(msg, [40, 40])
    proc = butter("time", 4, 1.0, 40.0, "sos")
    proc(head)
    blob = pickle.dumps(proc)
    assert len(blob) < 20_000, f"pickled to {len(blob)} bytes"
    again = pickle.loads(blob)
    want, got = proc(tail), again(tail)
    assert_close(got.data, want.data, xp=backend.xp, device=backend.device, dtype="float32",
                 rtol=1e-12, atol=0.0)
    np.testing.assert_array_equal(to_host(got.data), to_host(want.data))


def test_a_ba_design_is_converted_to_sections_once(monkeypatch):
    """Design -> coefficients -> plan: ``tf2sos`` runs once per design (first message, then
    once per redesign), never again per message."""
    calls = []
    tf2sos = scipy.signal.tf2sos
    monkeypatch.setattr(scipy.signal, "tf2sos", lambda *a, **k: calls.append(1) or tf2sos(*a, **k))
    _, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=11)
    head, mid, tail = split_message(msg, [16, 16, 16])
    proc = butter("time", 4, 10.0, 40.0, "ba")
    proc(head)
    proc(mid)
    assert len(calls) == 1
    proc.update_settings(cutoff=30.0)
    proc(tail)
    assert len(calls) == 2
