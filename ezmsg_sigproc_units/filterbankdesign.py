"""A bank of Kaiser-window FIR filters, designed from band specifications at the stream's
sampling rate and applied by :mod:`~ezmsg_sigproc_units.filterbank`.

Each :class:`~ezmsg_sigproc_units.kaiser.KaiserFilterSettings` in ``filters`` becomes one
kernel (``kaiser_design_fun`` at the stream's rate; a passthrough filter, one without cutoff,
ripple or width, becomes the one-tap kernel ``[1.0]``). The output is the filterbank's:
``(time, ch)`` -> ``(ch, new_axis, time)``, ``lfilter`` of each kernel from rest, any
chunking giving the same numbers, on the data's own backend and device.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._messages import axis_index
from ._processors import StreamAxisMixin
from ._validate import check_member
from .filterbank import FilterbankMode, FilterbankSettings, FilterbankTransformer, MinPhaseMode
from .kaiser import KaiserFilterSettings, kaiser_design_fun


class FilterbankDesignSettings(ez.Settings):
    filters: typing.Iterable[KaiserFilterSettings]
    """One :class:`KaiserFilterSettings` per kernel (its ``axis`` is not used: the bank
    filters along this stage's axis). Required; at least one."""

    mode: FilterbankMode = FilterbankMode.CONV
    """CONV (direct), FFT (overlap-save) or AUTO: how the filterbank applies the kernels
    (same numbers, no latency in any mode). Default CONV."""

    min_phase: MinPhaseMode = MinPhaseMode.NONE
    """Convert each kernel to minimum phase first (HILBERT or HOMOMORPHIC), or NONE
    (default)."""

    axis: str | None = None
    """Dim to filter along. None (default): the message's ``stream_dim``, else ``"time"``."""

    new_axis: str = "kernel"
    """Name of the output dim indexing the kernels. Default ``"kernel"``."""

    def __post_init__(self) -> None:
        filters = tuple(self.filters) if self.filters is not None else ()
        if not filters:
            raise ValueError("filters: at least one KaiserFilterSettings is required")
        for i, f in enumerate(filters):
            if not isinstance(f, KaiserFilterSettings):
                raise ValueError(f"filters: entry {i} is {type(f).__name__}, expected "
                                 f"KaiserFilterSettings")
        object.__setattr__(self, "filters", filters)
        object.__setattr__(self, "mode", check_member(FilterbankMode, "mode", self.mode))
        object.__setattr__(self, "min_phase",
                           check_member(MinPhaseMode, "min_phase", self.min_phase))
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if not isinstance(self.new_axis, str) or not self.new_axis:
            raise ValueError(f"new_axis: must be a non-empty dim name, got {self.new_axis!r}")


def design_kernels(filters: typing.Iterable[KaiserFilterSettings], fs: float
                   ) -> list[np.ndarray]:
    """Host float64 taps of each filter at sampling rate ``fs`` (``[1.0]`` for a
    passthrough)."""
    out = []
    for f in filters:
        ba = kaiser_design_fun(fs, cutoff=f.cutoff, ripple=f.ripple, width=f.width,
                               pass_zero=f.pass_zero, wn_hz=f.wn_hz)
        out.append(np.array([1.0]) if ba is None else np.asarray(ba[0], dtype=np.float64))
    return out


class _Filterbank(FilterbankTransformer):
    """A filterbank that pickles inside this stage's state: the reset rule's cached witness
    (a closure) is dropped and rebuilt from the next message."""

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_hash_witness", None)
        return state


@processor_state
class FilterbankDesignState:
    axis: str = ""
    """Name of the dim being filtered."""

    filterbank: FilterbankTransformer | None = None
    """The filterbank of the kernels designed at the stream's sampling rate."""

    needs_redesign: bool = False
    """Kept for compatibility: a settings update redesigns at the next message."""


class FilterbankDesignTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[FilterbankDesignSettings, AxisArray, AxisArray,
                            FilterbankDesignState],
):
    """Design the Kaiser kernels at the stream's sampling rate (when the state resets: a new
    rate, layout, backend, device or dtype) and run them as one filterbank."""

    def update_settings(self, new_settings: FilterbankDesignSettings | None = None,
                        **kwargs: Any) -> None:
        """New settings (an object, or field values as keywords): the kernels are redesigned
        and the bank restarts from rest at the next message."""
        self.settings = dataclasses.replace(new_settings or self.settings, **kwargs)
        self._request_reset()

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        st.axis = self._axis(message)
        axis_index(message, st.axis)
        gain = getattr(message.axes.get(st.axis), "gain", None)
        if gain is None:
            raise ValueError(f"axis: {st.axis!r} needs a LinearAxis (a sampling rate) to "
                             f"design the filters")
        kernels = design_kernels(s.filters, 1.0 / gain)
        st.filterbank = _Filterbank(FilterbankSettings(
            kernels=kernels, mode=s.mode, min_phase=s.min_phase, axis=st.axis,
            new_axis=s.new_axis))
        st.needs_redesign = False

    def _process(self, message: AxisArray) -> AxisArray:
        return self._state.filterbank(message)
