"""Turn a normalised signal (mean 0, sd 1) into positive rates with random per-channel gains
and offsets, e.g. to simulate firing rates."""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import DeviceRNG, float_dtype_for, namespace_and_device, zeros
from ._kernels import denormalize as dk
from ._messages import axis_index, replace_data
from ._processors import StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_real

Z_999 = 3.29
"""Two-sided 99.9% quantile of the standard normal: an input within +-3.29 sd maps to
``[0, 2 * offset]``."""


class DenormalizeSettings(ez.Settings):
    low_rate: float = 2.0
    """Lowest per-channel offset (rate, e.g. Hz) the draw may give. Default 2.0."""

    high_rate: float = 40.0
    """Highest per-channel offset the draw may give. Default 40.0."""

    distribution: str = "uniform"
    """How offsets are drawn per channel: "uniform" on ``[low_rate, high_rate]`` (default),
    "normal" (mean at the midpoint, sd a sixth of the range, clipped to it) or "constant"
    (the midpoint)."""

    seed: int | None = None
    """Seed of the draw. The numbers come from the data's own backend RNG on its device, so
    one seed gives the same offsets on one backend (and differs between backends and from
    the peer's NumPy draw). None (default): a fresh draw on every state reset."""

    def __post_init__(self) -> None:
        check_real("low_rate", self.low_rate)
        check_real("high_rate", self.high_rate)
        if self.low_rate > self.high_rate:
            raise ValueError(f"low_rate: {self.low_rate!r} is above high_rate "
                             f"{self.high_rate!r}")
        if self.distribution not in dk.N_NORMALS:
            raise ValueError(f"distribution: must be one of {list(dk.N_NORMALS)}, "
                             f"got {self.distribution!r}")
        if self.seed is not None and (isinstance(self.seed, bool)
                                      or not isinstance(self.seed, int) or self.seed < 0):
            raise ValueError(f"seed: must be None or an integer >= 0, got {self.seed!r}")


@processor_state
class DenormalizeState:
    gains: Any = None
    """Per-channel gains (``offsets / 3.29``), shaped to broadcast along "ch"; on the data's
    device in its float dtype."""

    offsets: Any = None
    """Per-channel offsets drawn at reset, same shape, device and dtype as ``gains``."""


class DenormalizeTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[DenormalizeSettings, AxisArray, AxisArray, DenormalizeState],
):
    """``y = max(x * gain + offset, 0)`` with one (gain, offset) per entry of the "ch" dim
    (``gain = offset / 3.29``: a standard-normal input stays within ``[0, 2 * offset]`` 99.9%
    of the time). Output keeps the input's float dtype (integer input: the default float).

    Offsets are drawn at each state reset (the shared rule: layout, namespace, device or dtype
    change) from the backend's own RNG on the data's device, seeded by ``seed``."""

    def _reset_state(self, message: AxisArray) -> None:
        ix = axis_index(message, "ch", field="ch")
        x = message.data
        xp, dev = namespace_and_device(x)
        dtype = float_dtype_for(xp, x.dtype, dev)
        n = x.shape[ix]
        s = self.settings
        k = dk.N_NORMALS[s.distribution]
        if k:
            z = DeviceRNG(xp, dev, s.seed).normal((k, n), dtype)
        else:
            z = zeros(xp, (1, n), dtype=dtype, device=dev)
        offsets = dk.rates(xp, z, s.distribution, float(s.low_rate), float(s.high_rate))
        shape = [1] * x.ndim
        shape[ix] = n
        self._state.offsets = xp.reshape(offsets, tuple(shape))
        self._state.gains = self._state.offsets / Z_999

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        return replace_data(message, dk.denormalize(
            namespace_and_device(message.data)[0], message.data, st.gains, st.offsets))


class DenormalizeUnit(TransformerUnit[DenormalizeSettings, AxisArray, AxisArray,
                                      DenormalizeTransformer]):
    SETTINGS = DenormalizeSettings

