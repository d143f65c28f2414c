"""A recurrent decoder trained while it runs: a small GRU learns the cued class from band power.

    EEGSynth -> CueInjector -> BandPower -> Log -> Flatten -> Scaler -> RNN (decode)
                     |                                           \\-> Sampler -> RNN (train)
                     \\-- cues (class index 0/1) -> Sampler   RNN samples -> LossSink

    python -m examples.online_rnn --seconds 60 [--backend numpy|torch|jax|mlx] [--device D]
    ezmsg-sigproc-units run online_rnn --seconds 60 --set realtime=false

The cues are those of the ``online_lda`` example (a 24 Hz rhythm on one half of the channels
for 1.2 s every 2 s, the class at random). Band power (alpha and beta, every channel) is
flattened into one feature row per window and standardised (``AdaptiveStandardScaler``, 10 s
time constant: the RNN learns several times faster on standardised features); each cue's
windows are one training sample for the RNN (``learn.process.rnn``: a GRU with a 2-class head,
cross-entropy on the cue's class index, one AdamW step per sample). LossSink prints the
running cross-entropy of the decoder on each sample it has just trained on. torch computes;
the data arrives and leaves in the chosen backend (needs the torch extra).
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
from ezmsg_sigproc_units.bandpower import BandPower
from ezmsg_sigproc_units.flatten import Flatten, FlattenSettings
from ezmsg_sigproc_units.learn.process.rnn import RNNSettings, RNNUnit
from ezmsg_sigproc_units.math.log import Log
from ezmsg_sigproc_units.sampler import Sampler, SamplerSettings
from ezmsg_sigproc_units.scaler import AdaptiveStandardScaler, AdaptiveStandardScalerSettings
from ezmsg_sigproc_units.synth import EEGSynth

from .common import StatsSink, StatsSinkState, example_main, sink_settings
from .online_lda import (
    CuedEEGSettings,
    CueInjector,
    configure_cued_band_power,
    cued_band_power_edges,
)


def cross_entropy(logits, label: int) -> float:
    """Mean cross-entropy of ``logits`` ``(time, classes)`` (any backend) against one class
    index, computed on the host (two numbers per window: a status line, not a data path)."""
    z = _backend.to_host(logits)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[:, int(label)].mean())


class LossSinkState(StatsSinkState):
    losses: list = None  # type: ignore[assignment]
    recent: deque = None  # type: ignore[assignment]


class LossSink(StatsSink):
    """Ends the run after ``seconds`` of band power (``INPUT_SIGNAL``); reads the decoder's
    outputs on the samples it trained on (``INPUT_LOSS``) and keeps the running loss."""

    STATE = LossSinkState

    INPUT_LOSS = ez.InputStream(AxisArray)

    async def initialize(self) -> None:
        self.STATE.losses = []
        self.STATE.recent = deque(maxlen=5)

    @ez.subscriber(INPUT_LOSS)
    async def on_loss(self, msg: AxisArray) -> None:
        if msg.data.shape[0] == 0:
            return
        loss = cross_entropy(msg.data, msg.attrs["trigger"].value)
        self.STATE.losses.append(loss)
        self.STATE.recent.append(loss)

    def summary_line(self, now: float) -> str:
        st = self.STATE
        if not st.losses:
            return f"{self.progress_line(now)}\n  decoder: no training sample yet"
        recent = sum(st.recent) / len(st.recent)
        return (f"{self.progress_line(now)}\n  decoder: {len(st.losses)} samples trained, "
                f"cross-entropy {recent:.3f} (last {len(st.recent)}; chance {math.log(2):.3f})")

    def _write_record(self) -> None:
        super()._write_record()
        if self.SETTINGS.record is None:
            return
        path = Path(self.SETTINGS.record)
        rec = json.loads(path.read_text())
        rec.update(losses=list(self.STATE.losses))
        path.write_text(json.dumps(rec))


class OnlineRNNSystemSettings(CuedEEGSettings):
    hidden_size: int = 16
    """The GRU's hidden units. Default 16."""
    learning_rate: float = 0.03
    """AdamW's learning rate (no decay). Default 0.03."""


class OnlineRNNSystem(ez.Collection):
    SETTINGS = OnlineRNNSystemSettings

    EEG = EEGSynth()
    CUES = CueInjector()
    BANDS = BandPower()
    LOG = Log()
    FLAT = Flatten()
    SCALE = AdaptiveStandardScaler()
    SAMPLER = Sampler()
    DECODER = RNNUnit()
    SINK = LossSink()

    def configure(self) -> None:
        import torch

        s = self.SETTINGS
        configure_cued_band_power(self, s, values=(0, 1))
        self.FLAT.apply_settings(FlattenSettings())
        self.SCALE.apply_settings(AdaptiveStandardScalerSettings(time_constant=10.0))
        self.SAMPLER.apply_settings(SamplerSettings(buffer_dur=5.0))
        self.DECODER.apply_settings(RNNSettings(
            model_kwargs={"hidden_size": s.hidden_size, "output_size": 2, "dropout": 0.0},
            loss_fn=torch.nn.CrossEntropyLoss(), learning_rate=s.learning_rate,
            scheduler_gamma=0.0, device="cpu"))
        self.SINK.apply_settings(sink_settings(s))

    def network(self) -> ez.NetworkDefinition:
        return (
            *cued_band_power_edges(self),
            (self.LOG.OUTPUT_SIGNAL, self.FLAT.INPUT_SIGNAL),
            (self.FLAT.OUTPUT_SIGNAL, self.SCALE.INPUT_SIGNAL),
            (self.SCALE.OUTPUT_SIGNAL, self.SAMPLER.INPUT_SIGNAL),
            (self.SCALE.OUTPUT_SIGNAL, self.DECODER.INPUT_SIGNAL),
            (self.SCALE.OUTPUT_SIGNAL, self.SINK.INPUT_SIGNAL),
            (self.CUES.OUTPUT_TRIGGER, self.SAMPLER.INPUT_TRIGGER),
            (self.SAMPLER.OUTPUT_SIGNAL, self.DECODER.INPUT_SAMPLE),
            (self.DECODER.OUTPUT_SAMPLE, self.SINK.INPUT_LOSS),
        )


SETTINGS = OnlineRNNSystemSettings
SYSTEM = OnlineRNNSystem


def main(argv: list[str] | None = None) -> int:
    return example_main(SYSTEM, SETTINGS, "online_rnn", argv)


if __name__ == "__main__":
    sys.exit(main())
