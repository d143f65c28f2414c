"""Adaptive standard scaling: z-scores against exponentially weighted running moments.

Both transformers compute, per channel, the exponentially weighted mean and mean square of
the samples so far (the current one included), and output ``(x - mean) / std`` with
``std = sqrt(E[x^2] - E[x]^2)``, or 0 where that variance is not positive. The moments are
three first-order IIR sections over the whole chunk (``_kernels.scaling``): no loop over
samples, exact under any chunking, on every backend, in the input's float dtype.

* ``AdaptiveStandardScalerTransformer`` (the peer's NumPy scaler): moments start from zero
  and are bias-corrected (the first sample has the full weight), as the peer's two EWMAs.
* ``RiverAdaptiveStandardScalerTransformer``: river's ``AdaptiveStandardScaler`` with
  ``fading_factor = alpha`` (the averages start at the first sample), computed natively; the
  ``river`` package is not used.

Non-finite input: a NaN or infinite sample comes out as NaN and is left out of the
statistics (its weight is 0), so later samples are scaled as if it had not arrived. The
peer's scalers instead output 0.0 (or NaN) for the rest of the stream after one NaN.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import float_dtype_for, namespace_and_device
from ._kernels import axes as _axes
from ._kernels import ewma as _ewma
from ._kernels import scaling as _scaling
from ._kernels.ewma import tau_from_alpha as _tau_from_alpha  # noqa: F401 - the peer's name
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._scaling_common import PassthroughGate, stream_period
from ._units import TransformerUnit
from ._validate import check_real
from .ewma import EWMA_Deprecated as EWMA_Deprecated  # noqa: F401 - the peer re-exports
from .ewma import EWMASettings
from .ewma import ewma_step as ewma_step  # noqa: F401 - the peer re-exports


class _Moments:
    """The shared body: ``_start`` (state for a message), ``_scores`` (one chunk), on a
    ``_MomentState``."""

    def _start(self, message: AxisArray, time_constant: float, river_init: bool) -> None:
        axis = self._axis(message)  # type: ignore[attr-defined]
        _, gain, n_ch = stream_period(message, axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        st = self._state  # type: ignore[attr-defined]
        st.alpha = _ewma.alpha_from_tau(time_constant, gain)
        st.plan = _ewma.ewma_plan(xp, st.alpha, dtype=float_dtype_for(xp, x.dtype, dev),
                                  device=dev)
        st.river_init = river_init
        st.shift = None
        st.z = None if river_init else _ewma.zero_state(xp, st.plan, 3 * n_ch, like=x)

    def _scores(self, message: AxisArray, update: bool = True) -> AxisArray:
        st = self._state  # type: ignore[attr-defined]
        ix = axis_index(message, self._axis(message))  # type: ignore[attr-defined]
        xp, _ = namespace_and_device(message.data)
        x, inner = _axes.to_time_major(xp, message.data, ix)
        dtype = getattr(xp, st.plan.dtype)
        if x.dtype != dtype:
            x = xp.astype(x, dtype)
        if x.shape[0] == 0 or x.shape[1] == 0:
            return replace_data(message, _axes.from_time_major(xp, x, inner, ix))
        if st.shift is None:  # the stream's first sample (conditioning, see _kernels.scaling)
            st.shift = _scaling.shift_of(xp, x[0, ...])
        z = st.z
        if z is None:  # river: the first sample initialises the averages
            z = _scaling.first_sample_state(xp, st.plan, x[0, ...] - st.shift)
        y, z = _scaling.standard_scores(xp, st.plan, x, z, st.shift)
        if update:
            st.z = z
        return replace_data(message, _axes.from_time_major(xp, y, inner, ix))


@processor_state
class _MomentState:
    alpha: float = 0.0
    """Smoothing factor from the time constant and the axis' sample period."""

    plan: Any = None
    """The first-order section (``_kernels.iir.IIRPlan``) in the compute dtype."""

    z: Any = None
    """State of the ``3 C`` moment sums on the data's device; None before the first sample
    of a river scaler."""

    river_init: bool = False
    """Whether the averages start at the first sample (river) or from zero (bias-corrected)."""

    shift: Any = None
    """``(C,)``: the stream's first sample (non-finite entries 0), subtracted before the
    moments (scores do not depend on it; float32 cancels less). None before a sample."""


class RiverAdaptiveStandardScalerSettings(ez.Settings):
    time_constant: float = 1.0
    """Decay time constant ``tau`` in seconds (finite, > 0); river's ``fading_factor`` is
    ``1 - exp(-dt / tau)``. Default 1.0."""

    axis: str | None = None
    """Dim to scale along. None (default): the message's ``stream_dim``, else ``"time"``."""

    def __post_init__(self) -> None:
        _check_tau_axis(self)


def _check_tau_axis(s: Any) -> None:
    check_real("time_constant", s.time_constant)
    if s.time_constant <= 0:
        raise ValueError(f"time_constant: must be > 0 seconds, got {s.time_constant!r}")
    if s.axis is not None and (not isinstance(s.axis, str) or not s.axis):
        raise ValueError(f"axis: must be a dim name or None, got {s.axis!r}")


@processor_state
class RiverAdaptiveStandardScalerState(_MomentState):
    pass


class RiverAdaptiveStandardScalerTransformer(
    _Moments, StreamAxisMixin,
    BaseStatefulTransformer[RiverAdaptiveStandardScalerSettings, AxisArray, AxisArray,
                            RiverAdaptiveStandardScalerState]):
    """river's ``AdaptiveStandardScaler`` (learn, then transform, one sample at a time),
    vectorised over the chunk: the averages start at each channel's first sample, so the
    first output is 0."""

    def _reset_state(self, message: AxisArray) -> None:
        self._start(message, self.settings.time_constant, river_init=True)

    def _process(self, message: AxisArray) -> AxisArray:
        return self._scores(message)


class AdaptiveStandardScalerSettings(EWMASettings):
    """The EWMA's settings: ``time_constant`` (s), ``axis``, ``accumulate`` (False: scale
    with the current statistics without updating them), ``passthrough`` and
    ``reset_on_resume``."""


@processor_state
class AdaptiveStandardScalerState(_MomentState):
    pass


class AdaptiveStandardScalerTransformer(
    _Moments, StreamAxisMixin, PassthroughGate,
    BaseStatefulTransformer[AdaptiveStandardScalerSettings, AxisArray, AxisArray,
                            AdaptiveStandardScalerState]):
    """Bias-corrected exponentially weighted z-scores (the peer's vectorised scaler).
    ``accumulate``, ``passthrough`` and ``reset_on_resume`` are read live."""

    NONRESET_SETTINGS_FIELDS = frozenset(
        {"accumulate", "passthrough", "reset_on_resume", "mlx_metal_chunk_sizes"})

    @property
    def accumulate(self) -> bool:
        """Whether incoming samples update the statistics."""
        return self.settings.accumulate

    @accumulate.setter
    def accumulate(self, value: bool) -> None:
        self.settings = dataclasses.replace(self.settings, accumulate=bool(value))

    def _reset_state(self, message: AxisArray) -> None:
        self._start(message, self.settings.time_constant, river_init=False)

    def _process(self, message: AxisArray) -> AxisArray:
        return self._scores(message, update=self.settings.accumulate)


class AdaptiveStandardScaler(
    TransformerUnit[AdaptiveStandardScalerSettings, AxisArray, AxisArray,
                    AdaptiveStandardScalerTransformer]):
    SETTINGS = AdaptiveStandardScalerSettings

    INPUT_ACCUMULATE = ez.InputStream(bool)

    @ez.subscriber(INPUT_ACCUMULATE)
    async def on_accumulate(self, accumulate: bool) -> None:
        """A value that is not a bool is dropped with one WARNING line (docs/robustness.md)."""
        def step(proc: AdaptiveStandardScalerTransformer) -> None:
            if not isinstance(accumulate, (bool, np.bool_)):
                raise TypeError(f"accumulate: must be a bool, got {type(accumulate).__name__}")
            proc.accumulate = accumulate

        self._run_input(step, accumulate, axisarray=False)


def scaler(time_constant: float = 1.0, axis: str | None = None
           ) -> RiverAdaptiveStandardScalerTransformer:
    """A ``RiverAdaptiveStandardScalerTransformer`` (river's scaler, computed natively)."""
    return RiverAdaptiveStandardScalerTransformer(
        RiverAdaptiveStandardScalerSettings(time_constant=time_constant, axis=axis))


def scaler_np(time_constant: float = 1.0, axis: str | None = None
              ) -> AdaptiveStandardScalerTransformer:
    """An ``AdaptiveStandardScalerTransformer`` (bias-corrected exponentially weighted)."""
    return AdaptiveStandardScalerTransformer(
        AdaptiveStandardScalerSettings(time_constant=time_constant, axis=axis))
