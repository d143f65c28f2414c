"""The windowed Units (Window, Spectrogram, BandPower, Welch) driven through ``on_signal``:
they publish only messages that carry a window, ``Window`` with ``newaxis=None`` publishes one
``[time, ch]`` message per window, read-only ``axes`` mappings are accepted, and sparse data
(pydata sparse COO) is windowed as dense data is."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator, Mapping

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings, BandPowerTransformer
from ezmsg_sigproc_units.spectrogram import (
    Spectrogram,
    SpectrogramSettings,
    SpectrogramTransformer,
)
from ezmsg_sigproc_units.spectrum import SpectrumSettings, SpectrumTransformer
from ezmsg_sigproc_units.testing import assert_close, split_message
from ezmsg_sigproc_units.welch import Welch, WelchSettings, WelchTransformer
from ezmsg_sigproc_units.window import Window, WindowSettings, WindowTransformer

FS, CH, N, CHUNK = 1000.0, 3, 1000, 10
SPEC = SpectrogramSettings(window_dur=0.2, window_shift=0.1)


class FrozenAxes(Mapping):
    """The least a read-only Mapping offers: no item assignment, no ``copy``, no ``get`` of
    its own."""

    def __init__(self, axes: dict) -> None:
        self._d = dict(axes)

    def __getitem__(self, key: str) -> object:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


def _stream(backend=None, n=N, ch=CH, offset=2.0, axes_type=dict):
    host = np.random.default_rng(0).standard_normal((n, ch))
    data = host if backend is None else backend.asarray(host)
    msg = AxisArray(data, dims=["time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=FS, offset=offset)})
    chunks = split_message(msg, [CHUNK] * (n // CHUNK))
    if axes_type is not dict:
        for c in chunks:
            c.axes = axes_type(dict(c.axes))
    return host, msg, chunks


def _published(unit, chunks) -> list[AxisArray]:
    async def run() -> list[AxisArray]:
        await unit.initialize()
        return [out for c in chunks async for _, out in unit.on_signal(c)]

    return asyncio.run(run())


# ----------------------------------------------------------------- only windows are published
@pytest.mark.parametrize("unit_cls, settings, make, dim", [
    (Window, WindowSettings(newaxis="win", window_dur=0.5, window_shift=0.1),
     lambda: WindowTransformer(WindowSettings(newaxis="win", window_dur=0.5, window_shift=0.1)),
     "win"),
    (Spectrogram, SPEC, lambda: SpectrogramTransformer(SPEC), "time"),
    (BandPower, BandPowerSettings(spectrogram_settings=SPEC, bands=[(10.0, 40.0)]),
     lambda: BandPowerTransformer(BandPowerSettings(spectrogram_settings=SPEC,
                                                    bands=[(10.0, 40.0)])), "time"),
    (Welch, WelchSettings(segment_dur=0.1, n_segments=2),
     lambda: WelchTransformer(WelchSettings(segment_dur=0.1, n_segments=2)), "time"),
], ids=["Window", "Spectrogram", "BandPower", "Welch"])
def test_units_publish_only_messages_with_windows(unit_cls, settings, make, dim):
    _, _, chunks = _stream()
    proc = make()
    offline = [proc(c) for c in chunks]
    carrying = [o for o in offline if o.data.shape[o.dims.index(dim)] > 0]
    assert 0 < len(carrying) < len(offline) // 5  # most 10-sample chunks complete no window
    published = _published(unit_cls(settings), chunks)
    assert len(published) == len(carrying)
    for got, want in zip(published, carrying, strict=True):
        assert got.dims == want.dims and got.axes == want.axes
        np.testing.assert_allclose(got.data, want.data)


def test_offline_transformer_still_answers_every_chunk():
    """Like the peer's transformer: a chunk without a window gives a zero-window message."""
    _, _, chunks = _stream()
    proc = WindowTransformer(WindowSettings(window_dur=0.5, window_shift=0.1))
    out = proc(chunks[0])
    assert out.dims == ["win", "time", "ch"] and out.data.shape == (1, 500, CH)
    out = proc(chunks[1])
    assert out.dims == ["win", "time", "ch"] and out.data.shape == (0, 500, CH)


def test_passthrough_unit_drops_only_chunks_without_samples():
    _, msg, _ = _stream(n=40)
    chunks = split_message(msg, [10, 0, 30, 0])
    published = _published(Window(WindowSettings()), chunks)
    assert [p.data.shape for p in published] == [(10, CH), (30, CH)]
    assert published[1] is chunks[2]


def test_empty_along_channels_still_flows():
    """A message with windows but no channels (all selected away upstream) keeps the cadence."""
    _, _, chunks = _stream(n=100, ch=0)
    published = _published(Window(WindowSettings(newaxis="win", window_dur=0.05,
                                                 window_shift=0.05)), chunks)
    assert [p.data.shape for p in published] == [(1, 50, 0)] * 2


# ------------------------------------------------------------------------ newaxis=None
@pytest.mark.parametrize("anchor", ["beginning", "middle", "end"])
def test_newaxis_none_publishes_one_time_ch_message_per_window(backend, anchor):
    host, _, chunks = _stream(backend, n=300, offset=2.0)
    kw = dict(window_dur=0.05, window_shift=0.02, zero_pad_until="none", anchor=anchor)
    published = _published(Window(WindowSettings(**kw)), chunks)
    starts = range(0, 300 - 50 + 1, 20)
    assert len(published) == len(starts)
    for k, (out, start) in enumerate(zip(published, starts, strict=True)):
        assert out.dims == ["time", "ch"] and out.stream_dim == "time"
        assert set(out.axes) == {"time"}
        ax = out.axes["time"]
        assert isinstance(ax, LinearAxis) and ax.gain == pytest.approx(1 / FS)
        assert ax.offset == pytest.approx(2.0 + start / FS), k  # the window's first sample
        assert_close(out.data, host[start : start + 50], xp=backend.xp, device=backend.device,
                     dtype=host.dtype)
    # the offline transformer keeps the peer's "win" dim (one output per input)
    out = WindowTransformer(WindowSettings(**kw))(chunks[5])
    assert out.dims == ["win", "time", "ch"]


def test_newaxis_none_one_window_per_message_and_batches():
    _, _, chunks = _stream(n=100)
    one = _published(Window(WindowSettings(window_dur=0.02)), chunks)
    assert len(one) == 10 and all(o.dims == ["time", "ch"] and o.data.shape == (20, CH)
                                  for o in one)
    assert one[3].axes["time"].offset == pytest.approx(2.0 + 0.02)  # the latest 20 samples
    batched = _published(Window(WindowSettings(window_dur=0.02, window_shift=0.02,
                                               batch_windows=True)), chunks)
    assert [b.data.shape for b in batched] == [(20, CH)] * 5  # joined, not split


def test_spectrum_after_newaxis_none_window_gives_freq_ch():
    _, _, chunks = _stream(n=200)
    wins = _published(Window(WindowSettings(window_dur=0.05, window_shift=0.05,
                                            zero_pad_until="none")), chunks)
    spectrum = SpectrumTransformer(SpectrumSettings(axis="time"))
    outs = [spectrum(w) for w in wins]
    assert len(outs) == 4 and all(o.dims == ["freq", "ch"] and o.data.shape == (26, CH)
                                  for o in outs)


# ---------------------------------------------------------------------- read-only axes
_PROCS = {
    "Window": lambda: WindowTransformer(WindowSettings(window_dur=0.2, window_shift=0.1)),
    "Window-batch": lambda: WindowTransformer(WindowSettings(window_dur=0.1, window_shift=0.1,
                                                             batch_windows=True)),
    "Spectrogram": lambda: SpectrogramTransformer(SPEC),
    "BandPower": lambda: BandPowerTransformer(BandPowerSettings(spectrogram_settings=SPEC,
                                                                bands=[(10.0, 40.0)])),
    "Welch": lambda: WelchTransformer(WelchSettings(segment_dur=0.1, n_segments=2)),
}


@pytest.mark.parametrize("axes_type", [types.MappingProxyType, FrozenAxes],
                         ids=["MappingProxyType", "custom-Mapping"])
@pytest.mark.parametrize("name", list(_PROCS))
def test_read_only_axes(name, axes_type):
    _, _, plain = _stream(n=500)
    _, _, frozen = _stream(n=500, axes_type=axes_type)
    before = [dict(c.axes) for c in frozen]
    ref = _PROCS[name]()
    want = [ref(c) for c in plain]
    proc = _PROCS[name]()
    got = [proc(c) for c in frozen]
    for g, w in zip(got, want, strict=True):
        assert g.dims == w.dims and dict(g.axes) == dict(w.axes)
        np.testing.assert_allclose(g.data, w.data)
    assert [dict(c.axes) for c in frozen] == before and all(
        type(c.axes) is axes_type for c in frozen)


@pytest.mark.parametrize("axes_type", [types.MappingProxyType, FrozenAxes],
                         ids=["MappingProxyType", "custom-Mapping"])
def test_read_only_axes_through_the_window_unit(axes_type):
    _, _, chunks = _stream(n=200, axes_type=axes_type)
    published = _published(Window(WindowSettings(window_dur=0.05, window_shift=0.05)), chunks)
    assert len(published) == 4 and all(p.dims == ["time", "ch"] for p in published)


# ------------------------------------------------------------------------------- sparse
@pytest.mark.parametrize("kw", [
    dict(window_dur=0.02, window_shift=0.01),
    dict(window_dur=0.02),
    dict(window_dur=0.01, window_shift=0.03, zero_pad_until="none"),
    dict(window_dur=0.02, window_shift=0.02, batch_windows=True),
], ids=["overlap", "one-per-message", "gaps", "batch"])
def test_sparse_spikes_window_like_dense(kw):
    """pydata sparse (COO) spike trains: any chunking gives the dense stream's windows, as COO."""
    sparse = pytest.importorskip("sparse")
    host = (np.random.default_rng(1).random((300, CH)) > 0.9).astype(np.float64)
    msg = AxisArray(host, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=FS)})
    dense, sp = WindowTransformer(WindowSettings(**kw)), WindowTransformer(WindowSettings(**kw))
    for chunk in split_message(msg, [0, 7, 1, 50, 100, 0, 142]):
        want = dense(chunk)
        got = sp(AxisArray(sparse.COO.from_numpy(chunk.data), dims=chunk.dims,
                           axes=chunk.axes))
        assert isinstance(got.data, sparse.COO)
        assert got.dims == want.dims and got.axes == want.axes
        np.testing.assert_array_equal(got.data.todense(), want.data)


def test_sparse_through_the_window_unit_newaxis_none():
    sparse = pytest.importorskip("sparse")
    host, _, chunks = _stream(n=100)
    spikes = [AxisArray(sparse.COO.from_numpy(np.where(c.data > 1.0, 1.0, 0.0)), dims=c.dims,
                        axes=c.axes) for c in chunks]
    published = _published(Window(WindowSettings(window_dur=0.02, window_shift=0.02,
                                                 zero_pad_until="none")), spikes)
    assert len(published) == 5
    for k, out in enumerate(published):
        assert isinstance(out.data, sparse.COO) and out.dims == ["time", "ch"]
        np.testing.assert_array_equal(out.data.todense(),
                                      np.where(host[20 * k : 20 * k + 20] > 1.0, 1.0, 0.0))
