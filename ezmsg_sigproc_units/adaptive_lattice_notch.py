"""Adaptive lattice notch filter: tracks and removes one narrow-band interferer per channel.

A second-order lattice notch whose reflection coefficient ``k`` follows the strongest narrow
line (Tan & Jiang style gradient tracking, see the reference in the transformer). The output
is the filtered signal; the tracked frequency of every sample rides along as a ``"freq"``
CoordinateAxis (Hz).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ._backend import asarray, default_float, namespace_and_device, to_host
from ._kernels import lattice_notch as kernel
from ._lnc_common import restore, time_channels
from ._messages import axis_index, replace_data, replace_fields
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_rank

__all__ = [
    "AdaptiveLatticeNotchFilterSettings",
    "AdaptiveLatticeNotchFilterState",
    "AdaptiveLatticeNotchFilterTransformer",
    "AdaptiveLatticeNotchFilterUnit",
]

_DEFAULT_FRACTION = 0.07178314656435313
"""Initial notch frequency as a fraction of fs when ``init_notch_freq`` is None (the peer's)."""


def _unit_interval(name: str, value: Any, *, open_top: bool = False) -> None:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float))
          and math.isfinite(value) and 0.0 <= value and (value < 1.0 if open_top else
                                                         value <= 1.0))
    if not ok:
        top = "1)" if open_top else "1]"
        raise ValueError(f"{name}: must be a real number in [0, {top}, got {value!r}")


class AdaptiveLatticeNotchFilterSettings(ez.Settings):
    gamma: float = 0.995
    """Pole-zero contraction factor in [0, 1): the poles sit at radius sqrt(gamma) behind the
    zeros on the unit circle; closer to 1 gives a narrower notch. Default 0.995."""

    mu: float = 0.99
    """Smoothing factor in [0, 1] of the reflection coefficient (1 freezes it). Default 0.99."""

    eta: float = 0.99
    """Forgetting factor in [0, 1] of the averaged products that estimate the coefficient.
    Default 0.99."""

    axis: str | None = None
    """Dim to filter along. None (default) follows the message's ``stream_dim``, else
    ``"time"``."""

    init_notch_freq: float | None = None
    """Initial notch frequency in Hz (below Nyquist). None (default): 0.0718 x fs."""

    chunkwise: bool = False
    """Opt-in approximation: hold each channel's coefficient fixed over a chunk and update it
    once from the chunk's end, so the output depends on the chunking. Default False (exact
    per-sample adaptation, independent of chunking)."""

    emit_freq: bool = dataclasses.field(default=True, kw_only=True)
    """Keyword-only (ours). True (default, the peer's output): attach the ``"freq"``
    CoordinateAxis, copied to host NumPy like every coordinate axis (one device-to-host copy
    of the chunk's track). False: no ``"freq"`` axis and no host transfer."""

    def __post_init__(self) -> None:
        _unit_interval("gamma", self.gamma, open_top=True)
        _unit_interval("mu", self.mu)
        _unit_interval("eta", self.eta)
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if self.init_notch_freq is not None:
            v = self.init_notch_freq
            if (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                    or v < 0):
                raise ValueError(f"init_notch_freq: must be a finite frequency >= 0 in Hz or "
                                 f"None, got {v!r}")
        for name in ("chunkwise", "emit_freq"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: must be a bool, got {getattr(self, name)!r}")


@processor_state
class AdaptiveLatticeNotchFilterState:
    lattice: Any = None
    """``(5, C)`` on the data's device in the compute dtype: rows s[n-2], s[n-1], p, q, k
    (``C`` = product of the non-time dims)."""

    coef: Any = None
    """``(6,)`` on the device: gamma, 1 + gamma, eta, 1 - eta, mu, 1 - mu."""

    coef_key: tuple | None = None
    """(gamma, eta, mu) that ``coef`` was built from (they are read live)."""

    fs: float = 1.0
    """Sampling rate of the stream (Hz)."""


class AdaptiveLatticeNotchFilterTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[AdaptiveLatticeNotchFilterSettings, AxisArray, AxisArray,
                            AdaptiveLatticeNotchFilterState],
):
    """Adaptive lattice notch (https://doi.org/10.1186/1475-925X-13-170). Output: the filtered
    data in the input's layout, dtype and device, with a ``"freq"`` CoordinateAxis (host
    NumPy, in the input's float dtype) holding the tracked notch frequency (Hz) of every
    sample, time first then the other dims (``emit_freq=False`` drops it).

    The adaptation is a per-sample nonlinear recursion, computed exactly (float64 where the
    device has it), so any chunking gives the same output. ``gamma``, ``mu``, ``eta`` and
    ``chunkwise`` are read live; the state resets by the shared rule (``StreamAxisMixin``)."""

    NONRESET_SETTINGS_FIELDS = frozenset({"gamma", "mu", "eta", "chunkwise", "emit_freq"})

    def _reset_state(self, message: AxisArray) -> None:
        axis = self._axis(message)
        ix = axis_index(message, axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        fs = 1.0 / message.axes[axis].gain
        f0 = self.settings.init_notch_freq
        f0 = _DEFAULT_FRACTION * fs if f0 is None else f0
        c = math.prod(x.shape[:ix] + x.shape[ix + 1:])
        host = np.zeros((5, c))
        host[4] = -math.cos(2 * math.pi * f0 / fs)
        self._state.lattice = asarray(xp, host, dtype=default_float(xp, dev), device=dev)
        self._state.coef = self._state.coef_key = None
        self._state.fs = fs

    def _coef(self, xp: Any, dev: Any) -> Any:
        s = self.settings
        key = (s.gamma, s.eta, s.mu)
        if self._state.coef_key != key:
            vals = [s.gamma, 1 + s.gamma, s.eta, 1 - s.eta, s.mu, 1 - s.mu]
            self._state.coef = asarray(xp, np.array(vals), dtype=self._state.lattice.dtype,
                                       device=dev)
            self._state.coef_key = key
        return self._state.coef

    def _process(self, message: AxisArray) -> AxisArray:
        axis = self._axis(message)
        check_rank(message)  # before the lattice moves on
        xp, dev = namespace_and_device(message.data)
        st = self._state
        x2, layout = time_channels(xp, dev, message, axis, st.lattice.dtype)
        coef = self._coef(xp, dev)
        if self.settings.chunkwise:
            y, k, st.lattice = kernel.chunkwise_lattice(xp, x2, st.lattice, coef)
            k = xp.broadcast_to(xp.reshape(k, (1, k.shape[0])), y.shape)
        else:
            y, k, st.lattice = kernel.lattice_notch(xp, x2, st.lattice, coef)
        y = restore(xp, y, layout)
        if not self.settings.emit_freq:
            return replace_data(message, y)
        freq = xp.astype(kernel.frequency_hz(xp, k, st.fs), layout[2])
        freq = to_host(xp.reshape(freq, layout[1]))
        dims = [axis] + [d for d in message.dims if d != axis]
        axes = {**message.axes, "freq": CoordinateAxis(data=freq, dims=dims, unit="Hz")}
        return replace_fields(message, y, axes=axes)


class AdaptiveLatticeNotchFilterUnit(
    TransformerUnit[AdaptiveLatticeNotchFilterSettings, AxisArray, AxisArray,
                    AdaptiveLatticeNotchFilterTransformer]
):
    SETTINGS = AdaptiveLatticeNotchFilterSettings


