"""Synthetic multi-channel EEG: pink background, alpha and beta rhythms in bursts, line noise.

``EEGSynth`` is an ezmsg Collection of the suite's own sources and ``math.add.Add`` Units::

    Clock -> PinkNoise ----------\\
          -> Oscillator (line) --- Add (BG) ----------------------\\
          -> Oscillator (alpha f - d/2) -\\                         Add (ALL) -> OUTPUT_SIGNAL
          -> Oscillator (alpha f + d/2) --- Add (ALPHA) -\\        /
          -> Oscillator (beta f - d/2) --\\               Add (RHYTHM)
          -> Oscillator (beta f + d/2) --- Add (BETA) ---/

Bursts come from beats: two sines of amplitude ``amp / 2`` at ``f - d/2`` and ``f + d/2`` sum
to ``amp cos(pi d t) sin(2 pi f t)``, a rhythm at ``f`` whose envelope waxes and wanes, a
burst every ``1 / d`` seconds. Each channel has its own ``d`` (alpha 0.4-0.8 Hz, beta
0.8-1.6 Hz, spread deterministically over the channels), so channels burst at different
times. Everything but the pink background is deterministic; ``seed`` makes that reproducible.

``EEGSynthProducer`` computes the same signal offline (no graph) from clock ticks: the same
child producers, summed in the same order, so for the same ticks it gives the same numbers as
the Collection. The output carries the pink-noise source's metadata (key "pink_noise").
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import (
    BaseClockDrivenProducer,
    Clock,
    ClockDrivenState,
    ClockSettings,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from .. import _backend
from .._messages import replace_data
from .._validate import check_count, check_real
from ..math.add import Add
from ._source import SourceMixin, SourceSettings, check_seed, check_source_settings
from .noise import PinkNoise, PinkNoiseProducer, PinkNoiseSettings
from .oscillator import Oscillator, OscillatorProducer, OscillatorSettings

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
ALPHA_BEAT = (0.4, 0.8)  # Hz: burst rates of the alpha rhythm over the channels
BETA_BEAT = (0.8, 1.6)


class EEGSynthSettings(SourceSettings):
    fs: float = 500.0
    """Sampling rate (Hz). Default 500.0."""

    n_ch: int = 8
    """Number of channels. Default 8."""

    dispatch_rate: float | None = 50.0
    """Clock ticks per second (the Collection's Clock); each tick gives ``fs /
    dispatch_rate`` samples (fractions carried) unless ``n_time`` is set. None: as fast as
    possible, which needs ``n_time``. Default 50.0."""

    seed: int | None = 0
    """Seed of the pink background. None draws a fresh one. Default 0."""

    pink_scale: float = 10.0
    """Standard deviation of the pink background (output units, e.g. uV), >= 0. Default 10."""

    f_min: float = 0.5
    """Lowest frequency of the background's 1/f band (Hz). Default 0.5."""

    alpha_freq: float = 10.0
    """Alpha rhythm frequency (Hz). Default 10.0."""

    alpha_amp: float = 10.0
    """Peak alpha amplitude at the top of a burst, >= 0. Default 10.0."""

    beta_freq: float = 20.0
    """Beta rhythm frequency (Hz). Default 20.0."""

    beta_amp: float = 4.0
    """Peak beta amplitude at the top of a burst, >= 0. Default 4.0."""

    line_freq: float = 50.0
    """Mains frequency (Hz): 50 or 60 (or any frequency below fs/2). Default 50.0."""

    line_amp: float = 2.0
    """Line-noise amplitude, >= 0. Default 2.0."""

    def __post_init__(self) -> None:
        check_source_settings(self)
        check_count("n_ch", self.n_ch)
        if self.dispatch_rate is None:
            if self.n_time is None:
                raise ValueError("n_time: dispatch_rate=None (a Clock as fast as possible) "
                                 "needs n_time, the samples per block")
        else:
            check_real("dispatch_rate", self.dispatch_rate)
            if self.dispatch_rate <= 0:
                raise ValueError(f"dispatch_rate: must be > 0 Hz or None, got "
                                 f"{self.dispatch_rate!r}")
        check_seed(self.seed)
        for name in ("pink_scale", "alpha_amp", "beta_amp", "line_amp"):
            check_real(name, getattr(self, name), minimum=0.0)
        check_real("f_min", self.f_min)
        if not 0.0 < self.f_min <= self.fs / 20.0:
            raise ValueError(f"f_min: must be in (0, fs/20] = (0, {self.fs / 20}] Hz, got "
                             f"{self.f_min!r}")
        for name, beat in (("alpha_freq", ALPHA_BEAT[1]), ("beta_freq", BETA_BEAT[1]),
                           ("line_freq", 0.0)):
            f = getattr(self, name)
            check_real(name, f)
            if not beat / 2 <= f < self.fs / 2 - beat / 2:
                raise ValueError(f"{name}: {f} Hz must lie in [{beat / 2}, "
                                 f"{self.fs / 2 - beat / 2}) Hz (below fs/2 with its bursts)")


def beats(n_ch: int, lo: float, hi: float) -> list[float]:
    """Per-channel beat frequencies in ``[lo, hi)``, spread by the golden ratio."""
    return [lo + (hi - lo) * ((c * _GOLDEN) % 1.0) for c in range(n_ch)]


def eeg_parts(s: EEGSynthSettings) -> dict[str, Any]:
    """Settings of each source of the synthesiser, by Collection member name."""
    where = dict(fs=s.fs, n_time=s.n_time, backend=s.backend, device=s.device, dtype=s.dtype)
    parts: dict[str, Any] = {
        "PINK": PinkNoiseSettings(scale=s.pink_scale, n_ch=s.n_ch, seed=s.seed,
                                  f_min=s.f_min, **where),
        "LINE": OscillatorSettings(freq=s.line_freq, amp=s.line_amp, n_ch=s.n_ch, **where),
    }
    for name, f, amp, (lo, hi) in (("ALPHA", s.alpha_freq, s.alpha_amp, ALPHA_BEAT),
                                   ("BETA", s.beta_freq, s.beta_amp, BETA_BEAT)):
        d = beats(s.n_ch, lo, hi)
        for side, sign in (("LO", -0.5), ("HI", 0.5)):
            parts[f"{name}_{side}"] = OscillatorSettings(
                freq=[f + sign * di for di in d], amp=amp / 2.0, **where)
    return parts


@processor_state
class EEGSynthState(ClockDrivenState):
    parts: dict | None = None
    """The child producers by name (each keeps its own counter and state)."""


class EEGSynthProducer(SourceMixin, BaseClockDrivenProducer[EEGSynthSettings, EEGSynthState]):
    """The ``EEGSynth`` signal from clock ticks, without a graph: ``(time, ch)`` blocks."""

    def _start(self) -> None:
        kinds = {"PINK": PinkNoiseProducer}
        self._state.parts = {name: kinds.get(name, OscillatorProducer)(ps)
                             for name, ps in eeg_parts(self.settings).items()}

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        raise NotImplementedError  # _process drives the children directly

    def _process(self, clock_tick: LinearAxis) -> AxisArray | None:
        outs = {name: p(clock_tick) for name, p in self._state.parts.items()}
        pink = outs["PINK"]
        if pink is None:  # every child got the same tick: all are None together
            return None
        d = {name: o.data for name, o in outs.items()}
        background = d["PINK"] + d["LINE"]
        rhythm = (d["ALPHA_LO"] + d["ALPHA_HI"]) + (d["BETA_LO"] + d["BETA_HI"])
        self._state.counter += pink.data.shape[0]
        return replace_data(pink, _backend.materialize(background + rhythm))


class EEGSynth(ez.Collection):
    """Clock-driven synthetic EEG on ``OUTPUT_SIGNAL`` (see the module docstring)."""

    SETTINGS = EEGSynthSettings

    OUTPUT_SIGNAL = ez.OutputTopic(AxisArray)

    CLOCK = Clock()
    PINK = PinkNoise()
    LINE = Oscillator()
    ALPHA_LO = Oscillator()
    ALPHA_HI = Oscillator()
    BETA_LO = Oscillator()
    BETA_HI = Oscillator()
    ADD_ALPHA = Add()
    ADD_BETA = Add()
    ADD_RHYTHM = Add()
    ADD_BG = Add()
    ADD_ALL = Add()

    def configure(self) -> None:
        s = self.SETTINGS
        # Fail while the graph is built, listing what is available, not inside a running Unit.
        _backend.resolve(s.backend, s.device)
        self.CLOCK.apply_settings(ClockSettings(dispatch_rate=s.dispatch_rate))
        for name, part in eeg_parts(s).items():
            getattr(self, name).apply_settings(part)

    def network(self) -> ez.NetworkDefinition:
        sources = ("PINK", "LINE", "ALPHA_LO", "ALPHA_HI", "BETA_LO", "BETA_HI")
        return (
            *((self.CLOCK.OUTPUT_SIGNAL, getattr(self, n).INPUT_CLOCK) for n in sources),
            (self.PINK.OUTPUT_SIGNAL, self.ADD_BG.INPUT_SIGNAL_A),
            (self.LINE.OUTPUT_SIGNAL, self.ADD_BG.INPUT_SIGNAL_B),
            (self.ALPHA_LO.OUTPUT_SIGNAL, self.ADD_ALPHA.INPUT_SIGNAL_A),
            (self.ALPHA_HI.OUTPUT_SIGNAL, self.ADD_ALPHA.INPUT_SIGNAL_B),
            (self.BETA_LO.OUTPUT_SIGNAL, self.ADD_BETA.INPUT_SIGNAL_A),
            (self.BETA_HI.OUTPUT_SIGNAL, self.ADD_BETA.INPUT_SIGNAL_B),
            (self.ADD_ALPHA.OUTPUT_SIGNAL, self.ADD_RHYTHM.INPUT_SIGNAL_A),
            (self.ADD_BETA.OUTPUT_SIGNAL, self.ADD_RHYTHM.INPUT_SIGNAL_B),
            (self.ADD_BG.OUTPUT_SIGNAL, self.ADD_ALL.INPUT_SIGNAL_A),
            (self.ADD_RHYTHM.OUTPUT_SIGNAL, self.ADD_ALL.INPUT_SIGNAL_B),
            (self.ADD_ALL.OUTPUT_SIGNAL, self.OUTPUT_SIGNAL),
        )
