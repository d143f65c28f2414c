"""Clock-driven sources (oscillators, noise) that generate directly on a chosen backend/device.

Connect a ``ezmsg.baseproc.Clock`` to a source's ``INPUT_CLOCK``; each tick gives one block.
"""

from .noise import WhiteNoise, WhiteNoiseProducer, WhiteNoiseSettings, WhiteNoiseState
from .oscillator import Oscillator, OscillatorProducer, OscillatorSettings, OscillatorState

__all__ = [
    "Oscillator",
    "OscillatorProducer",
    "OscillatorSettings",
    "OscillatorState",
    "WhiteNoise",
    "WhiteNoiseProducer",
    "WhiteNoiseSettings",
    "WhiteNoiseState",
]
