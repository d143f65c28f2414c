"""Resample's reference mode (``resample_rate=None``): linear interpolation of the signal onto
the timestamps of a second, reference stream.

Reference times arrive through ``push_reference`` and wait (host metadata) until the signal
reaches them; each signal message then emits the waiting times at or before its last sample,
in order, each exactly once (a high-water mark skips times at or below the last one emitted).
The signal is kept on its device, time first ``(N, C)``, trimmed to the rows the next
interpolation can need and to ``buffer_duration`` (at least 3 rows). Outputs that a reference
completes with signal already received come from ``drain_reference()`` (the Unit calls it on
each reference message).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ._backend import asarray, namespace_and_device, zeros
from ._backend.portable import copy
from ._kernels import axes as _axes
from ._kernels import resampling as _rs
from ._kernels.reductions import index_dtype
from ._messages import replace_fields
from ._validate import check_count, check_real

_STRATEGIES = ("immediate", "threshold", "on_demand")


def check_peer_fields(s: Any) -> None:
    """ResampleSettings' fields from the peer (buffering, reference): the peer's values are
    accepted, garbage refused (ValueError naming the field); inf limits become None."""
    for name in ("max_chunk_delay", "reference_reset_after_chunks"):
        v = getattr(s, name)
        if isinstance(v, float) and math.isinf(v) and v > 0:
            object.__setattr__(s, name, None)  # the peer's rule: no limit
    if s.max_chunk_delay is not None:
        check_real("max_chunk_delay", s.max_chunk_delay, minimum=0.0)
        ez.logger.info("resample: max_chunk_delay has no effect here (outputs leave with "
                       "each input; nothing is extrapolated)")
    fv = s.fill_value
    pair = isinstance(fv, (tuple, list)) and len(fv) == 2
    if fv not in ("extrapolate", "last") and not (
        _is_number(fv) or (pair and all(_is_number(v) for v in fv))
    ):
        raise ValueError(f"fill_value: must be 'extrapolate', 'last', a number or a "
                         f"(below, above) pair, got {fv!r}")
    check_real("buffer_duration", s.buffer_duration, minimum=0.0)
    if s.buffer_update_strategy not in _STRATEGIES:
        raise ValueError(f"buffer_update_strategy: must be one of {_STRATEGIES}, got "
                         f"{s.buffer_update_strategy!r}")
    if not isinstance(s.output_reference, bool):
        raise ValueError(f"output_reference: must be a bool, got {s.output_reference!r}")
    if s.reference_reset_after_chunks is not None:
        check_count("reference_reset_after_chunks", s.reference_reset_after_chunks, 0)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def interpolate_at(xp: Any, dev: Any, dtype: Any, rows: Any, t_src: np.ndarray, tau: np.ndarray,
                   fill_value: Any) -> Any:
    """The rows ``(N, C)`` (at host times ``t_src``, N >= 2) linearly interpolated at the
    host times ``tau``, on their device; ``fill_value`` outside (``reference_weights``)."""
    i0, i1, w, outside, fill = _rs.reference_weights(t_src, tau, fill_value)
    idt = index_dtype(xp, rows)
    y = _rs.linear_interp(xp, rows, asarray(xp, i0, dtype=idt, device=dev),
                          asarray(xp, i1, dtype=idt, device=dev),
                          asarray(xp, w[:, None], dtype=dtype, device=dev))
    if outside is None:
        return y
    fills = asarray(xp, np.ascontiguousarray(np.broadcast_to(fill[:, None], tuple(y.shape))),
                    dtype=dtype, device=dev)
    return xp.where(asarray(xp, outside[:, None], device=dev), fills, y)


def _take(xp: Any, x: Any, rows: np.ndarray, dev: Any) -> Any:
    """Rows ``rows`` (host indices) of ``x`` (a new array)."""
    return xp.take(x, asarray(xp, rows, dtype=index_dtype(xp, x), device=dev), axis=0)


def axis_times(message: AxisArray, axis: str, n: int) -> tuple[np.ndarray, float | None]:
    """(host float64 times of the ``n`` samples along ``axis``, the LinearAxis gain or None)."""
    ax = message.axes.get(axis)
    if isinstance(ax, LinearAxis):
        return ax.offset + ax.gain * np.arange(n, dtype=np.float64), ax.gain
    if isinstance(ax, CoordinateAxis):
        return np.asarray(ax.data, dtype=np.float64).reshape(-1), None
    raise ValueError(f"axis: dim {axis!r} has no LinearAxis or CoordinateAxis to read sample "
                     f"times from")


class ReferenceMode:
    """Mixin of ``ResampleTransformer``: ``push_reference`` and the reference-mode step."""

    def push_reference(self, message: AxisArray) -> None:
        """Queue the reference message's timestamps (its stream dim) as output times."""
        s, st = self.settings, self._state
        if s.resample_rate is not None:  # the peer's outputs do not depend on it either
            if not st.ref_ignored:
                st.ref_ignored = True
                ez.logger.warning("resample: a reference stream is used only in reference "
                                  "mode (resample_rate=None); ignored")
            return
        axis = self._axis(message)
        n = message.data.shape[message.dims.index(axis)] if axis in message.dims else 0
        times, st.ref_gain = axis_times(message, axis, n)
        if times.size == 0:
            return
        if times.max() <= st.ref_hwm:
            st.ref_stale += 1
            limit = s.reference_reset_after_chunks
            if limit is not None and st.ref_stale >= limit:
                warnings.warn(f"resample: the reference clock jumped back and stayed behind the "
                              f"last output for {st.ref_stale} messages; re-anchoring to it "
                              f"(output is discontinuous)", RuntimeWarning, stacklevel=2)
                st.ref_hwm, st.ref_stale = float(np.nextafter(times[0], -np.inf)), 0
        else:
            st.ref_stale = 0
        keep = times > st.ref_hwm
        st.ref_t = times[keep] if st.ref_t is None else np.concatenate((st.ref_t, times[keep]))
        if s.output_reference:  # its rows, in lockstep with ref_t (copies: no input is kept)
            rxp, rdev = namespace_and_device(message.data)
            rix = message.dims.index(axis)
            r2 = _axes.to_time_major(rxp, message.data, rix)[0]
            rows = copy(r2) if keep.all() else _take(rxp, r2, np.flatnonzero(keep), rdev)
            st.ref_rows = rows if st.ref_rows is None else rxp.concat((st.ref_rows, rows), axis=0)
            shape = tuple(0 if i == rix else k for i, k in enumerate(message.data.shape))
            st.ref_template = replace_fields(
                message, data=zeros(rxp, shape, dtype=message.data.dtype, device=rdev))

    def _reference_process(self, message: AxisArray, x: Any, ix: int, xp: Any, dev: Any,
                           dtype: Any) -> AxisArray:
        """Reference mode's ``_process``: ``x`` is the message's data in the compute dtype."""
        st = self._state
        x2, rest = _axes.to_time_major(xp, x, ix)
        times = axis_times(message, st.axis, x.shape[ix])[0]
        y2, new_ax = self._reference_step(xp, dev, dtype, x2, times, message.axes[st.axis].unit)
        # The layout for outputs a later reference completes (no reference to x is kept).
        shape = tuple(0 if i == ix else n for i, n in enumerate(x.shape))
        st.template = replace_fields(message, data=zeros(xp, shape, dtype=dtype, device=dev))
        return replace_fields(message, data=_axes.from_time_major(xp, y2, rest, ix),
                              axes={**message.axes, st.axis: new_ax})

    def drain_reference(self) -> AxisArray | None:
        """The outputs that pushed references complete with the signal already received (None
        when there are none): the Unit publishes them as soon as a reference arrives."""
        st = self._state
        if st.template is None or st.method != "reference":
            return None
        tmpl = st.template
        xp, dev = namespace_and_device(tmpl.data)
        ix = tmpl.dims.index(st.axis)
        x2, rest = _axes.to_time_major(xp, tmpl.data, ix)
        y2, new_ax = self._reference_step(xp, dev, tmpl.data.dtype, x2, np.zeros(0),
                                          tmpl.axes[st.axis].unit)
        if y2.shape[0] == 0:
            return None
        return replace_fields(tmpl, data=_axes.from_time_major(xp, y2, rest, ix),
                              axes={**tmpl.axes, st.axis: new_ax})

    def _reference_step(self, xp: Any, dev: Any, dtype: Any, x2: Any, times: np.ndarray,
                        unit: str) -> tuple[Any, Any]:
        """(outputs ``(M, C)``, their axis) after appending the signal rows ``x2``."""
        st, s = self._state, self.settings
        st.reference_output = None
        if x2.shape[0]:
            st.buf = x2 if st.buf is None else xp.concat((st.buf, x2), axis=0)
            st.src_t = times if st.src_t is None else np.concatenate((st.src_t, times))
        ready = None
        if st.ref_t is not None and st.src_t is not None and st.src_t.shape[0] >= 3:
            ready = (st.ref_t > st.ref_hwm) & (st.ref_t <= st.src_t[-1])
        if ready is None or not ready.any():
            self._trim()
            nxt = st.ref_t[0] if st.ref_t is not None and st.ref_t.size else st.ref_hwm
            return x2[0:0, ...], self._ref_axis(np.zeros(0), nxt, unit)
        tau = st.ref_t[ready]
        y = interpolate_at(xp, dev, dtype, st.buf, st.src_t, tau, s.fill_value)
        st.ref_hwm = float(tau[-1])
        out_ax = self._ref_axis(tau, tau[0], unit)
        if st.ref_rows is not None:
            self._gather_reference(np.flatnonzero(ready), np.flatnonzero(st.ref_t > st.ref_hwm),
                                   out_ax)
        st.ref_t = st.ref_t[st.ref_t > st.ref_hwm]
        self._trim()
        return y, out_ax

    def _gather_reference(self, emitted: np.ndarray, pending: np.ndarray, out_ax: Any) -> None:
        """``output_reference``: the reference rows of the emitted times, on the output's axis
        (``state.reference_output``); the pending rows stay."""
        st = self._state
        tmpl = st.ref_template
        rxp, rdev = namespace_and_device(tmpl.data)
        rix = tmpl.dims.index(st.axis)
        inner = _axes.to_time_major(rxp, tmpl.data, rix)[1]
        rows = _take(rxp, st.ref_rows, emitted, rdev)
        st.ref_rows = _take(rxp, st.ref_rows, pending, rdev)
        st.reference_output = replace_fields(
            tmpl, data=_axes.from_time_major(rxp, rows, inner, rix),
            axes={**tmpl.axes, st.axis: out_ax})

    def _trim(self) -> None:
        """Drop signal rows no later output can need: those before the last two at or before
        the high-water mark, and those older than ``buffer_duration`` (keeping 3 rows)."""
        st = self._state
        if st.src_t is None:
            return
        n = st.src_t.shape[0]
        keep = int(np.searchsorted(st.src_t, st.ref_hwm, side="right")) - 2
        cut = st.src_t[-1] - self.settings.buffer_duration
        keep = max(0, min(max(keep, int(np.searchsorted(st.src_t, cut))), n - 3))
        if keep:
            st.buf, st.src_t = st.buf[keep:, ...], st.src_t[keep:]

    def _ref_axis(self, tau: np.ndarray, first: float, unit: str) -> Any:
        st = self._state
        if st.ref_gain is not None:
            offset = first if math.isfinite(first) else 0.0
            return LinearAxis(gain=st.ref_gain, offset=offset, unit=unit)
        return CoordinateAxis(data=tau, dims=[st.axis], unit=unit)
