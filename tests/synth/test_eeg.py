"""EEGSynth: the offline producer's signal, and the Collection in a real ez.run graph."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import ezmsg.core as ez
import numpy as np
import pytest
import scipy.signal
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth import EEGSynth, EEGSynthProducer, EEGSynthSettings
from ezmsg_sigproc_units.synth.eeg import ALPHA_BEAT, BETA_BEAT, beats
from ezmsg_sigproc_units.testing.graph import free_port
from tests.helpers.synth import take

FS = 500.0


def test_rhythms_are_bursts_of_the_documented_form():
    """Alone (no background, no beta, no line), the alpha rhythm of channel c is exactly
    ``alpha_amp cos(pi d_c t) sin(2 pi f t)``: bursts every ``1 / d_c`` seconds."""
    s = EEGSynthSettings(fs=FS, n_ch=5, n_time=100, pink_scale=0.0, beta_amp=0.0,
                         line_amp=0.0, alpha_amp=8.0, alpha_freq=10.5, dtype="float64")
    x = take(EEGSynthProducer(s), 5000)
    t = np.arange(5000)[:, None] / FS
    d = np.array(beats(5, *ALPHA_BEAT))[None, :]
    np.testing.assert_allclose(x, 8.0 * np.cos(np.pi * d * t) * np.sin(2 * np.pi * 10.5 * t),
                               atol=1e-9)
    assert len(set(np.round(d[0], 6))) == 5, "each channel bursts at its own rate"
    assert np.all((d >= ALPHA_BEAT[0]) & (d < ALPHA_BEAT[1]))
    assert np.all(np.array(beats(5, *BETA_BEAT)) >= BETA_BEAT[0])


def test_spectrum_has_background_rhythms_and_line_noise():
    s = EEGSynthSettings(fs=FS, n_ch=4, n_time=500, seed=1, line_freq=60.0)
    x = take(EEGSynthProducer(s), 20_000)  # 40 s
    f, p = scipy.signal.welch(x, fs=FS, nperseg=1000, axis=0)
    p = p.mean(axis=1)

    def band(lo, hi):
        return p[(f >= lo) & (f <= hi)].mean()

    # a rhythm's two lines lie within 1 Hz of its frequency, the line noise on it; compare
    # with the background 3..5 Hz away
    for peak, half, ratio in ((10.0, 1.0, 4.0), (20.0, 1.0, 2.0), (60.0, 0.25, 10.0)):
        inside = band(peak - half, peak + half)
        outside = (band(peak - 5.0, peak - 3.0) + band(peak + 3.0, peak + 5.0)) / 2
        assert inside > ratio * outside, (peak, inside / outside)
    # the background falls like 1/f between the peaks (2 Hz vs 40 Hz: about 13 dB)
    drop = 10 * np.log10(np.median(p[(f > 1.5) & (f < 2.5)]) / np.median(p[(f > 38) & (f < 42)]))
    assert 9 < drop < 17, drop


def test_settings_errors():
    with pytest.raises(ValueError, match="^n_time: dispatch_rate=None"):
        EEGSynthSettings(dispatch_rate=None)
    EEGSynthSettings(dispatch_rate=None, n_time=10)
    bad = [("dispatch_rate", {"dispatch_rate": 0.0}), ("alpha_freq", {"alpha_freq": 250.0}),
           ("beta_freq", {"beta_freq": 0.1}), ("line_freq", {"line_freq": -50.0}),
           ("line_amp", {"line_amp": -1.0}), ("pink_scale", {"pink_scale": float("nan")}),
           ("f_min", {"f_min": 30.0}), ("n_ch", {"n_ch": 0}), ("seed", {"seed": 1.0}),
           ("backend", {"backend": "theano"})]
    for field, kwargs in bad:
        with pytest.raises(ValueError, match=f"^{field}"):
            EEGSynthSettings(**kwargs)


def test_collection_fails_while_the_graph_is_built_for_an_unavailable_device():
    with pytest.raises(ValueError, match="^device: 'cuda:7'.*available: cpu"):
        EEGSynth(EEGSynthSettings(device="cuda:7")).configure()


# ------------------------------------------------------------------------ ez.run graph
class RecorderSettings(ez.Settings):
    n_samples: int
    path: str


class RecorderState(ez.State):
    blocks: list
    sizes: list


class Recorder(ez.Unit):
    """Keeps every block on the host; writes them and stops the run after ``n_samples``."""

    SETTINGS = RecorderSettings
    STATE = RecorderState

    INPUT_SIGNAL = ez.InputStream(AxisArray)

    async def initialize(self) -> None:
        self.STATE.blocks, self.STATE.sizes = [], []

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        self.STATE.blocks.append(_backend.to_host(msg.data))
        self.STATE.sizes.append(msg.data.shape[0])
        if sum(self.STATE.sizes) >= self.SETTINGS.n_samples:
            np.savez(self.SETTINGS.path, data=np.concatenate(self.STATE.blocks),
                     sizes=np.array(self.STATE.sizes), dims=np.array(msg.dims),
                     backend=_backend.backend_name(msg.data),
                     dtype=_backend.dtype_name(msg.data.dtype))
            raise ez.NormalTermination


class WatchdogSettings(ez.Settings):
    seconds: float


class Watchdog(ez.Unit):
    """Ends a run that did not end by itself (the test then fails: no record)."""

    SETTINGS = WatchdogSettings

    @ez.task
    async def expire(self) -> None:
        await asyncio.sleep(self.SETTINGS.seconds)
        raise ez.NormalTermination


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_collection_runs_in_a_graph_and_matches_the_producer(tmp_path: Path):
    """Clock at 200 Hz, fs 500 Hz: blocks of 2 or 3 samples through 5 Add Units. The graph's
    output equals the offline producer's for the same ticks."""
    settings = EEGSynthSettings(fs=FS, n_ch=4, dispatch_rate=200.0, seed=7)
    path = tmp_path / "eeg.npz"
    eeg = EEGSynth(settings)
    sink = Recorder(RecorderSettings(n_samples=300, path=str(path)))
    ez.run(
        components={"EEG": eeg, "SINK": sink, "WATCHDOG": Watchdog(WatchdogSettings(30.0))},
        connections=((eeg.OUTPUT_SIGNAL, sink.INPUT_SIGNAL),),
        root_name=f"test_eeg_{uuid.uuid4().hex[:8]}",
        graph_address=("127.0.0.1", free_port()),
        auto_start=True,
    )
    assert path.exists(), "the recorder never got 300 samples (the watchdog ended the run)"
    rec = np.load(path)
    assert list(rec["dims"]) == ["time", "ch"]
    assert str(rec["backend"]) == "numpy" and str(rec["dtype"]) == "float32"
    assert set(rec["sizes"]) <= {2, 3}
    x = rec["data"]
    ref = take(EEGSynthProducer(settings), x.shape[0], gain=1 / 200.0)
    np.testing.assert_allclose(x, ref, rtol=1e-6, atol=1e-5)
