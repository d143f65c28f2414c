"""A ramp driven by a clock: the sample index, optionally modulo ``mod``, as floats on the
chosen backend and device.

``ezmsg.baseproc`` has its own ``Counter`` (NumPy integers, 1-D); this one produces
``(time, ch)`` float blocks in the chosen namespace, device and dtype, like every other
source here. Per block the device adds the host start value (a Python number) to a cached
table of ``arange(n)`` (``% mod``), wrapping with one comparison, so no samples are copied
from the host. Values are exact integers while they stay below 2**24 in float32 (2**53 in
float64); with ``mod`` every intermediate stays below ``mod``, so any ``mod <= 2**24`` is
exact in float32 after any running time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ezmsg.baseproc import (
    BaseClockDrivenProducer,
    BaseClockDrivenUnit,
    ClockDrivenState,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray

from .. import _backend
from .._validate import check_count
from ._source import SourceMixin, SourceSettings, block, channel_axis, check_source_settings

_MAX_TABLES = 8


class CounterSettings(SourceSettings):
    mod: int | None = None
    """If set, the count wraps to 0 at this value (an int >= 1). Default None."""

    n_ch: int = 1
    """Number of identical channels. Default 1."""

    def __post_init__(self) -> None:
        check_source_settings(self)
        if self.mod is not None:
            check_count("mod", self.mod)
        check_count("n_ch", self.n_ch)


@processor_state
class CounterState(ClockDrivenState):
    """Only the sample counter of the base class."""


class CounterProducer(SourceMixin, BaseClockDrivenProducer[CounterSettings, CounterState]):
    """Each clock tick gives a ``(time, ch)`` block of the sample index ``k`` (``k % mod``
    with ``mod``), counted from 0 at the first sample after a reset. ``mod`` can change
    live: the count continues and wraps at the new value."""

    NONRESET_SETTINGS_FIELDS = frozenset({"mod"})
    _CACHES = ("_tables",)

    def _prepare(self) -> None:
        super()._prepare()
        self._ch = channel_axis(self.settings.n_ch)
        self._tables = {}

    def _table(self, n: int, mod: int | None) -> Any:
        """``arange(n)`` (``% mod`` with a mod) as an ``(n, n_ch)`` device table, built once
        per ``(n, mod)`` on the host (exact integers) and moved once."""
        table = self._tables.get((n, mod))
        if table is None:
            xp, device, dtype = self._target
            col = np.arange(n, dtype=np.int64)
            if mod is not None:
                col = col % mod
            host = np.repeat(col[:, None], self.settings.n_ch, axis=1).astype(np.float64)
            table = _backend.asarray(xp, host, dtype=dtype, device=device)
            if len(self._tables) >= _MAX_TABLES:
                self._tables.pop(next(iter(self._tables)))
            self._tables[(n, mod)] = table
        return table

    def _produce(self, n_samples: int, time_axis: AxisArray.LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        xp, _, dtype = self._target
        k, mod = self._state.counter, self.settings.mod
        table = self._table(n_samples, mod)
        if mod is None:
            data = table + float(k)
        else:  # (j % mod + k % mod) % mod with every intermediate in (-mod, mod): exact
            r = k % mod
            wrap = xp.astype(table >= float(mod - r), dtype)
            data = (table - wrap * float(mod)) + float(r)
        return block(data, time_axis, self._ch, "counter")


class Counter(BaseClockDrivenUnit[CounterSettings, CounterProducer]):
    """Clock ticks in (``INPUT_CLOCK``), ramp blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = CounterSettings
