"""Clock-driven sources that generate directly on a chosen backend/device: oscillators
(sine, square, sawtooth, triangle), chirps, counters, white and pink noise, spike trains, and
the synthetic-EEG Collection built from them.

Connect a ``ezmsg.baseproc.Clock`` to a source's ``INPUT_CLOCK``; each tick gives one block.
See ``docs/producers.md``.

The names below load their module on first use (PEP 562): every ezmsg Unit class costs a few
milliseconds to define, so ``from ezmsg_sigproc_units.synth import Oscillator`` does not pay
for the other producers.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "chirp": ("Chirp",),
    "counter": ("Counter",),
    "eeg": ("EEGSynth",),
    "noise": ("PinkNoise", "WhiteNoise"),
    "oscillator": ("Oscillator",),
    "spikes": ("SpikeTrain",),
}
_SUFFIXES = ("", "Producer", "Settings", "State")
_WHERE = {base + suffix: module for module, bases in _MODULES.items() for base in bases
          for suffix in _SUFFIXES}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

