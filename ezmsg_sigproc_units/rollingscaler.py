"""Rolling z-score normalisation against the statistics of the last ``k`` updates.

Each update (a ``partial_fit`` message, or with ``update_with_signal`` each processed
message) contributes one batch: the count, mean and squared deviations of its samples, per
channel. The statistics are those of the last ``k_samples`` batches pooled (all of them when
None), recomputed from the kept batches at every update, so they never drift. Outputs are
``clip((x - mean) / max(std, 1e-8))`` with the population std, non-finite results 0; until
the pooled count reaches ``min_samples`` a message goes out unchanged.

As the peer: ``k_samples`` counts updates (one per message), not samples; with
``window_size`` it is ``ceil(window_size * fs)`` updates. ``artifact_z_thresh`` leaves out of
an update the samples in which any channel's z-score (against the statistics before it)
exceeds the threshold; an update left with no sample is not counted.

Differences from the peer: the data may have any layout (statistics per entry of the non-
streaming dims; the peer assumes ``(time, ch)``); a non-finite sample is left out of the
statistics of its channel (the peer's statistics became NaN and its outputs 0 for good); the
statistics are kept in the data's float dtype on its device (the peer: float64 NumPy).
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseAdaptiveTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import compile_kernel, float_dtype_for, namespace_and_device, zeros
from ._kernels import axes as _axes
from ._kernels import scaling as _sc
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._units import AdaptiveUnit
from ._validate import check_count, check_real


class RollingScalerSettings(ez.Settings):
    axis: str | None = None
    """Dim the samples are arranged along. None (default): the message's ``stream_dim``, else
    ``"time"``."""

    k_samples: int | None = 20
    """Number of updates (batches) pooled; None: all of them. Default 20."""

    window_size: float | None = None
    """Seconds; if set, replaces ``k_samples`` by ``ceil(window_size / sample period)``
    (at least 1). Default None."""

    update_with_signal: bool = False
    """Whether each processed message also updates the statistics (after it is scaled).
    Default False (only ``partial_fit`` updates)."""

    min_samples: int = 1
    """Pooled samples needed before scaling (when ``window_size`` is None); capped at
    ``k_samples``. Default 1."""

    min_seconds: float = 1.0
    """Seconds of samples needed before scaling, when ``window_size`` is set. Default 1.0."""

    artifact_z_thresh: float | None = None
    """If set (> 0), samples with any channel's ``|z|`` above it are left out of updates.
    Default None."""

    clip: float | None = 10.0
    """If set (> 0), outputs are limited to ``[-clip, clip]``. Default 10.0."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if self.k_samples is not None:
            check_count("k_samples", self.k_samples)
        for name in ("window_size", "artifact_z_thresh", "clip"):
            v = getattr(self, name)
            if v is not None:
                check_real(name, v)
                if v <= 0:
                    raise ValueError(f"{name}: must be > 0 or None, got {v!r}")
        check_count("min_samples", self.min_samples, minimum=0)
        check_real("min_seconds", self.min_seconds, minimum=0.0)


@processor_state
class RollingScalerState:
    axis: str = ""
    """The resolved stream dim."""

    k_samples: int | None = None
    """Batches pooled (None: all)."""

    min_samples: int = 1
    """Pooled count needed before scaling."""

    ring: Any = None
    """``(k, 3 C)`` batch sums ``[n, sum x, sum x^2]`` of the shifted data (one row of
    running sums when unbounded), on the data's device in its float dtype."""

    stats: tuple | None = None
    """``(n, mean, std)`` ``(1, C)`` pooled from ``ring`` (mean of the shifted data)."""

    shift: Any = None
    """``(1, C)``: the stream's first sample (non-finite entries 0), subtracted before the
    sums; None before a sample."""


class RollingScalerProcessor(StreamAxisMixin, BaseAdaptiveTransformer[
        RollingScalerSettings, AxisArray, AxisArray, RollingScalerState]):
    """Rolling z-scores (see the module). ``partial_fit(message)`` adds a batch;
    ``update_with_signal``, ``artifact_z_thresh`` and ``clip`` are read live."""

    NONRESET_SETTINGS_FIELDS = frozenset({"update_with_signal", "artifact_z_thresh", "clip"})

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        st.axis = self._axis(message)
        ix = axis_index(message, st.axis)
        k, min_n = s.k_samples, s.min_samples
        if s.window_size is not None:
            ax = message.axes.get(st.axis)
            if not isinstance(ax, LinearAxis):
                raise ValueError(f"window_size: dim {st.axis!r} has no LinearAxis to read the "
                                 f"sample period from")
            k = max(1, math.ceil(s.window_size / ax.gain))
            min_n = math.ceil(s.min_seconds / ax.gain)
        if k is not None and min_n > k:
            min_n = k
        st.k_samples, st.min_samples = k, min_n
        x = message.data
        xp, dev = namespace_and_device(x)
        n_ch = math.prod(d for i, d in enumerate(x.shape) if i != ix)
        st.ring = zeros(xp, (k or 1, 3 * n_ch), dtype=float_dtype_for(xp, x.dtype, dev),
                        device=dev)
        st.stats = _sc.rolling_stats(xp, st.ring)
        st.shift = None

    def _time_major(self, message: AxisArray) -> tuple[Any, Any, tuple, int]:
        """``(xp, raw, inner, ix)``: the data as ``(T, C)`` in the compute dtype; sets the
        shift (the stream's first sample) at the first sample."""
        st = self._state
        ix = axis_index(message, st.axis)
        xp, _ = namespace_and_device(message.data)
        x, inner = _axes.to_time_major(xp, message.data, ix)
        dtype = st.ring.dtype
        raw = x if x.dtype == dtype else xp.astype(x, dtype)
        if st.shift is None and x.shape[0] and x.shape[1]:
            st.shift = xp.reshape(_sc.shift_of(xp, raw[0, ...]), (1, x.shape[1]))
        return xp, raw, inner, ix

    def _update(self, xp: Any, x: Any, z: Any, has: Any, gate: bool) -> None:
        """Add the batch ``x`` ``(T, C)`` (shifted); ``gate``: leave out its artifact samples
        (``z``, ``has`` from ``rolling_scores``)."""
        st, thresh = self._state, self.settings.artifact_z_thresh
        gated = gate and thresh is not None
        step = _sc.ROLLING_UPDATES[(st.k_samples is not None, gated)]
        st.ring, *stats = compile_kernel(xp, step)(x, z, has, st.ring,
                                                   thresh if gated else 0.0)
        st.stats = tuple(stats)

    def _ensure(self, message: AxisArray) -> None:
        h = self._hash_message(message)
        if h != self._hash:
            self._reset_state(message)
            self._hash = h

    def partial_fit(self, message: AxisArray) -> None:
        """Add the message's samples to the statistics as one batch (no gating)."""
        self._ensure(message)
        xp, raw, _, _ = self._time_major(message)
        if raw.shape[0] and raw.shape[1]:
            x = raw - self._state.shift
            self._update(xp, x, x, x, gate=False)

    def _process(self, message: AxisArray) -> AxisArray:
        st, s = self._state, self.settings
        xp, raw, inner, ix = self._time_major(message)
        if not (raw.shape[0] and raw.shape[1]):
            return message
        lim = math.inf if s.clip is None else float(s.clip)
        y, x, z, has = compile_kernel(xp, _sc.rolling_scores)(
            raw, st.shift, *st.stats, lim, float(st.min_samples))
        if s.update_with_signal:
            self._update(xp, x, z, has, gate=True)
        return replace_data(message, _axes.from_time_major(xp, y, inner, ix))


class RollingScalerUnit(AdaptiveUnit[
        RollingScalerSettings, AxisArray, AxisArray, RollingScalerProcessor]):
    """Unit of ``RollingScalerProcessor``: ``INPUT_SIGNAL`` is scaled; ``INPUT_SAMPLE``
    messages update the statistics (``partial_fit``)."""

    SETTINGS = RollingScalerSettings
