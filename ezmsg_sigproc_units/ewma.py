"""Exponentially weighted moving average (EWMA) along the streaming axis.

``y[t]`` is the exponentially weighted mean of the samples seen so far: the zero-initialised
recurrence ``s[t] = alpha x[t] + (1 - alpha) s[t-1]`` divided by its missing weight
``1 - (1 - alpha)^t`` (so the first output is the first sample), with ``alpha = 1 -
exp(-dt / time_constant)``. It runs as one first-order IIR section over the whole chunk (block
state-space products; ``scipy.signal.lfilter`` on NumPy for few channels): no loop over
samples, any chunking gives the same output. Output keeps the input's float dtype (integer
input: the default float). A NaN sample makes its channel NaN from there on, as ``lfilter``;
``scaler.AdaptiveStandardScalerTransformer`` excludes non-finite samples instead.
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import asarray, dtype_from_name, float_dtype_for, namespace_and_device
from ._kernels import axes as _axes
from ._kernels import ewma as _ewma
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._scaling_common import PassthroughGate, stream_period
from ._units import TransformerUnit
from ._validate import check_counts, check_real


def _tau_from_alpha(alpha: float, dt: float) -> float:
    """Time constant (s) of smoothing factor ``alpha`` at sample period ``dt`` (s)."""
    return _ewma.tau_from_alpha(alpha, dt)


def _alpha_from_tau(tau: float, dt: float) -> float:
    """Smoothing factor ``1 - exp(-dt / tau)``: a unit step reaches ``1 - 1/e`` after ``tau``
    seconds at sample period ``dt``."""
    return _ewma.alpha_from_tau(tau, dt)


def ewma_step(sample: Any, zi: Any, alpha: float, beta: float | None = None) -> Any:
    """One EWMA update: ``alpha * sample + beta * zi`` (``beta`` None or 0: ``1 - alpha``).
    Works on any array type (elementwise arithmetic only)."""
    beta = beta or (1 - alpha)
    return alpha * sample + beta * zi


class EWMA_Deprecated:  # noqa: N801 - the peer's name
    """Host (NumPy) EWMA along axis 0 that starts from the first sample (``y[0] = x[0]``),
    kept for code written against the peer's helper. ``compute`` and ``compute2`` take a
    block, ``compute_sample`` one sample; all three continue from the same ``prev``. Exact for
    any block length (``lfilter`` with the previous output as its state). Prefer
    ``EWMATransformer``."""

    def __init__(self, alpha: float, max_len: int):
        self.alpha = alpha
        self.beta = 1 - alpha
        self.prev: np.ndarray | None = None
        self.max_len = max_len

    def compute(self, arr: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        from scipy.signal import lfilter

        arr = np.asarray(arr)
        if arr.shape[0] == 0:
            return arr.copy() if out is None else out
        prev = arr[:1] if self.prev is None else np.reshape(self.prev, (1, *arr.shape[1:]))
        y, _ = lfilter([self.alpha], [1.0, -self.beta], arr, axis=0, zi=self.beta * prev)
        self.prev = y[-1:].copy()
        if out is not None:
            out[...] = y
            return out
        return y

    def compute2(self, arr: np.ndarray) -> np.ndarray:
        y = self.compute(arr)
        if self.prev is not None:
            self.prev = self.prev[0]
        return y

    def compute_sample(self, new_sample: np.ndarray) -> np.ndarray:
        if self.prev is None:
            self.prev = new_sample
        self.prev = ewma_step(new_sample, self.prev, self.alpha, self.beta)
        return self.prev


class EWMASettings(ez.Settings):
    time_constant: float = 1.0
    """Seconds for the response to a unit step to reach ``1 - 1/e`` (~63.2%); finite, > 0.
    Default 1.0."""

    axis: str | None = None
    """Dim to smooth along. None (default): the message's ``stream_dim``, else ``"time"``."""

    accumulate: bool = True
    """True (default): every sample updates the average. False: outputs use the current
    estimate without updating it (inference periods). May change at runtime without a
    reset."""

    passthrough: bool = False
    """True: messages go out unchanged and do not touch the state (may be toggled at
    runtime). Default False."""

    reset_on_resume: bool = False
    """When ``passthrough`` lets a non-empty message by, restart the average at the next
    filtered message (True) or continue from the state before the gap (False, default)."""

    mlx_metal_chunk_sizes: tuple[int, ...] = (32, 1024)
    """The peer's MLX Metal kernel sizes, each in [1, 1024]. Accepted for compatibility and
    unused: MLX runs the portable kernel here."""

    def __post_init__(self) -> None:
        check_real("time_constant", self.time_constant)
        if self.time_constant <= 0:
            raise ValueError(f"time_constant: must be > 0 seconds, got {self.time_constant!r}")
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        check_counts("mlx_metal_chunk_sizes", self.mlx_metal_chunk_sizes)
        if max(self.mlx_metal_chunk_sizes) > 1024:
            raise ValueError(f"mlx_metal_chunk_sizes: values must be in [1, 1024], "
                             f"got {self.mlx_metal_chunk_sizes!r}")


@processor_state
class EWMAState:
    alpha: float = 0.0
    """Smoothing factor from the time constant and the axis' sample period."""

    plan: Any = None
    """The first-order filter (``_kernels.iir.IIRPlan``) in the compute dtype."""

    zi: Any = None
    """Filter state of the zero-initialised sums, on the data's device; None before reset."""

    n_seen: int = 0
    """Samples accumulated since the reset (the bias correction's ``t``)."""

    settle_n: float = math.inf
    """``n_seen`` from which the bias correction is exactly 1 in the compute dtype."""

    corr: Any = None
    """Cached bias-correction divisor ``(n, 1)`` on the device, for ``corr_for``."""

    corr_for: tuple[int, int] | None = None
    """``(n_seen, n)`` that ``corr`` was built for."""


class EWMATransformer(StreamAxisMixin, PassthroughGate,
                      BaseStatefulTransformer[EWMASettings, AxisArray, AxisArray, EWMAState]):
    """Bias-corrected EWMA along the axis; output has the input's shape and float dtype.

    ``accumulate``, ``passthrough`` and ``reset_on_resume`` are read live (changing them does
    not reset). State resets by the shared rule (``StreamAxisMixin``)."""

    NONRESET_SETTINGS_FIELDS = frozenset(
        {"accumulate", "passthrough", "reset_on_resume", "mlx_metal_chunk_sizes"})

    def _reset_state(self, message: AxisArray) -> None:
        axis = self._axis(message)
        _, gain, n_ch = stream_period(message, axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        dtype = float_dtype_for(xp, x.dtype, dev)
        st = self._state
        st.alpha = _ewma.alpha_from_tau(self.settings.time_constant, gain)
        st.plan = _ewma.ewma_plan(xp, st.alpha, dtype=dtype, device=dev)
        st.zi = _ewma.zero_state(xp, st.plan, n_ch, like=x)
        st.n_seen = 0
        st.settle_n = _ewma.settle_count(st.alpha, float(np.finfo(st.plan.dtype).eps))
        st.corr = st.corr_for = None

    def _smooth(self, xp: Any, dev: Any, x: Any) -> Any:
        """The bias-corrected EWMA of ``x`` ``(T, C)`` in the compute dtype; updates the state
        when ``accumulate``."""
        st = self._state
        n = x.shape[0]
        s, zi = _ewma.ewma_sums(xp, st.plan, x, st.zi)
        if st.n_seen < st.settle_n:
            if st.corr_for != (st.n_seen, n):
                st.corr = asarray(xp, _ewma.bias_correction(st.alpha, st.n_seen, n),
                                  dtype=x.dtype, device=dev)
                st.corr_for = (st.n_seen, n)
            s = s / st.corr
        if self.settings.accumulate:
            st.zi = zi
            st.n_seen += n
        return s

    def _time_major(self, message: AxisArray) -> tuple[Any, Any, Any, tuple, int]:
        """``(xp, dev, x2, inner, ix)``: the data as ``(T, C)`` in the compute dtype."""
        ix = axis_index(message, self._axis(message))
        xp, dev = namespace_and_device(message.data)
        x, inner = _axes.to_time_major(xp, message.data, ix)
        dtype = dtype_from_name(xp, self._state.plan.dtype)
        if x.dtype != dtype:
            x = xp.astype(x, dtype)
        return xp, dev, x, inner, ix

    def _process(self, message: AxisArray) -> AxisArray:
        xp, dev, x, inner, ix = self._time_major(message)
        y = self._smooth(xp, dev, x) if x.shape[0] and x.shape[1] else x
        return replace_data(message, _axes.from_time_major(xp, y, inner, ix))


class EWMAUnit(TransformerUnit[EWMASettings, AxisArray, AxisArray, EWMATransformer]):
    SETTINGS = EWMASettings


