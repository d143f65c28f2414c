"""Clock-driven sources that generate directly on a chosen backend/device: oscillators
(sine, square, sawtooth, triangle), chirps, counters, white and pink noise, spike trains, and
the synthetic-EEG Collection built from them.

Connect a ``ezmsg.baseproc.Clock`` to a source's ``INPUT_CLOCK``; each tick gives one block.
See ``docs/producers.md``.
"""

from .chirp import Chirp, ChirpProducer, ChirpSettings, ChirpState
from .counter import Counter, CounterProducer, CounterSettings, CounterState
from .eeg import EEGSynth, EEGSynthProducer, EEGSynthSettings, EEGSynthState
from .noise import (
    PinkNoise,
    PinkNoiseProducer,
    PinkNoiseSettings,
    PinkNoiseState,
    WhiteNoise,
    WhiteNoiseProducer,
    WhiteNoiseSettings,
    WhiteNoiseState,
)
from .oscillator import Oscillator, OscillatorProducer, OscillatorSettings, OscillatorState
from .spikes import SpikeTrain, SpikeTrainProducer, SpikeTrainSettings, SpikeTrainState

__all__ = [
    "Chirp",
    "ChirpProducer",
    "ChirpSettings",
    "ChirpState",
    "Counter",
    "CounterProducer",
    "CounterSettings",
    "CounterState",
    "EEGSynth",
    "EEGSynthProducer",
    "EEGSynthSettings",
    "EEGSynthState",
    "Oscillator",
    "OscillatorProducer",
    "OscillatorSettings",
    "OscillatorState",
    "PinkNoise",
    "PinkNoiseProducer",
    "PinkNoiseSettings",
    "PinkNoiseState",
    "SpikeTrain",
    "SpikeTrainProducer",
    "SpikeTrainSettings",
    "SpikeTrainState",
    "WhiteNoise",
    "WhiteNoiseProducer",
    "WhiteNoiseSettings",
    "WhiteNoiseState",
]
