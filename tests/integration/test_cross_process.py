"""Data crossing a process boundary in a real graph (one ``ez.run``, two processes).

The ``REMOTE`` collection runs in its own process (``process_components``):

* torch and MLX messages published in the main process arrive there intact: same values
  (bit for bit), dtype and namespace, as new arrays; our Units (``Clip`` there, ``Scale`` in
  the main process) publish torch/MLX outputs that cross the boundary with the right values.
* NumPy input arrives as read-only views into the publisher's shared-memory slots, which are
  reused: the source has only two slots, so a slot is rewritten two messages later. Stateful
  Units there (``Window``, ``ButterworthFilter``, ``BandPower``) must still give the numbers of
  offline processing; a Unit that kept a view of an input past its callback would not.

In the main process a sink checks that ``Scale``, a ``TransformerUnit``, publishes evaluated
MLX arrays (no pending compute graph), while a bare ezmsg Unit doing the same multiply
publishes a lazy one (the control that shows the check can fail).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray, replace

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings, BandPowerTransformer
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilter,
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
)
from ezmsg_sigproc_units.math.clip import Clip, ClipSettings
from ezmsg_sigproc_units.math.scale import Scale, ScaleSettings
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
from ezmsg_sigproc_units.window import Window, WindowSettings, WindowTransformer
from tests.helpers.graph import (
    LENGTHS,
    ChunkSource,
    ChunkSourceSettings,
    RecordingSink,
    RecordingSinkSettings,
    TightChunkSource,
    chunk_messages,
    concat,
    concat_axis,
    load,
    offline_axis,
    published_count,
    run_graph,
    whole_message,
)

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_MLX = importlib.util.find_spec("mlx") is not None
if HAS_MLX:
    try:
        import mlx.core  # noqa: F401  (import before the fork, as a real app would)
    except Exception:  # noqa: BLE001 - an MLX that does not import here counts as absent
        HAS_MLX = False
if HAS_TORCH:
    import torch  # noqa: F401  (imported before the fork: the child then unpickles quickly)

NP_LENGTHS = LENGTHS * 4  # 60 messages (2400 samples) through a 2-slot shared-memory ring
CLIP = ClipSettings(min=-0.5, max=0.5)
SCALE = 2.5

WINDOW = WindowSettings(axis="time", newaxis="win", window_dur=0.3, window_shift=0.05,
                        zero_pad_until="none")
FILTER = ButterworthFilterSettings(axis="time", order=3, cuton=3.0, cutoff=40.0,
                                   coef_type="sos")
BANDPOWER = BandPowerSettings(
    spectrogram_settings=SpectrogramSettings(window_dur=0.5, window_shift=0.1),
    bands=[(4.0, 8.0), (15.0, 25.0)])

NP_SRC = ChunkSourceSettings(lengths=NP_LENGTHS, backend="numpy", dtype="float64", key="np")
TORCH_SRC = ChunkSourceSettings(backend="torch", dtype="float32", seed=1, key="torch")
MLX_SRC = ChunkSourceSettings(backend="mlx", dtype="float32", seed=2, key="mlx")

# Remote sink inputs
R_WINDOW, R_FILTER, R_BANDPOWER, R_NUMPY, R_TORCH, R_MLX, R_TORCH_CLIP, R_MLX_SCALE = range(8)
# Local sink inputs
L_MLX_SCALE, L_MLX_LAZY, L_TORCH_CLIP_BACK = range(3)


class LazyScale(ez.Unit):
    """A bare ezmsg Unit multiplying by ``SCALE`` without materialising (the control)."""

    INPUT_SIGNAL = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    @ez.subscriber(INPUT_SIGNAL)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> Any:
        yield self.OUTPUT_SIGNAL, replace(msg, data=msg.data * SCALE)


class RemoteSettings(ez.Settings):
    sink: RecordingSinkSettings


class Remote(ez.Collection):
    """Everything that runs in the second process."""

    SETTINGS = RemoteSettings

    WINDOW = Window(WINDOW)
    FILTER = ButterworthFilter(FILTER)
    BANDPOWER = BandPower(BANDPOWER)
    CLIP = Clip(CLIP)
    SINK = RecordingSink()

    def configure(self) -> None:
        self.SINK.apply_settings(self.SETTINGS.sink)

    def network(self) -> Any:
        return ((self.WINDOW.OUTPUT_SIGNAL, self.SINK.INPUT_0),
                (self.FILTER.OUTPUT_SIGNAL, self.SINK.INPUT_1),
                (self.BANDPOWER.OUTPUT_SIGNAL, self.SINK.INPUT_2),
                (self.CLIP.OUTPUT_SIGNAL, self.SINK.INPUT_6))


def _offline_np(proc_cls: type, settings: Any) -> AxisArray:
    return proc_cls(settings)(whole_message(n=sum(NP_LENGTHS), backend="numpy",
                                            dtype="float64", key="np"))


def _dim_len(msg: AxisArray, dim: str) -> int:
    return msg.data.shape[msg.dims.index(dim)]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("cross_process")
    n_np, n_msgs = sum(NP_LENGTHS), len(NP_LENGTHS)
    offline = {"window": _offline_np(WindowTransformer, WINDOW),
               "filter": _offline_np(ButterworthFilterTransformer, FILTER),
               "bandpower": _offline_np(BandPowerTransformer, BANDPOWER)}
    # windowed Units publish only the outputs that carry a window
    published = {"window": published_count([WindowTransformer(WINDOW)], NP_SRC, "win"),
                 "filter": n_msgs,
                 "bandpower": published_count([BandPowerTransformer(BANDPOWER)], NP_SRC,
                                              "time")}
    remote_expect = {R_WINDOW: ("win", _dim_len(offline["window"], "win"), published["window"]),
                     R_FILTER: ("time", n_np, n_msgs),
                     R_BANDPOWER: ("time", _dim_len(offline["bandpower"], "time"),
                                   published["bandpower"]),
                     R_NUMPY: ("time", n_np, n_msgs)}
    local_expect: dict = {}
    n, m = sum(LENGTHS), len(LENGTHS)
    remote_path, local_path = tmp / "remote.pkl", tmp / "local.pkl"
    remote = Remote(RemoteSettings(sink=RecordingSinkSettings(path=str(remote_path),
                                                              expect=remote_expect)))
    comps: dict[str, Any] = {"NP_SRC": TightChunkSource(NP_SRC), "REMOTE": remote}
    conns: list = [(comps["NP_SRC"].OUTPUT_SIGNAL, u.INPUT_SIGNAL)
                   for u in (remote.WINDOW, remote.FILTER, remote.BANDPOWER)]
    conns.append((comps["NP_SRC"].OUTPUT_SIGNAL, remote.SINK.INPUT_3))
    if HAS_TORCH:
        comps["TORCH_SRC"] = ChunkSource(TORCH_SRC)
        conns += [(comps["TORCH_SRC"].OUTPUT_SIGNAL, remote.SINK.INPUT_4),
                  (comps["TORCH_SRC"].OUTPUT_SIGNAL, remote.CLIP.INPUT_SIGNAL)]
        remote_expect.update({R_TORCH: ("time", n, m), R_TORCH_CLIP: ("time", n, m)})
        local_expect[L_TORCH_CLIP_BACK] = ("time", n, m)
    if HAS_MLX:
        comps["MLX_SRC"] = ChunkSource(MLX_SRC)
        # Separate Scale Units for the local check and the remote one: pickling for another
        # process would evaluate an array and hide a missing materialisation locally.
        comps["SCALE_LOCAL"] = Scale(ScaleSettings(scale=SCALE))
        comps["SCALE_REMOTE"] = Scale(ScaleSettings(scale=SCALE))
        comps["LAZY"] = LazyScale()
        for name in ("SCALE_LOCAL", "SCALE_REMOTE", "LAZY"):
            conns.append((comps["MLX_SRC"].OUTPUT_SIGNAL, comps[name].INPUT_SIGNAL))
        conns.append((comps["MLX_SRC"].OUTPUT_SIGNAL, remote.SINK.INPUT_5))
        conns.append((comps["SCALE_REMOTE"].OUTPUT_SIGNAL, remote.SINK.INPUT_7))
        remote_expect.update({R_MLX: ("time", n, m), R_MLX_SCALE: ("time", n, m)})
        local_expect.update({L_MLX_SCALE: ("time", n, m), L_MLX_LAZY: ("time", n, m)})
    sinks = [remote_path]
    if local_expect:
        comps["LOCAL_SINK"] = RecordingSink(RecordingSinkSettings(path=str(local_path),
                                                                  expect=local_expect))
        sinks.append(local_path)
        if HAS_TORCH:
            conns.append((remote.CLIP.OUTPUT_SIGNAL, comps["LOCAL_SINK"].INPUT_2))
        if HAS_MLX:
            conns += [(comps["SCALE_LOCAL"].OUTPUT_SIGNAL, comps["LOCAL_SINK"].INPUT_0),
                      (comps["LAZY"].OUTPUT_SIGNAL, comps["LOCAL_SINK"].INPUT_1)]
    run_graph("cross_process", comps, conns, sinks, deadline=60.0, process_components=[remote])
    return {"remote": load(remote_path), "local": load(local_path) if local_expect else {},
            "offline": offline, "published": published}


def _sent(settings: ChunkSourceSettings) -> list[np.ndarray]:
    return [np.array(_backend.to_host(m.data)) for m in chunk_messages(settings)]


def _assert_intact(recs: list, settings: ChunkSourceSettings, backend: str, type_name: str,
                   transform=lambda x: x) -> None:
    sent = _sent(settings)
    assert len(recs) == len(sent)
    for r, x in zip(recs, sent, strict=True):
        assert (r.backend, r.type_name, r.dtype) == (backend, type_name, settings.dtype)
        assert r.key == settings.key and r.dims == ["time", "ch"]
        np.testing.assert_array_equal(r.data, transform(x))


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_crosses_process_intact(recordings):
    _assert_intact(recordings["remote"][R_TORCH], TORCH_SRC, "torch", "torch.Tensor")
    assert all(r.device == "cpu" for r in recordings["remote"][R_TORCH])


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_our_unit_output_crosses_both_ways_torch(recordings):
    """torch into Clip in the other process, Clip's output to both processes."""
    clip = lambda x: np.clip(x, CLIP.min, CLIP.max)  # noqa: E731
    _assert_intact(recordings["remote"][R_TORCH_CLIP], TORCH_SRC, "torch", "torch.Tensor", clip)
    _assert_intact(recordings["local"][L_TORCH_CLIP_BACK], TORCH_SRC, "torch", "torch.Tensor",
                   clip)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not HAS_MLX, reason="mlx does not import here")
def test_mlx_crosses_process_intact(recordings):
    _assert_intact(recordings["remote"][R_MLX], MLX_SRC, "mlx", "mlx.core.array")
    scaled = lambda x: x * np.float32(SCALE)  # noqa: E731
    _assert_intact(recordings["remote"][R_MLX_SCALE], MLX_SRC, "mlx", "mlx.core.array", scaled)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not HAS_MLX, reason="mlx does not import here")
def test_transformer_unit_publishes_evaluated_mlx(recordings):
    ours, lazy = recordings["local"][L_MLX_SCALE], recordings["local"][L_MLX_LAZY]
    scaled = lambda x: x * np.float32(SCALE)  # noqa: E731
    _assert_intact(ours, MLX_SRC, "mlx", "mlx.core.array", scaled)
    assert [r.pending_graph for r in ours] == [False] * len(ours)
    # The control: the same multiply in a bare Unit arrives unevaluated, so the check above
    # would see a Unit that forgot to materialise.
    assert all(r.pending_graph for r in lazy if r.data.size), [r.pending_graph for r in lazy]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_numpy_arrives_as_read_only_shared_memory(recordings):
    """The premise of the next test: the remote Units got read-only (shared-memory) views,
    and the sink, which copies in its callback, got every chunk's values intact."""
    recs = recordings["remote"][R_NUMPY]
    assert all(r.writeable is False for r in recs if r.data.size)
    _assert_intact(recs, NP_SRC, "numpy", "numpy.ndarray")


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("name,index,dim", [("window", R_WINDOW, "win"),
                                            ("filter", R_FILTER, "time"),
                                            ("bandpower", R_BANDPOWER, "time")])
def test_stateful_units_keep_no_views_of_inputs(recordings, name, index, dim):
    recs, want = recordings["remote"][index], recordings["offline"][name]
    assert len(recs) == recordings["published"][name]
    ref = _backend.to_host(want.data)
    got = concat(recs, dim)
    assert got.shape == ref.shape and ref.size
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10 * np.max(np.abs(ref)),
                               err_msg=f"{name} in another process vs offline")
    np.testing.assert_allclose(concat_axis(recs, dim), offline_axis(want, dim), rtol=1e-12,
                               atol=1e-12)
