"""Real ``ez.run`` graphs give the numbers of offline processing.

One graph per backend holds eight parallel chains fed by one deterministic source (600
samples x 4 channels in 15 uneven chunks, three of them empty). A recording sink keeps host
copies of everything; the concatenated output of each chain must equal what the same processor
classes give for the whole signal in one call (and, where it is simple, SciPy/NumPy), with the
same dims, coordinates, key, namespace and dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units._units import WindowedUnit
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings, BandPowerTransformer
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilter,
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
)
from ezmsg_sigproc_units.downsample import Downsample, DownsampleSettings, DownsampleTransformer
from ezmsg_sigproc_units.math.abs import Abs, AbsSettings, AbsTransformer
from ezmsg_sigproc_units.math.clip import Clip, ClipSettings, ClipTransformer
from ezmsg_sigproc_units.math.scale import Scale, ScaleSettings, ScaleTransformer
from ezmsg_sigproc_units.spectrogram import (
    Spectrogram,
    SpectrogramSettings,
    SpectrogramTransformer,
)
from ezmsg_sigproc_units.spectrum import SpectralTransform, WindowFunction
from ezmsg_sigproc_units.window import Window, WindowSettings, WindowTransformer
from tests.helpers.graph import (
    FS,
    LENGTHS,
    N_SAMPLES,
    ChunkSource,
    ChunkSourceSettings,
    RecordingSink,
    RecordingSinkSettings,
    concat,
    concat_axis,
    load,
    make_signal,
    offline_axis,
    published_count,
    run_graph,
    whole_message,
)

BANDPASS = ButterworthFilterSettings(axis="time", order=4, cuton=5.0, cutoff=30.0,
                                     coef_type="sos")
LOWPASS = ButterworthFilterSettings(axis="time", order=2, cutoff=20.0, coef_type="sos")
WINDOW = WindowSettings(axis="time", newaxis="win", window_dur=0.2, window_shift=0.1,
                        zero_pad_until="none")
SPECTROGRAM = SpectrogramSettings(window_dur=0.25, window_shift=0.125,
                                  window=WindowFunction.HANNING,
                                  transform=SpectralTransform.REL_DB)
BANDPOWER = BandPowerSettings(
    spectrogram_settings=SpectrogramSettings(window_dur=0.5, window_shift=0.25,
                                             transform=SpectralTransform.REL_POWER),
    bands=[(4.0, 8.0), (15.0, 25.0), (40.0, 50.0)])


@dataclass
class Chain:
    name: str
    stages: list[tuple[type, Any, type]]
    """(Unit class, settings, processor class) in order."""
    dim: str
    """The output dim messages are joined along."""
    reference: Callable[[np.ndarray], np.ndarray] | None = None
    """SciPy/NumPy result for the whole float64 host signal, when simple to state."""


def _steady_sosfilt(settings: ButterworthFilterSettings, x: np.ndarray) -> np.ndarray:
    sos = scipy.signal.butter(settings.order, [settings.cuton, settings.cutoff]
                              if settings.cuton else settings.cutoff,
                              btype="bandpass" if settings.cuton else "lowpass", fs=FS,
                              output="sos")
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * x[0]  # initial_state="steady"
    return scipy.signal.sosfilt(sos, x, axis=0, zi=zi)[0]


def _windows(x: np.ndarray) -> np.ndarray:
    n, hop = 40, 20  # 0.2 s and 0.1 s at 200 Hz, no zero padding
    return np.stack([x[k:k + n] for k in range(0, x.shape[0] - n + 1, hop)])


CHAINS = [
    Chain("butterworth", [(ButterworthFilter, BANDPASS, ButterworthFilterTransformer)], "time",
          lambda x: _steady_sosfilt(BANDPASS, x)),
    Chain("window", [(Window, WINDOW, WindowTransformer)], "win", _windows),
    Chain("spectrogram", [(Spectrogram, SPECTROGRAM, SpectrogramTransformer)], "time"),
    Chain("bandpower", [(BandPower, BANDPOWER, BandPowerTransformer)], "time"),
    Chain("downsample", [(Downsample, DownsampleSettings(factor=3), DownsampleTransformer)],
          "time", lambda x: x[::3]),
    Chain("lowpass-downsample-clip",
          [(ButterworthFilter, LOWPASS, ButterworthFilterTransformer),
           (Downsample, DownsampleSettings(target_rate=50.0), DownsampleTransformer),
           (Clip, ClipSettings(min=-0.8, max=0.8), ClipTransformer)], "time",
          lambda x: np.clip(_steady_sosfilt(LOWPASS, x)[::4], -0.8, 0.8)),
    Chain("clip", [(Clip, ClipSettings(min=-0.5, max=1.0), ClipTransformer)], "time",
          lambda x: np.clip(x, -0.5, 1.0)),
    Chain("scale-abs", [(Scale, ScaleSettings(scale=2.5), ScaleTransformer),
                        (Abs, AbsSettings(), AbsTransformer)], "time",
          lambda x: np.abs(2.5 * x)),
]


def _n_published(chain: Chain, backend: str, dtype: str) -> int:
    """Messages the chain publishes: one per input, except that a windowed last Unit
    publishes only outputs that carry a window."""
    if not issubclass(chain.stages[-1][0], WindowedUnit):
        return len(LENGTHS)
    procs = [proc_cls(settings) for _, settings, proc_cls in chain.stages]
    return published_count(procs, ChunkSourceSettings(backend=backend, dtype=dtype), chain.dim)


def _offline(chain: Chain, backend: str, dtype: str) -> Any:
    out = whole_message(backend=backend, dtype=dtype)
    for _, settings, proc_cls in chain.stages:
        out = proc_cls(settings)(out)
    return out


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory):
    return tmp_path_factory.mktemp("graph_numerics")


def _run_system(tmp, backend: str, dtype: str) -> tuple[dict, dict]:
    """Run all chains in one graph; returns (recordings, offline outputs) per chain index."""
    offline = {i: _offline(c, backend, dtype) for i, c in enumerate(CHAINS)}
    sink_path = tmp / f"{backend}.pkl"
    expect = {i: (c.dim, offline[i].data.shape[offline[i].dims.index(c.dim)],
                  _n_published(c, backend, dtype)) for i, c in enumerate(CHAINS)}
    comps: dict = {
        "SRC": ChunkSource(ChunkSourceSettings(backend=backend, dtype=dtype)),
        "SINK": RecordingSink(RecordingSinkSettings(path=str(sink_path), expect=expect)),
    }
    conns = []
    for i, chain in enumerate(CHAINS):
        prev = comps["SRC"].OUTPUT_SIGNAL
        for j, (unit_cls, settings, _) in enumerate(chain.stages):
            unit = comps[f"C{i}_{j}"] = unit_cls(settings)
            conns.append((prev, unit.INPUT_SIGNAL))
            prev = unit.OUTPUT_SIGNAL
        conns.append((prev, getattr(comps["SINK"], f"INPUT_{i}")))
    run_graph(f"numerics_{backend}", comps, conns, [sink_path], deadline=40.0)
    return load(sink_path), offline


BACKENDS = [("numpy", "float64"), ("torch", "float32")]


@pytest.fixture(scope="module", params=BACKENDS, ids=[b for b, _ in BACKENDS])
def system(request, tmp_module):
    backend, dtype = request.param
    if backend != "numpy":
        pytest.importorskip(backend)
    got, offline = _run_system(tmp_module, backend, dtype)
    return backend, dtype, got, offline


def _tolerances(dtype: str, ref: np.ndarray, rtol64: float = 1e-10,
                rtol32: float = 1e-5) -> dict:
    rtol = rtol64 if dtype == "float64" else rtol32
    scale = float(np.max(np.abs(ref))) if ref.size else 1.0
    return {"rtol": rtol, "atol": rtol * scale}


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("index", range(len(CHAINS)), ids=[c.name for c in CHAINS])
def test_graph_output_equals_offline(system, index):
    backend, dtype, got, offline = system
    chain, want = CHAINS[index], offline[index]
    recs = got[index]
    # One output per input message (empty chunks included), except that windowed Units
    # publish only outputs that carry a window.
    assert len(recs) == _n_published(chain, backend, dtype), [r.data.shape for r in recs]
    if issubclass(chain.stages[-1][0], WindowedUnit):
        assert all(r.data.shape[r.dims.index(chain.dim)] for r in recs)
    for r in recs:
        assert r.backend == backend and r.dtype == dtype, (r.backend, r.dtype)
        assert r.dims == list(want.dims) and r.key == want.key
    data = concat(recs, chain.dim)
    ref = _backend.to_host(want.data)
    assert data.shape == ref.shape
    np.testing.assert_allclose(data, ref, **_tolerances(dtype, ref),
                               err_msg=f"{chain.name}: graph vs offline (whole signal)")
    # Coordinates: along the joined dim concatenated, the other dims as offline.
    np.testing.assert_allclose(concat_axis(recs, chain.dim), offline_axis(want, chain.dim),
                               rtol=1e-12, atol=1e-12)
    last = recs[-1]
    for d in want.dims:
        if d != chain.dim and last.axes[d] is not None:
            np.testing.assert_array_equal(
                concat_axis([last], d), offline_axis(want, d), err_msg=f"axis {d}")


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("index", [i for i, c in enumerate(CHAINS) if c.reference is not None],
                         ids=[c.name for c in CHAINS if c.reference is not None])
def test_graph_output_equals_scipy(system, index):
    _, dtype, got, _ = system
    chain = CHAINS[index]
    data = concat(got[index], chain.dim)
    ref = chain.reference(make_signal())
    # float32 streams are compared to a float64 reference
    np.testing.assert_allclose(data, ref, **_tolerances(dtype, ref, 1e-9, 2e-5),
                               err_msg=f"{chain.name}: graph vs SciPy/NumPy")


def test_chunking_is_uneven():
    assert sum(LENGTHS) == N_SAMPLES and LENGTHS.count(0) >= 2 and 1 in LENGTHS
    assert len(set(LENGTHS)) > 8
