"""Streaming zero-phase Butterworth filtering with a bounded, declared latency.

Offline, ``scipy.signal.sosfiltfilt`` runs the filter forward, then backward over the whole
(future included) signal: ``y[n] = sum_k h[k] f[n+k]``, with ``f`` the forward-filtered signal
and ``h`` the filter's impulse response. Streaming, the future is known only ``pad`` samples
ahead, so the backward pass is an FIR filter of ``pad + 1`` taps ``g`` over ``f[n..n+pad]``,
applied causally and delayed by ``pad`` samples:

    y[n] = sum_{j<=pad} g[j] f[n+j]

The taps are the least-squares estimate of the whole backward pass from what it may read,
for white input, with the filter's exact DC gain (``backward_taps``). Simply truncating ``h``
at ``pad`` (with the rest of its mass on the last tap) is what a backward IIR pass started
``pad`` samples ahead gives; it correlates 0.993-0.998 with ``sosfiltfilt`` on white noise
at the default ``settle_cutoff``, the least-squares taps 0.9994-0.9999 at the same latency
(docs/filtering.md). It is time-invariant: every sample gets the same look-ahead, so any
chunking of the stream gives the same output.

``pad`` is the settle time of ``h``: one past the last sample where ``|h|`` exceeds
``settle_cutoff`` times its peak, at least ``3 (order + 1)`` (scipy ``filtfilt``'s default pad
length for a low-pass of that order), at most ``max_pad_duration`` seconds (the values of
ezmsg-sigproc). The first ``pad`` samples of a stream produce no output; after
that each message returns as many samples as it brings, ``pad`` samples late. The output axis
is re-timed (offset moved back by the latency) so every sample keeps its true timestamp.

Both passes use second-order sections designed directly in float64 (``coef_type`` is accepted
for compatibility and does not change the numbers). The forward pass starts per
``initial_state``. A change of sampling rate, channel layout, dtype, array library or device
restarts both passes (the first ``pad`` samples after it produce no output);
``update_settings`` with a new design keeps the stream running without a glitch when ``pad``
is unchanged, else the backward pass restarts and the ``pad`` samples before the change are
never output. NaN input stays in its channel; the backward pass forgets it ``pad`` samples
later, the forward (IIR) pass only with ``reset_on_nonfinite``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from ezmsg.baseproc import CompositeProcessor, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import array_namespace
from ._kernels.blocks import ONE_CALL_ENTRIES, block_length, gather_blocks
from ._messages import axis_index, replace_fields
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_real
from .butterworthfilter import (
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
    butter_design_fun,
)
from .filter import (
    FilterByDesignState,
    FilterByDesignTransformer,
    FilterSettings,
    FilterTransformer,
)

_MAX_IMPULSE = 1 << 22
"""Longest impulse response examined for the settle time (samples)."""


class ButterworthZeroPhaseSettings(ButterworthFilterSettings):
    settle_cutoff: float = 0.01
    """Relative level (of the impulse response's peak magnitude) below which the response
    counts as settled; sets the look-ahead ``pad`` and so the latency. Smaller is closer to
    true filtfilt and slower. In (0, 1). Default 0.01."""

    max_pad_duration: float | None = None
    """Upper bound on the look-ahead (latency), in seconds (``floor(max_pad_duration * fs)``
    samples). None (default): no bound. 0 gives no latency and ``DC gain * forward``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_real("settle_cutoff", self.settle_cutoff)
        if not 0.0 < self.settle_cutoff < 1.0:
            raise ValueError(f"settle_cutoff: must lie in (0, 1), got {self.settle_cutoff!r}")
        if self.max_pad_duration is not None:
            check_real("max_pad_duration", self.max_pad_duration, minimum=0.0)


def _butter_sos(fs: float, s: ButterworthFilterSettings) -> np.ndarray | None:
    return butter_design_fun(fs, order=s.order, cuton=s.cuton, cutoff=s.cutoff,
                             coef_type="sos", wn_hz=s.wn_hz)


def _impulse(sos: np.ndarray, n: int) -> np.ndarray:
    import scipy.signal

    x = np.zeros(n)
    x[0] = 1.0
    return scipy.signal.sosfilt(sos, x)


def pad_length(sos: np.ndarray, fs: float, settle_cutoff: float,
               max_pad_duration: float | None, order: int) -> int:
    """Look-ahead in samples for ``sos`` at ``fs`` (see the module docstring)."""
    n = 4096
    while True:
        h = np.abs(_impulse(sos, n))
        above = np.flatnonzero(h > settle_cutoff * h.max())
        last = int(above[-1]) + 1 if above.size else 0
        if last < 3 * n // 4 or n >= _MAX_IMPULSE:
            break
        n *= 4
    if last >= 3 * n // 4 and max_pad_duration is None:
        raise ValueError(f"settle_cutoff: the impulse response does not settle to "
                         f"{settle_cutoff} of its peak within {n} samples; raise settle_cutoff "
                         f"or set max_pad_duration")
    pad = max(last, 3 * (order + 1))  # filtfilt's default pad length for a low-pass
    if max_pad_duration is not None:
        pad = min(pad, int(math.floor(max_pad_duration * fs + 1e-9)))
    return pad


def _settled_impulse(sos: np.ndarray) -> np.ndarray:
    """The impulse response until its magnitude stays below ``1e-12`` of its peak (at most
    ``_MAX_IMPULSE`` samples)."""
    n = 4096
    while True:
        h = _impulse(sos, n)
        a = np.abs(h)
        if n >= _MAX_IMPULSE or a[3 * n // 4 :].max() <= 1e-12 * a.max():
            return h
        n *= 4


def backward_taps(sos: np.ndarray, pad: int) -> np.ndarray:
    """Causal FIR taps (``pad + 1``) of the backward pass with look-ahead ``pad``, in delay
    order: ``out[m] = sum_j taps[j] f[m - j]`` is the backward output for sample ``m - pad``.

    The taps ``g`` (in look-ahead order) are the least-squares estimate of the whole backward
    pass ``sum_k h[k] f[n+k]`` from the ``pad + 1`` samples it may read, for white input
    (``f`` forward-filtered white noise), with the exact DC gain: minimise
    ``E|sum_k h[k] f[n+k] - sum_j g[j] f[n+j]|^2`` subject to ``sum_j g[j] = H(1)``. With
    ``R`` the autocorrelation of ``f`` (``R[m] = sum_i h[i] h[i+m]``) that is the Toeplitz
    system ``R g = r - mu``, ``r[j] = sum_k h[k] R[k-j]`` (one Levinson solve, host float64;
    a ridge of 1e-6 of ``R[0]`` on the diagonal, white noise 60 dB down, keeps the taps
    small where ``f`` is smooth)."""
    import scipy.linalg
    import scipy.signal

    dc = float(np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1)))
    if pad == 0:
        return np.array([dc])
    h = _settled_impulse(sos)
    full = scipy.signal.fftconvolve(h, h[::-1])  # R at lags -(N-1) .. N-1
    N = h.shape[0]
    col = full[N - 1 : N + pad].copy()
    col[0] *= 1.0 + 1e-6
    r = scipy.signal.fftconvolve(full, h[::-1], mode="valid")[::-1][: pad + 1]
    sol = scipy.linalg.solve_toeplitz(col, np.column_stack([r, np.ones(pad + 1)]))
    g = sol[:, 0] + (dc - sol[:, 0].sum()) / sol[:, 1].sum() * sol[:, 1]
    return g[::-1].copy()


def zero_phase_design(fs: float, settings: ButterworthZeroPhaseSettings
                      ) -> tuple[np.ndarray, int] | None:
    """``(backward taps, pad)`` for sampling rate ``fs``, or None for a passthrough design."""
    sos = _butter_sos(fs, settings)
    if sos is None:
        return None
    pad = pad_length(sos, fs, settings.settle_cutoff, settings.max_pad_duration,
                     settings.order)
    return backward_taps(sos, pad), pad


@processor_state
class ButterworthBackwardState(FilterByDesignState):
    pad: int = 0
    """Look-ahead (latency) in samples of the current design."""

    skip: int = 0
    """Outputs still to drop at the start of the stream (they would precede its first sample)."""


class ButterworthBackwardFilterTransformer(
    StreamAxisMixin, FilterByDesignTransformer[ButterworthZeroPhaseSettings, Any]
):
    """The backward pass: the look-ahead FIR of ``pad + 1`` taps, its output delayed by ``pad``
    samples and re-timed. Resets by the shared rule (``StreamAxisMixin``; dropping the first
    ``pad`` samples again) when the sampling rate (the axis gain), the layout of the other
    dims, or the data's namespace, device or dtype change."""

    @classmethod
    def get_state_type(cls) -> type:
        return ButterworthBackwardState

    def get_design_function(self) -> Callable[[float], Any]:
        def design(fs: float, settings: ButterworthZeroPhaseSettings) -> Any:
            d = zero_phase_design(fs, settings)
            return None if d is None else (d[0], np.array([1.0]))

        return functools.partial(design, settings=self.settings)

    def _compute_pad_length(self, fs: float) -> int:
        d = zero_phase_design(fs, self.settings)
        return 0 if d is None else d[1]

    def _reset_state(self, message: AxisArray) -> None:
        self._design(self._fs(message), restart=True)

    def _design(self, fs: float, restart: bool) -> None:
        st, s = self._state, self.settings
        d = zero_phase_design(fs, s)
        pad = 0 if d is None else d[1]
        if d is None:
            st.filter = None
        elif restart or st.filter is None or pad != st.pad:
            st.filter = FilterTransformer(FilterSettings(
                axis=s.axis, coefs=(d[0], np.array([1.0])), coef_type="ba",
                initial_state="zero", fir_fft_min_taps=s.fir_fft_min_taps,
                use_fast_sosfilt=s.use_fast_sosfilt, reset_on_nonfinite=s.reset_on_nonfinite))
            st.skip = pad
        else:  # same latency: new taps, same input history, no glitch
            st.filter.update_coefficients((d[0], np.array([1.0])), coef_type="ba")
        st.pad, st.fs, st.needs_redesign = pad, fs, False

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        if st.needs_redesign:
            self._design(st.fs, restart=False)
        if st.filter is None:  # passthrough design (order 0 or no edge)
            return message
        axis = self._axis(message)
        ix = axis_index(message, axis)
        out = st.filter(message)
        n = message.data.shape[ix]
        d = min(n, st.skip)
        st.skip -= d
        data = out.data if d == 0 else out.data[(slice(None),) * ix + (slice(d, None), Ellipsis)]
        ax = message.axes.get(axis)
        axes = dict(message.axes)
        # First output: input sample (start + d - pad); before any output, the stream's start.
        axes[axis] = LinearAxis(gain=ax.gain, offset=ax.offset + (d + st.skip - st.pad) * ax.gain,
                                unit=ax.unit)
        return replace_fields(message, data=data, axes=axes)


class ButterworthZeroPhaseTransformer(
    CompositeProcessor[ButterworthZeroPhaseSettings, AxisArray, AxisArray]
):
    """Forward Butterworth filter, then the backward look-ahead pass (see the module
    docstring). Latency: ``pad`` samples, declared by the output timestamps."""

    @staticmethod
    def _initialize_processors(settings: ButterworthZeroPhaseSettings) -> dict[str, Any]:
        names = {f.name for f in dataclasses.fields(ButterworthFilterSettings)}
        fwd = {k: getattr(settings, k) for k in names}
        fwd["coef_type"] = "sos"
        return {
            "forward": ButterworthFilterTransformer(ButterworthFilterSettings(**fwd)),
            "backward": ButterworthBackwardFilterTransformer(settings),
        }

    def _process(self, message: AxisArray) -> AxisArray:
        """Both passes over a long chunk in bounded blocks (exact: each pass carries its
        state), so that a chunk needs about its output's size of extra memory. Not with
        ``reset_on_nonfinite``, whose reset follows each whole chunk (then each pass cuts
        the chunk into blocks by itself: about twice the chunk's size)."""
        if math.prod(message.data.shape) <= ONE_CALL_ENTRIES:  # short: one call, no overhead
            return super()._process(message)
        axis = self._procs["backward"]._axis(message)
        ix = axis_index(message, axis)
        ax, shape = message.axes.get(axis), message.data.shape
        n = shape[ix]
        inner = self._procs["backward"].state.filter  # its FIR frame: no partial frames
        unit = inner.state.plan.block if inner is not None and inner.state.plan else 1
        step = block_length(n, math.prod(shape) // max(1, n), unit)
        if n <= step or not isinstance(ax, LinearAxis) or self.settings.reset_on_nonfinite:
            return super()._process(message)
        ref: list[AxisArray] = []  # the output whose axes describe the whole chunk's output

        def run(a: int, b: int) -> Any:
            t = LinearAxis(gain=ax.gain, offset=ax.offset + a * ax.gain, unit=ax.unit)
            data = message.data[(slice(None),) * ix + (slice(a, b), ...)]
            sub = replace_fields(message, data=data, axes={**message.axes, axis: t})
            out = super(ButterworthZeroPhaseTransformer, self)._process(sub)
            if not ref or ref[0].data.shape[ix] == 0:  # the first non-empty (else the last)
                ref[:] = [out]
            return out.data

        y = gather_blocks(array_namespace(message.data), n, step, run, axis=ix)
        return replace_fields(ref[0], data=y)

    @property
    def pad(self) -> int:
        """Latency in samples of the current design (0 before the first message)."""
        return self._procs["backward"].state.pad


class ButterworthZeroPhase(TransformerUnit[ButterworthZeroPhaseSettings, AxisArray, AxisArray,
                                           ButterworthZeroPhaseTransformer]):
    SETTINGS = ButterworthZeroPhaseSettings
