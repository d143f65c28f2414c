"""Short-time spectra of a stream: sliding windows, then a spectrum of each window.

Output dims: the input's with the time axis replaced by the frequency axis and the window
axis renamed back to ``time``, e.g. ``(time, ch)`` -> ``(time, freq, ch)``. The output time
axis stamps each window (by ``window_anchor``) and advances by ``window_shift``. The stream is
zero-padded at its start by ``window_dur - window_shift`` so the first window ends at the
first hop: window ``k`` ends at sample ``(k + 1) * hop`` of the input.
"""

from __future__ import annotations

import ezmsg.core as ez
from ezmsg.baseproc import CompositeProcessor
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import materialize
from ._messages import replace_fields
from ._processors import IdleOutput, StatelessTransformer
from ._units import WindowedUnit
from .spectrum import (
    SpectralOutput,
    SpectralTransform,
    SpectrumSettings,
    SpectrumTransformer,
    WindowFunction,
)
from .window import Anchor, WindowSettings, WindowTransformer


class SpectrogramSettings(ez.Settings):
    window_dur: float | None = None
    """Window length in seconds. Default None (one spectrum per message)."""

    window_shift: float | None = None
    """Hop between windows in seconds. Default None (one window per message)."""

    window_anchor: str | Anchor = Anchor.BEGINNING
    """Which point of a window its time stamp refers to. Default BEGINNING."""

    window: WindowFunction = WindowFunction.HAMMING
    """Taper applied to each window. Default HAMMING."""

    transform: SpectralTransform = SpectralTransform.REL_DB
    """What each spectrum outputs (see ``SpectrumSettings.transform``). Default REL_DB."""

    output: SpectralOutput = SpectralOutput.POSITIVE
    """Which frequencies are kept. Default POSITIVE."""


class RenameDimSettings(ez.Settings):
    old: str = "win"
    """Dim to rename. Default "win"."""

    new: str = "time"
    """Its new name (its axis and ``stream_dim`` follow). Default "time"."""


class RenameDimTransformer(StatelessTransformer[RenameDimSettings, AxisArray, AxisArray]):
    """Rename one dim (and its axis entry); data untouched. Absent dims pass through."""

    def _process(self, message: AxisArray) -> AxisArray:
        old, new = self.settings.old, self.settings.new
        if old not in message.dims:
            return message
        dims = [new if d == old else d for d in message.dims]
        axes = {(new if k == old else k): v for k, v in message.axes.items() if k != new}
        stream_dim = new if message.stream_dim == old else message.stream_dim
        return replace_fields(message, dims=dims, axes=axes, stream_dim=stream_dim)


class SpectrogramTransformer(CompositeProcessor[SpectrogramSettings, AxisArray, AxisArray]):
    """Window -> spectrum (over the in-window time axis) -> rename the window axis to time.

    A message that completes no window skips the spectrum and rename stages: its (empty)
    output is the previous empty output relabelled with the new window axis (``IdleOutput``),
    which makes the nine in ten chunks of a typical stream cost little more than the window
    stage itself."""

    _idle: IdleOutput | None = None

    def _process(self, message: AxisArray) -> AxisArray | None:
        procs = self._procs
        windowing = procs["windowing"]
        wins = windowing(message)
        plan = windowing.plan
        if self._idle is None:
            self._idle = IdleOutput("time", "win")
        empty = plan is not None and wins.data.shape[plan.ix] == 0
        if empty:
            out = self._idle.get(plan, wins)
            if out is not None:
                return out
        result = self._post_process(procs["modify_axis"](procs["spectrum"](wins)))
        if empty:
            self._idle.put(plan, result)
        return result

    async def _aprocess(self, message: AxisArray) -> AxisArray | None:
        return self._process(message)  # every stage is synchronous

    @property
    def window_plan(self) -> object:
        """An object whose identity changes whenever the window stage's layout or state
        does (used to key cached empty outputs downstream)."""
        return self._procs["windowing"].plan

    def update_settings(self, new_settings: SpectrogramSettings) -> None:
        self._idle = None
        super().update_settings(new_settings)

    @staticmethod
    def _initialize_processors(settings: SpectrogramSettings) -> dict:
        return {
            "windowing": WindowTransformer(WindowSettings(
                axis="time", newaxis="win", window_dur=settings.window_dur,
                window_shift=settings.window_shift, zero_pad_until="shift",
                anchor=settings.window_anchor)),
            "spectrum": SpectrumTransformer(SpectrumSettings(
                axis="time", window=settings.window, transform=settings.transform,
                output=settings.output)),
            "modify_axis": RenameDimTransformer(RenameDimSettings(old="win", new="time")),
        }

    def _post_process(self, result: AxisArray | None) -> AxisArray | None:
        if result is not None:
            materialize(result.data)
        return result


class Spectrogram(
    WindowedUnit[SpectrogramSettings, AxisArray, AxisArray, SpectrogramTransformer]
):
    SETTINGS = SpectrogramSettings


def spectrogram(
    window_dur: float | None = None,
    window_shift: float | None = None,
    window_anchor: str | Anchor = Anchor.BEGINNING,
    window: WindowFunction = WindowFunction.HAMMING,
    transform: SpectralTransform = SpectralTransform.REL_DB,
    output: SpectralOutput = SpectralOutput.POSITIVE,
) -> SpectrogramTransformer:
    """A ``SpectrogramTransformer`` with these settings."""
    return SpectrogramTransformer(SpectrogramSettings(
        window_dur=window_dur, window_shift=window_shift, window_anchor=window_anchor,
        window=window, transform=transform, output=output))
