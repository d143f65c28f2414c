"""A bank of FIR filters applied at once: every channel through every kernel.

Input ``(..., time, ...)`` -> output with the streaming axis moved last and a new axis
(``new_axis``, one entry per kernel) inserted just before it, the other dims keeping their
order: ``(time, ch)`` -> ``(ch, kernel, time)`` (ezmsg-sigproc's layout). The time axis is
carried over unchanged: there is no latency in any mode, so timestamps stay true.

Any chunking gives ``scipy.signal.lfilter(k, [1.0], x)`` of the whole signal for each kernel
``k`` (from a filter at rest). Kernels of different lengths are zero-padded at the end to the
longest, which does not change their outputs. All kernels run as one multi-kernel plan of
:mod:`~ezmsg_sigproc_units._kernels.fir` (Toeplitz block products, or FFT overlap-save), on
the data's own backend and device, in its float dtype.
"""

from __future__ import annotations

import enum
import math
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import float_dtype_for, namespace_and_device
from ._kernels import axes as _axes
from ._kernels import fir
from ._messages import axis_index, replace_fields
from ._processors import SettingsByValueMixin, StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_member


class FilterbankMode(str, enum.Enum):
    """How the kernels are applied. Every mode gives the same numbers (to float rounding)."""

    CONV = "Direct Convolution"
    """Toeplitz block matrix products, whatever the kernel length."""
    FFT = "FFT Convolution"
    """FFT overlap-save for kernels of 2 taps or more (direct where the backend's FFT would
    lose precision, e.g. MLX float64)."""
    AUTO = "Automatic"
    """Direct below 64 taps, FFT overlap-save from 64 taps on."""


class MinPhaseMode(str, enum.Enum):
    """Conversion of each (linear-phase) kernel to minimum phase before use, by
    ``scipy.signal.minimum_phase``: the result has about half the taps and its magnitude
    response approximates the square root of the original's."""

    NONE = "No kernel modification"
    HILBERT = ("Hilbert Method; designed to be used with equiripple filters (e.g., from remez) "
               "with unity or zero gain regions")
    HOMOMORPHIC = ("Works best with filters with an odd number of taps, and the resulting "
                   "minimum phase filter will have a magnitude response that approximates the "
                   "square root of the original filter\u2019s magnitude response using half "
                   "the number of taps")


_FFT_MIN_TAPS = {FilterbankMode.CONV: 2**62, FilterbankMode.FFT: 2, FilterbankMode.AUTO: 64}


class FilterbankSettings(ez.Settings):
    kernels: list[np.ndarray] | tuple[np.ndarray, ...]
    """FIR kernels (each a 1-D sequence of finite taps, at least one tap), applied as
    ``lfilter(k, [1.0], x)``. Required; at least one kernel."""

    mode: FilterbankMode = FilterbankMode.CONV
    """CONV (direct), FFT (overlap-save) or AUTO (by kernel length); member, value or name.
    Default CONV."""

    min_phase: MinPhaseMode = MinPhaseMode.NONE
    """Convert each kernel to minimum phase first (HILBERT or HOMOMORPHIC method of
    ``scipy.signal.minimum_phase``), or NONE (default) to use the kernels as given."""

    axis: str | None = None
    """Dim to filter along. None (default) follows the message's declared ``stream_dim``, else
    ``"time"`` when present, else the first dim."""

    new_axis: str = "kernel"
    """Name of the output dim indexing the kernels; must not be a dim of the input. Default
    ``"kernel"``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", check_member(FilterbankMode, "mode", self.mode))
        object.__setattr__(self, "min_phase",
                           check_member(MinPhaseMode, "min_phase", self.min_phase))
        if isinstance(self.kernels, np.ndarray) and self.kernels.ndim == 1:
            raise ValueError("kernels: give a list of kernels, not one 1-D array")
        try:
            kernels = [np.asarray(k, dtype=np.float64) for k in self.kernels]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"kernels: must be a list of 1-D real sequences ({exc})") from None
        if not kernels:
            raise ValueError("kernels: at least one kernel is required")
        for i, k in enumerate(kernels):
            if k.ndim != 1 or k.shape[0] < 1 or not np.all(np.isfinite(k)):
                raise ValueError(f"kernels: kernel {i} must be 1-D, non-empty and finite, "
                                 f"got shape {k.shape}")
            if self.min_phase is not MinPhaseMode.NONE and k.shape[0] < 3:
                raise ValueError(f"kernels: kernel {i} has {k.shape[0]} taps; minimum_phase "
                                 f"needs at least 3")
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if not isinstance(self.new_axis, str) or not self.new_axis:
            raise ValueError(f"new_axis: must be a non-empty dim name, got {self.new_axis!r}")


def bank_taps(settings: FilterbankSettings) -> np.ndarray:
    """Host float64 taps ``(ntaps, K)``: each kernel (minimum-phase converted when asked) in a
    column, zero-padded at the end to the longest."""
    kernels = [np.asarray(k, dtype=np.float64) for k in settings.kernels]
    if settings.min_phase is not MinPhaseMode.NONE:
        import scipy.signal

        method = settings.min_phase.name.lower()
        kernels = [scipy.signal.minimum_phase(k, method=method) for k in kernels]
    taps = np.zeros((max(k.shape[0] for k in kernels), len(kernels)))
    for i, k in enumerate(kernels):
        taps[: k.shape[0], i] = k
    return taps


@processor_state
class FilterbankState:
    plan: fir.FIRPlan | None = None
    """The multi-kernel FIR plan for the input's dtype and device."""

    tail: Any = None
    """The last ``ntaps - 1`` inputs, ``(ntaps - 1, C)`` with C the flattened other dims."""

    axis: str = ""
    """Name of the dim being filtered."""

    perm: tuple[int, ...] = ()
    """Output permutation of ``(time, *other dims, kernel)``."""

    dims: tuple[str, ...] = ()
    """Output dims."""


class FilterbankTransformer(
    SettingsByValueMixin,
    StreamAxisMixin,
    BaseStatefulTransformer[FilterbankSettings, AxisArray, AxisArray, FilterbankState],
):
    """Filter every channel with every kernel; see the module docstring for the layout.
    State resets by the shared rule (``StreamAxisMixin``): when the layout of the other dims,
    the axis gain, or the data's namespace, device or dtype change. Integer input is filtered
    in the backend's widest float dtype."""

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis = self._axis(message)
        ix = axis_index(message, axis)
        if s.new_axis in message.dims:
            raise ValueError(f"new_axis: {s.new_axis!r} is already a dim of the input "
                             f"{list(message.dims)}")
        xp, dev = namespace_and_device(message.data)
        dt = float_dtype_for(xp, message.data.dtype, dev)
        taps = bank_taps(s)
        st.plan = fir.fir_plan(xp, taps, dtype=dt, device=dev,
                               fft_min_taps=_FFT_MIN_TAPS[s.mode])
        shape = message.data.shape
        other = [d for d in range(len(shape)) if d != ix]
        st.tail = fir.fir_zero_state(xp, st.plan, math.prod(shape[d] for d in other))
        st.axis = axis
        n = len(other)
        st.perm = tuple(range(1, n + 1)) + (n + 1, 0)
        st.dims = tuple(message.dims[d] for d in other) + (s.new_axis, axis)

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        x = message.data
        xp, _ = namespace_and_device(x)
        ix = axis_index(message, st.axis)
        x2, rest = _axes.to_time_major(xp, x, ix)
        T = x2.shape[0]
        if x2.dtype != st.tail.dtype:
            x2 = xp.astype(x2, st.tail.dtype)
        y, tail = fir.fir_filter(xp, st.plan, x2, st.tail)  # (T, C, K)
        st.tail = tail
        y = xp.permute_dims(xp.reshape(y, (T,) + rest + (y.shape[2],)), st.perm)
        return replace_fields(message, data=y, dims=list(st.dims), axes=dict(message.axes))


class Filterbank(TransformerUnit[FilterbankSettings, AxisArray, AxisArray,
                                 FilterbankTransformer]):
    SETTINGS = FilterbankSettings


def filterbank(
    kernels: list[np.ndarray] | tuple[np.ndarray, ...],
    mode: FilterbankMode = FilterbankMode.CONV,
    min_phase: MinPhaseMode = MinPhaseMode.NONE,
    axis: str | None = None,
    new_axis: str = "kernel",
) -> FilterbankTransformer:
    """A :class:`FilterbankTransformer` (defaults as :class:`FilterbankSettings`)."""
    return FilterbankTransformer(FilterbankSettings(kernels=kernels, mode=mode,
                                                    min_phase=min_phase, axis=axis,
                                                    new_axis=new_axis))
