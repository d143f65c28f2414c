import asyncio

import numpy as np
import pytest
import scipy.signal as ss
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.ewmfilter import (
    EWM,
    EWMFilter,
    EWMFilterSettings,
    EWMSettings,
    EWMState,
    _Plans,
    _standardize,
)
from ezmsg_sigproc_units.testing import assert_close

FS = 100.0


def _host(n=50, ch=3, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, ch)) + np.linspace(0, 3, n)[:, None]).astype(dtype)


def _msg(backend, host, dims=("time", "ch")):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=FS)})


def _ref(buffer, block, zero_offset, w=None):
    """EWMA (alpha = 2 / (w + 1)) mean, EWMA of squared deviations, last ``block`` rows."""
    x = buffer.astype(np.float64)
    a = 2.0 / ((x.shape[0] - block if w is None else w) + 1.0)

    def f(v):
        zi = np.zeros((1, v.shape[1])) if zero_offset else (1 - a) * v[:1]
        return ss.lfilter([a], [1, a - 1], v, axis=0, zi=zi)[0]

    d = x - f(x)
    return (d / np.maximum(np.sqrt(f(d * d)), 1e-4))[-block:]


@pytest.mark.parametrize("zero_offset", [True, False])
def test_standardize_matches_reference(backend, float_dtype, zero_offset):
    host = _host(dtype=float_dtype)
    out = _standardize(_Plans(), EWMSettings(zero_offset=zero_offset),
                       _msg(backend, host[40:]), _msg(backend, host[10:]))
    assert_close(out.data, _ref(host[10:], 10, zero_offset), xp=backend.xp,
                 device=backend.device, dtype=float_dtype,
                 rtol=1e-4 if float_dtype == "float32" else None)
    assert out.axes["time"].offset == 0.0 and out.dims == ["time", "ch"]


def test_signal_longer_than_the_buffer(backend):
    host = _host()
    out = _standardize(_Plans(), EWMSettings(), _msg(backend, host[10:]),
                       _msg(backend, host[30:]))
    assert_close(out.data, _ref(host[10:], 40, True, w=20), xp=backend.xp,
                 device=backend.device, dtype=host.dtype)


def test_other_layout(backend):
    host = _host()
    sig = AxisArray(backend.asarray(np.ascontiguousarray(host[40:].T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    buf = AxisArray(backend.asarray(np.ascontiguousarray(host[10:].T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    out = _standardize(_Plans(), EWMSettings(), sig, buf)
    assert out.dims == ["ch", "time"]
    assert_close(out.data, _ref(host[10:], 10, True).T, xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_unit_pairs_signal_and_buffer_in_order():
    host = _host()

    async def run():
        unit = EWM(EWMSettings(zero_offset=False))
        unit.apply_settings(EWMSettings(zero_offset=False))
        unit.STATE = EWMState()
        await unit.initialize()
        gen = unit.sync_output()
        outs = []
        for end in (30, 50):
            await unit.on_signal(_msg(_NP, host[end - 10: end]))
            await unit.on_buffer(_msg(_NP, host[end - 30: end]))
            outs.append((await gen.__anext__())[1])
        return outs

    outs = asyncio.run(run())
    for out, end in zip(outs, (30, 50), strict=True):
        np.testing.assert_allclose(out.data, _ref(host[end - 30: end], 10, False), rtol=1e-10)


def test_collection_wiring_and_settings():
    f = EWMFilter(EWMFilterSettings(history_dur=0.5, zero_offset=False))
    f.configure()
    assert f.WINDOW.SETTINGS.window_dur == 0.5 and f.WINDOW.SETTINGS.window_shift is None
    assert f.EWM.SETTINGS.zero_offset is False
    net = list(f.network())
    for a, b in [(f.INPUT_SIGNAL, f.WINDOW.INPUT_SIGNAL), (f.INPUT_SIGNAL, f.EWM.INPUT_SIGNAL),
                 (f.WINDOW.OUTPUT_SIGNAL, f.EWM.INPUT_BUFFER),
                 (f.EWM.OUTPUT_SIGNAL, f.OUTPUT_SIGNAL)]:
        assert any(x is a and y is b for x, y in net)
    for bad in (0.0, -1.0, "1", True):
        with pytest.raises(ValueError, match="^history_dur"):
            EWMFilterSettings(history_dur=bad)
    s = EWMSettings()
    assert (s.axis, s.zero_offset) == (None, True)


class _Numpy:
    @staticmethod
    def asarray(h):
        return np.asarray(h)


_NP = _Numpy()


def test_graph_runs_the_family_units(tmp_path):
    """A real ``ez.run`` graph: EWMFilter (Window + EWM), AdaptiveStandardScaler and
    EWMAUnit publish what offline processing gives, chunk by chunk."""
    from ezmsg_sigproc_units.ewma import EWMASettings, EWMATransformer, EWMAUnit
    from ezmsg_sigproc_units.scaler import (
        AdaptiveStandardScaler,
        AdaptiveStandardScalerSettings,
        scaler_np,
    )
    from tests.helpers.graph import (
        ChunkSource,
        ChunkSourceSettings,
        RecordingSink,
        RecordingSinkSettings,
        concat,
        load,
        run_graph,
        whole_message,
    )

    lengths = (37, 1, 64, 13, 100, 29, 7, 149, 50)  # no empty chunk: EWM pairs by order
    n = sum(lengths)
    hist = 0.25  # 50 samples at 200 Hz
    sink_path = tmp_path / "ewm.pkl"
    src = ChunkSource(ChunkSourceSettings(lengths=lengths))
    units = [EWMFilter(EWMFilterSettings(history_dur=hist)),
             AdaptiveStandardScaler(AdaptiveStandardScalerSettings(time_constant=0.1)),
             EWMAUnit(EWMASettings(time_constant=0.1))]
    sink = RecordingSink(RecordingSinkSettings(
        path=str(sink_path), expect={i: ("time", n, len(lengths)) for i in range(3)}))
    comps = {"SRC": src, "SINK": sink, **{f"U{i}": u for i, u in enumerate(units)}}
    conns = []
    for i, u in enumerate(units):
        conns += [(src.OUTPUT_SIGNAL, u.INPUT_SIGNAL),
                  (u.OUTPUT_SIGNAL, getattr(sink, f"INPUT_{i}"))]
    run_graph("ewm_family", comps, conns, [sink_path], deadline=40.0)
    got = load(sink_path)

    whole = whole_message(n)
    host = np.asarray(whole.data)
    padded = np.concatenate([np.zeros((50, host.shape[1])), host])
    ends = np.cumsum(lengths)
    ref0 = np.concatenate([_ref(padded[e: e + 50], k, True) if k < 50 else
                           _ref(host[e - k: e], k, True, w=50)
                           for e, k in zip(ends, lengths, strict=True)])
    np.testing.assert_allclose(concat(got[0], "time"), ref0, rtol=1e-9, atol=1e-12)
    ref1 = scaler_np(time_constant=0.1)(whole).data
    np.testing.assert_allclose(concat(got[1], "time"), ref1, rtol=1e-9, atol=1e-12)
    ref2 = EWMATransformer(EWMASettings(time_constant=0.1))(whole).data
    np.testing.assert_allclose(concat(got[2], "time"), ref2, rtol=1e-9, atol=1e-12)
