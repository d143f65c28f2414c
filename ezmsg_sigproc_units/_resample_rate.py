"""Resample's rate mode (``resample_rate`` set): polyphase or linear steps, and the
``max_chunk_delay`` extrapolation.

``extrapolate()`` is what the Unit calls when no input has arrived for ``max_chunk_delay``
seconds: the outputs still pending (their time at or before the last input, which the
polyphase filter holds for its look-ahead) and those up to ``max_chunk_delay`` past the last
input leave at once, linearly interpolated from the last inputs (extrapolated past the last
one as ``fill_value`` says). Outputs at those times are then never emitted again: later inputs
resume the grid after them, as the peer's high-water mark does. Once per gap in the input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import namespace_and_device
from ._kernels import axes as _axes
from ._kernels import resampling as _rs
from ._messages import replace_fields
from ._resample_reference import interpolate_at


class RateMode:
    """Mixin of ``ResampleTransformer``: the rate-mode step and ``extrapolate``."""

    def _rate_process(self, message: AxisArray, x: Any, ix: int, xp: Any, dev: Any,
                      dtype: Any) -> AxisArray:
        """Rate mode's ``_process``: ``x`` is the message's data in the compute dtype."""
        st, rate = self._state, self.settings.resample_rate
        ax = message.axes[st.axis]
        t = x.shape[ix]
        if st.t0 is None and t > 0:
            st.t0 = ax.offset if st.gain_in is not None else float(ax.data[0])
        if t > 0:
            st.extrapolated = False
        # (T, C): time first, the other dims flattened
        x2, rest = _axes.to_time_major(xp, x, ix)
        if st.method == "polyphase":
            y2 = self._polyphase(xp, dev, dtype, x2, t)
        else:
            y2 = self._linear(xp, dev, dtype, x2, t, ax)
        first = st.n_out - y2.shape[0]
        t0 = st.t0 if st.t0 is not None else (ax.offset if st.gain_in is not None else 0.0)
        new_ax = LinearAxis(gain=1.0 / rate, offset=t0 + first / rate, unit=ax.unit)
        out = replace_fields(message, data=_axes.from_time_major(xp, y2, rest, ix),
                             axes={**message.axes, st.axis: new_ax})
        if self.settings.max_chunk_delay is not None:
            st.template = out  # our own output: the layout extrapolate() fills
        return out

    def _polyphase(self, xp: Any, dev: Any, dtype: Any, x2: Any, t: int) -> Any:
        st = self._state
        if st.buf is None:
            st.buf = _rs.polyphase_zero_state(xp, st.design, x2.shape[1], dtype=dtype,
                                              device=dev)
        plan = _rs.polyphase_plan(xp, st.design, st.n_in, st.n_out, t, dtype=dtype, device=dev)
        y2, st.buf = _rs.polyphase_filter(xp, plan, x2, st.buf)
        st.n_in += t
        st.n_out += plan.n_out
        return y2

    def _linear(self, xp: Any, dev: Any, dtype: Any, x2: Any, t: int, ax: Any) -> Any:
        st, rate = self._state, self.settings.resample_rate
        if t == 0:
            return x2
        # Host metadata only: sample times (never the data) decide rows and weights.
        if st.gain_in is not None:
            times = st.t0 + (st.n_in + np.arange(t)) * st.gain_in
        else:
            times = np.asarray(ax.data, dtype=np.float64)
        t_ext = times if st.last_t is None else np.concatenate((st.last_t, times))
        if not np.all(np.diff(t_ext) > 0):
            raise ValueError(f"axis: timestamps on dim {st.axis!r} must increase strictly")
        ext = x2 if st.buf is None else xp.concat((st.buf, x2), axis=0)
        k_end = int(math.floor((t_ext[-1] - st.t0) * rate)) + 2
        while k_end > st.n_out and st.t0 + (k_end - 1) / rate > t_ext[-1]:
            k_end -= 1
        st.n_in += t
        # the last two inputs (their line is what extrapolate() continues)
        st.buf, st.last_t = ext[max(0, ext.shape[0] - 2) :, ...], t_ext[-2:]
        if k_end <= st.n_out:
            return x2[0:0, ...]
        tau = st.t0 + np.arange(st.n_out, k_end) / rate
        st.n_out = k_end
        i0, i1, w = _rs.linear_weights(xp, t_ext, tau, dtype=dtype, device=dev)
        return _rs.linear_interp(xp, ext, i0, i1, w)

    def extrapolate(self) -> AxisArray | None:
        """``max_chunk_delay`` elapsed without input: the pending outputs and those up to
        ``max_chunk_delay`` past the last input, from the last inputs' line (``fill_value``
        past it), as one message; None when there is nothing to emit (no delay set, reference
        mode, fewer than two inputs, or already done since the last input)."""
        s, st = self.settings, self._state
        delay, rate, tmpl = s.max_chunk_delay, s.resample_rate, st.template
        if delay is None or rate is None or tmpl is None or st.extrapolated:
            return None
        if st.method == "polyphase":
            k = st.design.n_phase_taps - 1
            valid = min(st.n_in, k)
            rows = st.buf[k - valid :, ...]
            t_src = st.t0 + (st.n_in - valid + np.arange(valid)) * st.gain_in
        elif st.method == "linear" and st.buf is not None:
            rows, t_src = st.buf, st.last_t
        else:
            return None
        if rows.shape[0] < 2:
            return None
        k_last = int(math.floor((t_src[-1] - st.t0) * rate + 1e-9))  # last grid point <= input
        k_end = k_last + 1 + math.ceil(delay * rate - 1e-9)
        if k_end <= st.n_out:
            return None
        xp, dev = namespace_and_device(rows)
        tau = st.t0 + np.arange(st.n_out, k_end) / rate
        y2 = interpolate_at(xp, dev, rows.dtype, rows, t_src, tau, s.fill_value)
        ix = tmpl.dims.index(st.axis)
        rest = _axes.to_time_major(xp, tmpl.data, ix)[1]
        ax = tmpl.axes[st.axis]
        new_ax = LinearAxis(gain=ax.gain, offset=st.t0 + st.n_out / rate, unit=ax.unit)
        st.n_out, st.extrapolated = k_end, True
        return replace_fields(tmpl, data=_axes.from_time_major(xp, y2, rest, ix),
                              axes={**tmpl.axes, st.axis: new_ax})
