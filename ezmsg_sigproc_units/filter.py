"""Causal filtering along the streaming axis with given coefficients, on every backend.

IIR coefficients run as one block state-space system (``_kernels.iir``), never as a transfer
function: ``"ba"`` with ``len(a) > 1`` is converted to second-order sections in float64 first.
``"ba"`` with ``len(a) == 1`` is an FIR filter (``_kernels.fir``: Toeplitz products, or FFT
overlap-save from ``fir_fft_min_taps`` taps). Results equal ``scipy.signal.sosfilt`` /
``lfilter`` on the whole signal for any chunking, in the input's float dtype.

Data of any rank: the filter axis is moved to the front and the other dims are flattened into
independent channels (restored on output). Non-finite input stays in its channel and reaches
exactly the outputs it reaches in SciPy, as NaN: an IIR channel from that sample on (for
ever, unless ``reset_on_nonfinite``), an FIR channel until the sample has left its taps. The
kernels handle it branch-free on the device (``_kernels.nonfinite``): no chunk waits for the
device. (NumPy, which has no device, checks on the host and computes a chunk twice only when
it holds a non-finite value.)

Coefficients become a plan once per design: ``FilterSettings`` only validates them, the
transformer normalises them (a ``"ba"`` IIR design to sections) once, and the plan derives
its matrices from them; pickled, the plan keeps only the coefficients.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.baseproc.util.streamdim import resolve_configured_stream_dim
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import array_namespace, float_dtype_for, namespace_and_device
from ._kernels import axes as _axes
from ._kernels import blocks as _blocks
from ._kernels import fir as _fir
from ._kernels import iir as _iir
from ._kernels import plans as _plans
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import changed_fields, check_count, check_counts

_COEF_TYPES = ("ba", "sos")
_INITIAL = ("steady", "zero")


@dataclasses.dataclass
class FilterCoefficients:
    """Transfer-function coefficients: numerator ``b`` and denominator ``a``."""

    b: np.ndarray = dataclasses.field(default_factory=lambda: np.array([1.0]))
    a: np.ndarray = dataclasses.field(default_factory=lambda: np.array([1.0]))


FilterCoefsType = typing.TypeVar("FilterCoefsType")


class FilterBaseSettings(ez.Settings):
    axis: str | None = None
    """Dim to filter along. None (default) follows the message's declared ``stream_dim``, else
    ``"time"`` when present, else the first dim. State is carried between messages along it."""

    coef_type: str = "ba"
    """``"ba"`` (numerator, denominator) or ``"sos"`` (second-order sections). Default "ba".
    An FIR design (taps) runs as taps either way: the same filter, exactly."""

    use_fast_sosfilt: bool = True
    """Use a backend's native fast path where one exists (NumPy: a sequential block loop);
    False always runs the portable Array API kernel. Same results. Default True."""

    use_mlx_metal: bool = True
    """Accepted for ezmsg-sigproc compatibility, no effect: every backend, MLX included,
    runs the same portable kernel, whose block sizes are chosen per input. Default True."""

    mlx_metal_chunk_sizes: tuple[int, ...] = (512,)
    """Accepted for ezmsg-sigproc compatibility, no effect (see ``use_mlx_metal``): a
    non-empty sequence of integers >= 1. Default (512,)."""

    thread_min_bytes: int = 1048576
    """Accepted for ezmsg-sigproc compatibility, no effect: the kernel sets no thread pool
    (BLAS threads as configured). An integer >= 0 (bytes). Default 1048576."""

    fir_fft_min_taps: int = 64
    """FIR filters with at least this many taps use FFT overlap-save, shorter ones direct
    products (the result is the same). Default 64."""

    initial_state: str = dataclasses.field(default="steady", kw_only=True)
    """Keyword only. Filter state before the first sample: ``"steady"`` (default; the filter's
    steady state for a constant input equal to the first sample, scipy's ``sosfilt_zi *
    x[0]``, so a DC offset causes no onset transient) or ``"zero"`` (a filter at rest)."""

    reset_on_nonfinite: bool = dataclasses.field(default=False, kw_only=True)
    """Keyword only. If True, a channel whose chunk contains NaN or inf has its filter state
    reset after that chunk (to zero with ``initial_state="zero"``; with ``"steady"``,
    re-initialised from its next sample), so its output is finite again from the next chunk
    on. Outputs inside the offending chunk are unchanged. Default False: an IIR channel stays
    NaN forever."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if self.coef_type not in _COEF_TYPES:
            raise ValueError(f"coef_type: must be one of {_COEF_TYPES}, got {self.coef_type!r}")
        check_count("fir_fft_min_taps", self.fir_fft_min_taps)
        if self.initial_state not in _INITIAL:
            raise ValueError(f"initial_state: must be one of {_INITIAL}, got "
                             f"{self.initial_state!r}")
        for name in ("use_fast_sosfilt", "use_mlx_metal", "reset_on_nonfinite"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: must be a bool, got {getattr(self, name)!r}")
        check_counts("mlx_metal_chunk_sizes", self.mlx_metal_chunk_sizes)
        check_count("thread_min_bytes", self.thread_min_bytes, minimum=0)


NO_EFFECT_FIELDS = frozenset({"use_mlx_metal", "mlx_metal_chunk_sizes", "thread_min_bytes"})
"""Accepted for compatibility, no effect: updating them neither resets nor redesigns."""


class FilterSettings(FilterBaseSettings):
    coefs: FilterCoefficients | tuple | np.ndarray | None = None
    """The coefficients, read per ``coef_type``: ``(b, a)`` or ``FilterCoefficients`` for
    "ba", an ``(n_sections, 6)`` array for "sos". None (default) passes data through."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _plans.check(self.coefs, self.coef_type)


@processor_state
class FilterState:
    plan: Any = None
    """``IIRPlan`` or ``FIRPlan`` on the data's device and compute dtype; None: passthrough."""

    z: Any = None
    """IIR state ``(n, C)`` or FIR input tail ``(ntaps - 1, C)``; None until the first sample."""

    pending: Any = None
    """``(C,)`` bool: channels to re-initialise from their next sample (reset_on_nonfinite)."""


class FilterTransformer(StreamAxisMixin,
                        BaseStatefulTransformer[FilterSettings, AxisArray, AxisArray, FilterState]):
    """Filter with ``settings.coefs`` along the axis; output has the input's shape, dims and
    float dtype (integer input is computed in the default float). State resets when the
    layout (dims, other dims' lengths or labels, the axis gain) or the data's namespace,
    device or dtype change; ``update_coefficients`` swaps coefficients without a reset."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coefs = _plans.normalise(self.settings.coefs, self.settings.coef_type)

    def __getstate__(self) -> dict:
        """Picklable (it lives in FilterByDesignState): without the base class's hash
        witness, a cache holding a closure. The plan pickles as its coefficients."""
        state = self.__dict__.copy()
        state.pop("_hash_witness", None)
        return state

    def _reset_state(self, message: AxisArray) -> None:
        axis_index(message, self._axis(message))
        xp, dev = namespace_and_device(message.data)
        dtype = float_dtype_for(xp, message.data.dtype, dev)
        st = self._state
        st.plan = _plans.make_plan(xp, self._coefs, dtype, dev, self.settings.fir_fft_min_taps)
        st.z = st.pending = None

    def update_coefficients(self, coefs: Any, coef_type: str | None = None) -> None:
        """Use new coefficients from the next sample on. The filter state is kept (as scipy's
        ``zi`` for IIR filters, as the input tail for FIR ones) when its size is unchanged, so
        a same-order redesign has no glitch; otherwise the filter restarts per
        ``initial_state``."""
        new = _plans.normalise(coefs, coef_type or self.settings.coef_type)
        self._coefs = new
        st, old = self._state, self._state.plan
        if old is None or st.z is None:  # no running state: build afresh at the next message
            self._request_reset()
            return
        if new is None:
            st.plan, st.z, st.pending = None, None, None
            return
        xp, dev = namespace_and_device(st.z)
        plan = _plans.make_plan(xp, new, getattr(xp, old.dtype), dev,
                                self.settings.fir_fft_min_taps)
        st.z = _plans.carry_state(xp, old, plan, st.z)
        st.plan = plan

    def update_settings(self, new_settings: FilterSettings) -> None:
        """New coefficients (``coefs``/``coef_type`` only) go through
        ``update_coefficients``; any other change resets the filter."""
        changed = changed_fields(self.settings, new_settings) - NO_EFFECT_FIELDS
        self.settings = new_settings
        if changed and changed <= {"coefs", "coef_type"}:
            self.update_coefficients(new_settings.coefs, new_settings.coef_type)
        elif changed:
            self._coefs = _plans.normalise(new_settings.coefs, new_settings.coef_type)
            self._request_reset()

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        plan = st.plan
        if plan is None:
            return message
        ix = axis_index(message, self._axis(message))
        xp = array_namespace(message.data)
        x, inner = _axes.to_time_major(xp, message.data, ix)
        dtype = getattr(xp, plan.dtype)
        if x.shape[0] == 0 or x.shape[1] == 0:
            x = x if x.dtype == dtype else xp.astype(x, dtype)
            return replace_data(message, _axes.from_time_major(xp, x, inner, ix))
        if st.z is None or st.pending is not None:
            x0 = x[:1, ...] if x.dtype == dtype else xp.astype(x[:1, ...], dtype)
            z0 = self._initial(xp, plan, x0)
            st.z = z0 if st.z is None else xp.where(st.pending, z0, st.z)
            st.pending = None
        bad: list = []  # long chunks in bounded blocks (exact), temporaries per block
        T, C = x.shape
        y = (self._run(xp, x, dtype, bad, 0, T) if T * C <= _blocks.ONE_CALL_ENTRIES else
             _blocks.gather_blocks(xp, T, _blocks.block_length(T, C, plan.block),
                                   functools.partial(self._run, xp, x, dtype, bad)))
        if bad:  # reset_on_nonfinite
            st.z = xp.where(bad[0], 0.0, st.z)
            st.pending = bad[0] if self.settings.initial_state == "steady" else None
        return replace_data(message, _axes.from_time_major(xp, y, inner, ix))

    def _run(self, xp: Any, x: Any, dtype: Any, bad: list, start: int, stop: int) -> Any:
        """Filter ``x[start:stop]`` from the state; non-finite channels ORed into ``bad``."""
        st, s = self._state, self.settings
        xb = x if start == 0 and stop == x.shape[0] else x[start:stop, ...]  # JAX: no op
        xb = xb if xb.dtype == dtype else xp.astype(xb, dtype)
        if isinstance(st.plan, _iir.IIRPlan):
            y, st.z = _iir.iir_filter(xp, st.plan, xb, st.z, native=s.use_fast_sosfilt)
        else:
            y, st.z = _fir.fir_filter(xp, st.plan, xb, st.z)
        if s.reset_on_nonfinite:
            b = xp.any(~xp.isfinite(xb), axis=0)
            bad[:] = [b | bad[0]] if bad else [b]
        return y

    def _initial(self, xp: Any, plan: Any, x: Any) -> Any:
        iir = isinstance(plan, _iir.IIRPlan)
        if self.settings.initial_state == "steady":
            init = _iir.iir_initial_state if iir else _fir.fir_initial_state
            return init(xp, plan, x[0, ...])
        zero = _iir.iir_zero_state if iir else _fir.fir_zero_state
        return zero(xp, plan, x.shape[1], like=x)


class Filter(TransformerUnit[FilterSettings, AxisArray, AxisArray, FilterTransformer]):
    SETTINGS = FilterSettings


def filtergen(axis: str | None, coefs: Any, coef_type: str) -> FilterTransformer:
    """A ``FilterTransformer`` applying ``coefs`` (read per ``coef_type``) along ``axis``."""
    return FilterTransformer(FilterSettings(axis=axis, coefs=coefs, coef_type=coef_type))


# ----------------------------------------------------------------------------- by design
SettingsType = typing.TypeVar("SettingsType", bound=FilterBaseSettings)
TransformerType = typing.TypeVar("TransformerType")
_BASE_FIELDS = frozenset(f.name for f in dataclasses.fields(FilterBaseSettings)) - {"coef_type"}


@processor_state
class FilterByDesignState:
    filter: FilterTransformer | None = None
    """The inner filter holding the coefficients and the filter state."""

    needs_redesign: bool = False
    """Design settings changed: redesign (keeping the filter state) at the next message."""

    fs: float | None = None
    """Sampling rate (Hz) the current design is for."""


class FilterByDesignTransformer(
    BaseStatefulTransformer[SettingsType, AxisArray, AxisArray, FilterByDesignState],
    ABC,
    typing.Generic[SettingsType, FilterCoefsType],
):
    """A filter designed from settings for the stream's sampling rate (1 / the axis gain).

    Subclasses implement ``get_design_function``: ``fs -> coefficients`` per
    ``settings.coef_type`` (or None: pass data through). The design runs on the first message,
    again (with a log line) when the sampling rate changes, which restarts the filter, and
    after ``update_settings`` changed a design setting, which keeps the filter state when the
    order is unchanged."""

    @abstractmethod
    def get_design_function(self) -> Callable[[float], FilterCoefsType | None]: ...

    def _fs(self, message: AxisArray) -> float:
        axis = resolve_configured_stream_dim(self, message, self.settings.axis)
        axis_index(message, axis)
        gain = getattr(message.axes.get(axis), "gain", None)
        if not gain or not math.isfinite(gain) or gain <= 0:
            raise ValueError(f"axis: dim {axis!r} needs a LinearAxis with a positive gain "
                             f"(the sample period) to design the filter, got gain {gain!r}")
        return 1.0 / gain

    def _hash_message(self, message: AxisArray) -> int:
        return hash(self._fs(message))

    def _reset_state(self, message: AxisArray) -> None:
        st, s = self._state, self.settings
        fs = self._fs(message)
        if st.fs is not None and st.fs != fs:
            ez.logger.info(f"{type(self).__name__}: sampling rate changed from {st.fs} Hz to "
                           f"{fs} Hz; redesigning the filter and restarting it")
        coefs = self.get_design_function()(fs)
        st.filter = FilterTransformer(FilterSettings(
            axis=s.axis, coefs=coefs, coef_type=_plans.design_coef_type(coefs, s.coef_type),
            **{name: getattr(s, name) for name in _BASE_FIELDS if name != "axis"}))
        st.fs, st.needs_redesign = fs, False

    def update_settings(self, new_settings: SettingsType | None = None, **kwargs: Any) -> None:
        """Apply new settings (an object, or field values as keywords). Design changes are
        applied at the next message without restarting the filter when its order is kept;
        changes to the base filter settings (axis, initial_state, ...) restart it."""
        new = dataclasses.replace(new_settings or self.settings, **kwargs)
        changed = changed_fields(self.settings, new) - NO_EFFECT_FIELDS
        self.settings = new
        if changed & _BASE_FIELDS:
            self._request_reset()
        elif changed:
            self._state.needs_redesign = True

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        if st.needs_redesign:
            coefs = self.get_design_function()(st.fs)
            st.filter.update_coefficients(
                coefs, coef_type=_plans.design_coef_type(coefs, self.settings.coef_type))
            st.needs_redesign = False
        return st.filter(message)


class BaseFilterByDesignTransformerUnit(
    TransformerUnit[SettingsType, AxisArray, AxisArray, TransformerType],
    ABC,
    typing.Generic[SettingsType, TransformerType],
):
    """Unit base of the design filters: settings messages go to the transformer's
    ``update_settings`` (redesign without a glitch when the order is unchanged)."""
