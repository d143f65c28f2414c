"""Publish one of a message's axes (its coordinates) as the data."""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import asarray, default_float, is_numpy_namespace, namespace_and_device
from ._messages import axis_index, replace_fields
from ._processors import StatelessTransformer
from ._units import TransformerUnit


class ExtractAxisSettings(ez.Settings):
    axis: str = "freq"
    """The axis whose coordinates become the data. Default "freq"."""

    reference: str = "time"
    """For an axis without coordinate data (a LinearAxis): the dim whose length says how many
    values to produce (``offset + gain * i``); the output has this one dim. Default "time"."""

    def __post_init__(self) -> None:
        for name in ("axis", "reference"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v:
                raise ValueError(f"{name}: must be a dim name, got {v!r}")


def _numeric(a: np.ndarray) -> bool:
    return a.dtype.kind in "biuf"


class ExtractAxisData(StatelessTransformer[ExtractAxisSettings, AxisArray, AxisArray]):
    """The coordinates of ``axis`` as the data, on the input's namespace and device.

    * A CoordinateAxis gives its data with its dims, and the message's axes of those dims.
      Numeric coordinates move to the input's device in their own dtype (float64 falls back
      to the namespace's default float where it lacks float64); non-numeric coordinates
      (strings, structured labels) exist only on the host and stay NumPy arrays.
    * A LinearAxis gives ``offset + gain * arange(n)`` along ``reference`` (``n`` its length),
      computed in float64 on the host and moved to the device in the namespace's default
      float (float64 where available: coordinates such as timestamps need its precision).
    """

    def _process(self, message: AxisArray) -> AxisArray:
        s = self.settings
        ax = message.axes.get(s.axis)
        if ax is None:
            raise ValueError(f"axis: message has no axis {s.axis!r}; its axes are "
                             f"{list(message.axes)}")
        xp, dev = namespace_and_device(message.data)
        coords = getattr(ax, "data", None)
        if coords is not None:
            host = np.asarray(coords)
            data: Any = host
            if _numeric(host):
                dtype = getattr(xp, host.dtype.name)
                if host.dtype.kind == "f" and host.dtype.itemsize == 8:
                    dtype = default_float(xp, dev)
                data = asarray(xp, host, dtype=dtype, device=dev)
            dims = list(ax.dims)
            axes = {k: v for k, v in message.axes.items() if k in dims}
            return replace_fields(message, data, dims=dims, axes=axes)
        n = message.data.shape[axis_index(message, s.reference, field="reference")]
        ref_ax = message.axes.get(s.reference)
        if ref_ax is None:
            raise ValueError(f"reference: message has no axis {s.reference!r}")
        # Coordinates are host metadata: computed in float64 on the host (as the axis defines
        # them) and moved to the device in one transfer (cheaper than three eager device ops
        # on torch, JAX and MLX; exact float64 where the backend has it).
        data = np.arange(n, dtype=np.float64) * ax.gain + ax.offset
        if not is_numpy_namespace(xp):  # NumPy: the float64 host array is the output
            data = asarray(xp, data, dtype=default_float(xp, dev), device=dev)
        return replace_fields(message, data, dims=[s.reference], axes={s.reference: ref_ax})


class ExtractAxisDataUnit(TransformerUnit[ExtractAxisSettings, AxisArray, AxisArray,
                                          ExtractAxisData]):
    SETTINGS = ExtractAxisSettings
