"""A decoder that learns while it runs: shrinkage LDA trained online from cued trials.

    EEGSynth -> CueInjector -> BandPower -> Log -> Sampler (epochs at the cues) -> SLDA (train)
                     |                         \\-----------------------------> SLDA (decode)
                     \\-- cues (triggers) -> Sampler, AccuracySink <-- predictions --/

    python -m examples.online_lda --seconds 60 [--backend numpy|torch|jax|mlx] [--device D]
    ezmsg-sigproc-units run online_lda --seconds 60 --set realtime=false

Every ``trial_period`` seconds CueInjector picks a class at random ("left" or "right") and,
for ``cue_dur`` seconds, adds a 24 Hz rhythm to that class's half of the channels (a
class-dependent beta band-power change, as in a motor-imagery BCI; a frequency the
background's own rhythms do not have, so the cue adds power instead of beating with them). It
also publishes the cue as a trigger whose period covers the band-power windows that lie inside
the cue. The Sampler cuts those windows of log band power out of the stream, and each epoch
trains the shrinkage LDA (``learn.process.slda``); every band-power window is also decoded.
AccuracySink scores the predictions of windows inside a cue against that cue's class, before
the decoder has trained on that trial, and prints the running accuracy. Everything stays on
the chosen backend.
"""

from __future__ import annotations

import json
import math
import sys
from collections import deque
from pathlib import Path

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units._messages import replace_data
from ezmsg_sigproc_units.bandpower import BandPower, BandPowerSettings
from ezmsg_sigproc_units.learn.process.slda import SLDA, SLDASettings
from ezmsg_sigproc_units.math.log import Log, LogSettings
from ezmsg_sigproc_units.sampler import Sampler, SamplerSettings
from ezmsg_sigproc_units.spectrogram import SpectrogramSettings
from ezmsg_sigproc_units.synth import EEGSynth, EEGSynthSettings
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

from .common import ExampleSettings, StatsSink, StatsSinkState, example_main, sink_settings

FS = 250.0
BLOCK = 25  # samples per block: 0.1 s
WINDOW_DUR, WINDOW_SHIFT = 0.5, 0.1
BANDS = [(8.0, 12.0), (18.0, 30.0)]
CLASSES = ("left", "right")


class CueInjectorSettings(ez.Settings):
    trial_period: float = 2.0
    """Seconds from one cue to the next. Default 2.0."""
    cue_dur: float = 1.2
    """Seconds a cue lasts (its rhythm is on). Default 1.2."""
    amplitude: float = 8.0
    """Amplitude of the cue's rhythm (the background's beta is 4, its alpha 10). Default 8.0."""
    freq: float = 24.0
    """Frequency of the cue's rhythm, in Hz (inside the beta band, 18-30 Hz). Default 24.0."""
    seed: int = 0
    """Seed of the random class sequence. Default 0."""
    values: tuple | None = None
    """The trigger value of each class, in ``CLASSES`` order (e.g. ``(0, 1)`` for a decoder
    that wants class indices). None (default): the class names."""


class CueInjectorState(ez.State):
    rng: np.random.Generator | None = None
    next_cue: int = 1
    """Index of the next cue (cue k starts at k * trial_period; none at 0)."""
    cues: dict = None  # type: ignore[assignment]
    """Cue index -> class, for the cues that may still touch a block."""


class CueInjector(ez.Unit):
    """Adds the cued rhythm to the EEG (``INPUT_SIGNAL`` -> ``OUTPUT_SIGNAL``) and publishes
    each cue on ``OUTPUT_TRIGGER`` when its first sample goes out."""

    SETTINGS = CueInjectorSettings
    STATE = CueInjectorState

    INPUT_SIGNAL = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)
    OUTPUT_TRIGGER = ez.OutputStream(SampleTriggerMessage)

    async def initialize(self) -> None:
        self.STATE.rng = np.random.default_rng(self.SETTINGS.seed)
        self.STATE.cues = {}

    def _cue_class(self, k: int) -> str:
        st = self.STATE
        while st.next_cue <= k:
            st.cues[st.next_cue] = CLASSES[int(st.rng.integers(len(CLASSES)))]
            st.next_cue += 1
        return st.cues[k]

    @ez.subscriber(INPUT_SIGNAL)
    @ez.publisher(OUTPUT_SIGNAL)
    @ez.publisher(OUTPUT_TRIGGER)
    async def on_signal(self, msg: AxisArray):
        s = self.SETTINGS
        tax = msg.axes["time"]
        n, n_ch = msg.data.shape[msg.dims.index("time")], msg.data.shape[msg.dims.index("ch")]
        t = tax.offset + tax.gain * np.arange(n)  # host times: metadata, not data
        extra = np.zeros((n, n_ch))
        half = n_ch // 2
        new_cues = []
        k_first = max(1, math.floor((t[0] - s.cue_dur) / s.trial_period)) if n else 1
        k_last = math.floor(t[-1] / s.trial_period) if n else 0
        self.STATE.next_cue = max(self.STATE.next_cue, k_first)  # streams need not start at 0
        for k in range(k_first, k_last + 1):
            start = k * s.trial_period
            inside = (t >= start) & (t < start + s.cue_dur)
            if not inside.any():
                continue
            label = self._cue_class(k)
            chans = slice(0, half) if label == CLASSES[0] else slice(half, n_ch)
            extra[inside, chans] += s.amplitude * np.sin(2 * np.pi * s.freq * t[inside])[:, None]
            if t[0] <= start <= t[-1]:
                new_cues.append((start, label))
        for k in [k for k in self.STATE.cues if k < k_first]:
            del self.STATE.cues[k]
        # the cue's rhythm goes to the data's device once per block; the data never leaves it
        xp, device = _backend.namespace_and_device(msg.data)
        if msg.dims.index("time") != 0:
            raise ValueError(f"CueInjector expects dims (time, ch), got {msg.dims}")
        add = _backend.from_host(extra, xp, device, msg.data.dtype)
        yield self.OUTPUT_SIGNAL, replace_data(msg, msg.data + add)
        for start, label in new_cues:
            value = label if s.values is None else s.values[CLASSES.index(label)]
            # epochs: the band-power windows that lie wholly inside the cue
            yield self.OUTPUT_TRIGGER, SampleTriggerMessage(
                timestamp=start, period=(0.0, s.cue_dur - WINDOW_DUR + 1e-6), value=value)


class AccuracySinkState(StatsSinkState):
    cues: deque = None  # type: ignore[assignment]
    scored: int = 0
    correct: int = 0
    recent: deque = None  # type: ignore[assignment]
    predictions: int = 0


class AccuracySink(StatsSink):
    """Ends the run after ``seconds`` of band power (``INPUT_SIGNAL``); scores the decoder's
    predictions (``INPUT_PREDICTION``) of windows inside a cue (``INPUT_TRIGGER``)."""

    STATE = AccuracySinkState

    INPUT_PREDICTION = ez.InputStream(AxisArray)
    INPUT_TRIGGER = ez.InputStream(SampleTriggerMessage)

    async def initialize(self) -> None:
        self.STATE.cues = deque(maxlen=64)
        self.STATE.recent = deque(maxlen=50)

    @ez.subscriber(INPUT_TRIGGER)
    async def on_trigger(self, trig: SampleTriggerMessage) -> None:
        self.STATE.cues.append((trig.timestamp, trig.timestamp + trig.period[1], trig.value))

    @ez.subscriber(INPUT_PREDICTION)
    async def on_prediction(self, msg: AxisArray) -> None:
        st = self.STATE
        n = msg.data.shape[0]
        if n == 0:
            return
        labels = list(msg.labels) if getattr(msg, "labels", None) else list(CLASSES)
        best = _backend.to_host(_backend.array_namespace(msg.data).argmax(msg.data, axis=1))
        tax = msg.axes[msg.dims[0]]
        for i in range(n):
            st.predictions += 1
            t = tax.value(i) if hasattr(tax, "value") else tax.offset + i * tax.gain
            for start, stop, label in st.cues:
                if start - 1e-9 <= t <= stop:
                    hit = labels[int(best[i])] == label
                    st.scored += 1
                    st.correct += hit
                    st.recent.append(hit)

    def summary_line(self, now: float) -> str:
        st = self.STATE
        if not st.scored:
            return (f"{self.progress_line(now)}\n  decoder: {st.predictions} predictions, "
                    f"none scored yet")
        recent = sum(st.recent) / len(st.recent)
        return (f"{self.progress_line(now)}\n  decoder: accuracy {st.correct / st.scored:6.1%} "
                f"of {st.scored} cued windows, last {len(st.recent)}: {recent:6.1%}")

    def _write_record(self) -> None:
        super()._write_record()
        if self.SETTINGS.record is None:
            return
        st = self.STATE
        path = Path(self.SETTINGS.record)
        rec = json.loads(path.read_text())
        rec.update(predictions=st.predictions, scored=st.scored, correct=st.correct,
                   recent_accuracy=(sum(st.recent) / len(st.recent)) if st.recent else None)
        path.write_text(json.dumps(rec))


class CuedEEGSettings(ExampleSettings):
    """The settings of the cued band-power front end (``online_lda``, ``online_rnn``)."""

    seconds: float = 60.0
    """Signal seconds to run. Default 60.0."""
    n_ch: int = 4
    """EEG channels (the first half carries the first class's cues, the second the other's).
    Default 4."""
    seed: int = 1
    """Seed of the EEG and of the cue sequence. Default 1."""
    realtime: bool = True
    """True: the EEG comes at its sampling rate. False: as fast as the graph takes it (tests).
    Default True."""


def configure_cued_band_power(system: ez.Collection, s: CuedEEGSettings,
                              values: tuple | None = None) -> None:
    """Settings of ``system``'s EEG, CUES, BANDS and LOG Units (the cued band-power front)."""
    system.EEG.apply_settings(EEGSynthSettings(
        fs=FS, n_ch=s.n_ch, n_time=BLOCK, dispatch_rate=FS / BLOCK if s.realtime else None,
        seed=s.seed, backend=s.backend, device=s.device))
    system.CUES.apply_settings(CueInjectorSettings(seed=s.seed, values=values))
    system.BANDS.apply_settings(BandPowerSettings(
        spectrogram_settings=SpectrogramSettings(window_dur=WINDOW_DUR,
                                                 window_shift=WINDOW_SHIFT,
                                                 transform="REL_POWER"),
        bands=BANDS))
    system.LOG.apply_settings(LogSettings(base=10.0, clip_zero=True))


def cued_band_power_edges(system: ez.Collection) -> tuple:
    """EEG -> CUES -> BANDS -> LOG."""
    return ((system.EEG.OUTPUT_SIGNAL, system.CUES.INPUT_SIGNAL),
            (system.CUES.OUTPUT_SIGNAL, system.BANDS.INPUT_SIGNAL),
            (system.BANDS.OUTPUT_SIGNAL, system.LOG.INPUT_SIGNAL))


class OnlineLDASystemSettings(CuedEEGSettings):
    """The cued band-power front end's settings (nothing more)."""


class OnlineLDASystem(ez.Collection):
    SETTINGS = OnlineLDASystemSettings

    EEG = EEGSynth()
    CUES = CueInjector()
    BANDS = BandPower()
    LOG = Log()
    SAMPLER = Sampler()
    DECODER = SLDA()
    SINK = AccuracySink()

    def configure(self) -> None:
        s = self.SETTINGS
        configure_cued_band_power(self, s)
        self.SAMPLER.apply_settings(SamplerSettings(buffer_dur=5.0))
        self.DECODER.apply_settings(SLDASettings())
        self.SINK.apply_settings(sink_settings(s))

    def network(self) -> ez.NetworkDefinition:
        return (
            *cued_band_power_edges(self),
            (self.LOG.OUTPUT_SIGNAL, self.SAMPLER.INPUT_SIGNAL),
            (self.LOG.OUTPUT_SIGNAL, self.DECODER.INPUT_SIGNAL),
            (self.LOG.OUTPUT_SIGNAL, self.SINK.INPUT_SIGNAL),
            (self.CUES.OUTPUT_TRIGGER, self.SAMPLER.INPUT_TRIGGER),
            (self.CUES.OUTPUT_TRIGGER, self.SINK.INPUT_TRIGGER),
            (self.SAMPLER.OUTPUT_SIGNAL, self.DECODER.INPUT_SAMPLE),
            (self.DECODER.OUTPUT_SIGNAL, self.SINK.INPUT_PREDICTION),
        )


SETTINGS = OnlineLDASystemSettings
SYSTEM = OnlineLDASystem


def main(argv: list[str] | None = None) -> int:
    return example_main(SYSTEM, SETTINGS, "online_lda", argv)


if __name__ == "__main__":
    sys.exit(main())
