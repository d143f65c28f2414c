"""Resample's rate mode with ``max_chunk_delay``: after a gap in the input the Unit publishes
the outputs up to the delay past the last input, extrapolated; later inputs resume after them.
A reference stream in rate mode is ignored (the peer's outputs do not depend on it either)."""

import asyncio
import logging

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis
from scipy.signal import resample_poly

from ezmsg_sigproc_units.resample import (
    ResampleSettings,
    ResampleTransformer,
    ResampleUnit,
    resample,
)
from ezmsg_sigproc_units.testing import assert_close


def _msg(data, start, fs=1000.0):
    return AxisArray(data, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=start / fs)})


def _line(t_src, x_src, tau):
    """Linear interpolation, continued past both ends by the end segments' lines."""
    out = np.empty((len(tau), x_src.shape[1]))
    for k, t in enumerate(tau):
        i = int(np.clip(np.searchsorted(t_src, t, side="right") - 1, 0, len(t_src) - 2))
        w = (t - t_src[i]) / (t_src[i + 1] - t_src[i])
        out[k] = x_src[i] + (x_src[i + 1] - x_src[i]) * w
    return out


def test_polyphase_extrapolates_once_then_resumes_on_the_whole_stream_grid(backend, float_dtype):
    host = np.random.default_rng(1).standard_normal((600, 2)).astype(float_dtype)
    proc = ResampleTransformer(ResampleSettings(resample_rate=250.0, max_chunk_delay=0.1))
    first = proc(_msg(backend.asarray(host[:300]), 0))
    n0 = first.data.shape[0]
    assert proc.state.n_out == n0 < 75  # the filter's look-ahead holds the last outputs
    ext = proc.extrapolate()
    # the grid points up to the last input (0.299 s: index 74), then 0.1 s (25) beyond it
    assert ext.data.shape[0] == 100 - n0
    ax = ext.axes["time"]
    assert ax.gain == pytest.approx(1 / 250) and ax.offset == pytest.approx(n0 / 250)
    tau = np.arange(n0, 100) / 250
    ref = _line(np.arange(300) / 1000, host[:300].astype(np.float64), tau)
    assert_close(ext.data, ref, xp=backend.xp, device=backend.device,
                 dtype=getattr(backend.xp, float_dtype))
    assert proc.extrapolate() is None  # once per gap
    # later input: the grid resumes after the extrapolated outputs, with the whole stream's
    # resample_poly values (the skipped outputs are never emitted twice)
    out = proc(_msg(backend.asarray(host[300:]), 300))
    assert out.axes["time"].offset == pytest.approx(100 / 250)
    whole = resample_poly(host.astype(np.float64), 1, 4, axis=0)
    assert_close(out.data, whole[100:100 + out.data.shape[0]], xp=backend.xp,
                 device=backend.device, dtype=getattr(backend.xp, float_dtype))
    assert proc.extrapolate() is not None  # a new gap after new input


@pytest.mark.parametrize("fill_value,past", [("last", "last"), (7.0, 7.0), ((1.0, -3.0), -3.0)])
def test_fill_value_past_the_last_input(fill_value, past):
    host = np.arange(100.0).reshape(50, 2)
    proc = ResampleTransformer(ResampleSettings(resample_rate=200.0, max_chunk_delay=0.02,
                                                fill_value=fill_value))
    proc(_msg(host, 0))
    ext = proc.extrapolate()
    tau = ext.axes["time"].offset + np.arange(ext.data.shape[0]) / 200.0
    beyond = tau > 49 / 1000
    assert beyond.sum() == 4
    want = host[-1] if past == "last" else np.full(2, past)
    np.testing.assert_allclose(ext.data[beyond], np.broadcast_to(want, (4, 2)))
    inside = _line(np.arange(50) / 1000, host, tau[~beyond])
    np.testing.assert_allclose(ext.data[~beyond], inside)


def test_linear_mode_and_same_rate_extrapolate():
    t = 2.0 + np.cumsum(np.random.default_rng(2).uniform(0.5e-3, 1.5e-3, 80))
    host = np.random.default_rng(3).standard_normal((80, 1))
    msg = AxisArray(host, dims=["time", "ch"],
                    axes={"time": CoordinateAxis(data=t, dims=["time"], unit="s")})
    proc = ResampleTransformer(ResampleSettings(resample_rate=500.0, max_chunk_delay=0.01))
    out = proc(msg)
    ext = proc.extrapolate()
    tau = ext.axes["time"].offset + np.arange(ext.data.shape[0]) / 500.0
    assert tau[0] > t[0] + (out.data.shape[0] - 1) / 500.0 and tau[-1] <= t[-1] + 0.01 + 1e-9
    np.testing.assert_allclose(ext.data, _line(t[-2:], host[-2:], tau))
    # the same rate: still the input's samples, and the delay's outputs after a gap
    same = ResampleTransformer(ResampleSettings(resample_rate=1000.0, max_chunk_delay=0.005))
    x = np.random.default_rng(4).standard_normal((30, 2))
    np.testing.assert_allclose(same(_msg(x, 0)).data, x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(same.extrapolate().data, _line([0.028, 0.029], x[-2:],
                                                              np.arange(30, 35) / 1000))


def test_nothing_to_extrapolate():
    assert resample(250.0).extrapolate() is None  # no max_chunk_delay
    proc = ResampleTransformer(ResampleSettings(resample_rate=250.0, max_chunk_delay=0.1))
    assert proc.extrapolate() is None  # no input yet
    proc(_msg(np.zeros((1, 1)), 0))
    assert proc.extrapolate() is None  # one input has no line
    ref_mode = ResampleTransformer(ResampleSettings(max_chunk_delay=0.1))
    ref_mode(_msg(np.zeros((10, 1)), 0))
    assert ref_mode.extrapolate() is None  # reference mode waits for its reference


def test_a_reference_in_rate_mode_is_ignored(caplog):
    x = np.random.default_rng(5).standard_normal((200, 2))
    base = resample(250.0)(_msg(x, 0)).data
    proc = resample(250.0)
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        for _ in range(2):
            proc.push_reference(_msg(np.zeros((5, 1)), 0, fs=100.0))
    assert sum("used only in reference mode" in r.message for r in caplog.records) == 1
    np.testing.assert_array_equal(proc(_msg(x, 0)).data, base)


def test_unit_publishes_the_extrapolation_after_the_delay():
    async def run(settings, feed):
        unit = ResampleUnit(settings)
        await unit.initialize()
        gen = unit.extrapolate_after_delay()
        for msg in feed:
            async for _ in unit.on_signal(msg):
                pass
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            stream, out = await asyncio.wait_for(gen.__anext__(), 1.0)
        except StopAsyncIteration:
            return None
        return stream is unit.OUTPUT_SIGNAL, out.data.shape, loop.time() - t0

    x = np.ones((200, 2))
    ok, shape, waited = asyncio.run(run(ResampleSettings(resample_rate=250.0,
                                                         max_chunk_delay=0.05), [_msg(x, 0)]))
    assert ok and shape[1] == 2 and shape[0] > 13  # 0.05 s at 250 Hz past the last input
    assert waited >= 0.05
    assert asyncio.run(run(ResampleSettings(resample_rate=250.0), [_msg(x, 0)])) is None
