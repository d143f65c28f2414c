"""Long chunks run in bounded blocks: the same numbers as one unblocked call, and about one
input's size of extra memory (the output) instead of the kernels' temporaries on the whole
chunk."""

import tracemalloc

import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._kernels import blocks
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
)
from ezmsg_sigproc_units.butterworthzerophase import (
    ButterworthZeroPhaseSettings,
    ButterworthZeroPhaseTransformer,
)
from ezmsg_sigproc_units.filter import FilterSettings, FilterTransformer
from ezmsg_sigproc_units.testing import assert_close

FS = 30000.0
BAND = dict(order=4, cuton=300.0, cutoff=7500.0)
TAPS = scipy.signal.firwin(129, (300.0, 7500.0), fs=FS, pass_zero=False)


def _make(name, **kw):
    if name == "iir":
        return ButterworthFilterTransformer(ButterworthFilterSettings(
            axis="time", coef_type="sos", **BAND, **kw))
    if name == "zero_phase":
        return ButterworthZeroPhaseTransformer(ButterworthZeroPhaseSettings(
            axis="time", **BAND, **kw))
    taps = TAPS if name == "fir_fft" else TAPS[:16]  # 16 taps: direct products
    return FilterTransformer(FilterSettings(axis="time", coefs=(taps, np.array([1.0])), **kw))


NAMES = ("iir", "fir_fft", "fir_direct", "zero_phase")


def _msg(data, start=0):
    return AxisArray(data, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=start / FS)})


@pytest.mark.parametrize("name", NAMES)
def test_peak_extra_memory_is_about_one_input(name):
    host = np.random.default_rng(0).standard_normal((400_008, 16)).astype(np.float32)
    proc = _make(name)
    proc(_msg(host[:8]))  # design and plan built before measuring
    msg = _msg(host[8:], 8)
    tracemalloc.start()
    try:
        out = proc(msg)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.data.dtype == np.float32
    assert out.data.shape[0] >= msg.data.shape[0] - 200  # the zero-phase latency at most
    # The output is one input's size; the kernels' temporaries on the whole chunk took
    # 2.5x (IIR) to 7.8x (zero-phase) more before the chunk was cut into blocks.
    assert peak <= 1.5 * msg.data.nbytes, f"peak {peak / msg.data.nbytes:.2f}x the input"


def _unblocked(monkeypatch):
    monkeypatch.setattr(blocks, "MIN_BLOCK_ENTRIES", 1 << 40)
    monkeypatch.setattr(blocks, "MAX_BLOCK_ENTRIES", 1 << 40)


def _stream(backend, name, host, lengths, **kw):
    proc, outs, start = _make(name, **kw), [], 0
    for k in lengths:
        out = proc(_msg(backend.asarray(host[start:start + k]), start))
        outs.append(out)
        start += k
    return outs


@pytest.mark.parametrize("nonfinite", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_blocked_equals_one_call(backend, name, nonfinite, monkeypatch):
    if backend.value in ("jax", "mlx") and (name != "zero_phase" or nonfinite):
        pytest.skip("the blocks are backend-neutral; compiled backends: one configuration")
    host = np.random.default_rng(1).standard_normal((9040, 128))
    if nonfinite:  # in a later block: the reset still follows the whole chunk
        host[5000, 3] = np.nan
    lengths = (9000, 40)  # 1.15 M values: blocks of 2048 samples or so; then a short chunk
    kw = dict(reset_on_nonfinite=nonfinite)
    blocked = _stream(backend, name, host, lengths, **kw)
    _unblocked(monkeypatch)
    whole = _stream(backend, name, host, lengths, **kw)
    for got, want in zip(blocked, whole, strict=True):
        assert got.axes["time"].offset == pytest.approx(want.axes["time"].offset, abs=1e-9)
        assert_close(got.data, want.data)


def test_blocked_equals_small_chunks_offline():
    """A long chunk equals the same stream in chunks too short to be cut (and sosfilt)."""
    host = np.random.default_rng(2).standard_normal((20_000, 64))
    sos = scipy.signal.butter(4, (300.0, 7500.0), "bandpass", fs=FS, output="sos")
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * host[0]
    ref = scipy.signal.sosfilt(sos, host, axis=0, zi=zi)[0]
    out = _make("iir")(_msg(host))
    assert_close(out.data, ref)
    zp_whole = _make("zero_phase")(_msg(host))
    zp = _make("zero_phase")
    parts = [zp(_msg(host[a:a + 2000], a)).data for a in range(0, 20_000, 2000)]
    assert_close(zp_whole.data, np.concatenate(parts))
    assert zp_whole.axes["time"].offset == pytest.approx(0.0, abs=1e-12)


def test_gather_blocks_with_a_delayed_start(xp, device):
    """A stream whose first outputs are withheld (a look-ahead): the blocks before the first
    output give nothing, the output is as long as what came after."""
    from ezmsg_sigproc_units._backend import asarray

    x = asarray(xp, np.arange(100.0), dtype=xp.float64, device=device)
    y = blocks.gather_blocks(xp, 100, 10, lambda a, b: x[max(a, 35):max(b, 35)])
    assert_close(y, np.arange(35.0, 100.0), xp=xp, device=device)
    assert blocks.gather_blocks(xp, 100, 10, lambda a, b: x[:0]).shape == (0,)
    assert blocks.block_length(10, 8) >= 10  # short chunks: one call
    assert blocks.block_length(10**6, 256, 32) == 4096
