"""Cartesian <-> polar coordinate conversion of 2-component data, and the array functions
behind it (any backend's arrays; the namespace comes from the inputs)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc.util.streamdim import resolve_feature_dim
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ._backend import array_namespace, asarray, is_float_dtype, namespace_and_device
from ._backend.portable import is_array
from ._kernels import coordinates
from ._messages import axis_index, replace_data, replace_fields
from ._processors import StatelessTransformer
from ._units import TransformerUnit


def _operands(*values: Any) -> tuple[Any, list, bool]:
    """(namespace, the values as its arrays, whether all were plain scalars). Python or NumPy
    scalars and sequences are accepted as the peer's functions accept them: beside an array
    they join its namespace, device and float dtype; alone they compute in NumPy."""
    arrays = [v for v in values if is_array(v)]
    if not arrays:
        host = [np.asarray(v) for v in values]
        return array_namespace(*host), host, all(h.ndim == 0 for h in host)
    array_namespace(*arrays)  # TypeError for arrays of different namespaces
    xp, dev = namespace_and_device(arrays[0])
    dtype = arrays[0].dtype if is_float_dtype(xp, arrays[0].dtype) else None
    return xp, [v if is_array(v) else asarray(xp, np.asarray(v), dtype=dtype, device=dev)
                for v in values], False


def _out(result: Any, scalar: bool) -> Any:
    """0-d NumPy results of scalar input as NumPy scalars (as the peer returns them)."""
    if not scalar:
        return result
    if isinstance(result, tuple):
        return tuple(r[()] for r in result)
    return result[()]


def _apply(fn: Any, *values: Any) -> Any:
    xp, arrays, scalar = _operands(*values)
    return _out(fn(xp, *arrays), scalar)


def polar2z(r: Any, theta: Any) -> Any:
    """Complex ``r * exp(i theta)`` (complex64 for float32 input, complex128 for float64).
    Arrays of any backend, or Python/NumPy scalars (as every function here)."""
    return _apply(coordinates.polar2z, r, theta)


def z2polar(z: Any) -> tuple[Any, Any]:
    """``(|z|, angle(z))`` of complex ``z``; angle in ``(-pi, pi]``."""
    return _apply(coordinates.z2polar, z)


def cart2z(x: Any, y: Any) -> Any:
    """Complex ``x + i y``."""
    return _apply(coordinates.cart2z, x, y)


def z2cart(z: Any) -> tuple[Any, Any]:
    """``(real(z), imag(z))``."""
    return _apply(coordinates.z2cart, z)


def cart2pol(x: Any, y: Any) -> tuple[Any, Any]:
    """``(r, theta)``: ``r = hypot(x, y)``, ``theta = atan2(y, x)`` in ``(-pi, pi]``."""
    return _apply(coordinates.cart2pol, x, y)


def pol2cart(r: Any, theta: Any) -> tuple[Any, Any]:
    """``(r cos theta, r sin theta)``."""
    return _apply(coordinates.pol2cart, r, theta)


class CoordinateMode(str, Enum):
    """Direction of the conversion."""

    CART2POL = "cart2pol"
    """(x, y) -> (r, theta)."""

    POL2CART = "pol2cart"
    """(r, theta) -> (x, y)."""


_LABELS = {CoordinateMode.CART2POL: ("r", "theta"), CoordinateMode.POL2CART: ("x", "y")}


class CoordinateSpacesSettings(ez.Settings):
    mode: CoordinateMode = CoordinateMode.CART2POL
    """``CART2POL`` (default): components (x, y) become (r, theta), theta in radians in
    ``(-pi, pi]``. ``POL2CART``: (r, theta) become (x, y). The plain strings work too."""

    axis: str | None = None
    """Dim holding the two components (must have length 2). None (default): the last dim that
    is not the message's declared ``stream_dim`` (the last dim when none is declared)."""

    def __post_init__(self) -> None:
        try:
            CoordinateMode(self.mode)
        except ValueError:
            raise ValueError(
                f"mode: must be one of {[m.value for m in CoordinateMode]}, got {self.mode!r}"
            ) from None
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")


class CoordinateSpacesTransformer(
    StatelessTransformer[CoordinateSpacesSettings, AxisArray, AxisArray]
):
    """Convert the two components along ``axis``; the output keeps the input's dims and shape.
    A CoordinateAxis on the component dim is relabelled ("r", "theta") or ("x", "y").
    Integer input is computed in float."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Relabelled component axes, built once and reused so downstream hashes can match
        # them by identity: (mode, dims, unit) -> CoordinateAxis.
        self._label_axes: dict[tuple, CoordinateAxis] = {}

    def _labels(self, mode: CoordinateMode, ax: CoordinateAxis) -> CoordinateAxis:
        key = (mode, tuple(ax.dims), ax.unit)
        out = self._label_axes.get(key)
        if out is None:
            out = CoordinateAxis(data=np.array(_LABELS[mode]), dims=list(ax.dims), unit=ax.unit)
            self._label_axes[key] = out
        return out

    def _process(self, message: AxisArray) -> AxisArray:
        s = self.settings
        axis = s.axis if s.axis is not None else resolve_feature_dim(message)
        ix = axis_index(message, axis)
        n = message.data.shape[ix]
        if n != 2:
            raise ValueError(
                f"axis: dim {axis!r} must hold the 2 coordinate components, but has length {n}"
            )
        xp = array_namespace(message.data)
        mode = CoordinateMode(s.mode)
        if mode is CoordinateMode.CART2POL:
            data = coordinates.cart2pol_along(xp, message.data, ix)
        else:
            data = coordinates.pol2cart_along(xp, message.data, ix)
        ax = message.axes.get(axis)
        if isinstance(ax, CoordinateAxis):
            axes = dict(message.axes)
            axes[axis] = self._labels(mode, ax)
            return replace_fields(message, data=data, axes=axes)
        return replace_data(message, data)


class CoordinateSpaces(
    TransformerUnit[
        CoordinateSpacesSettings, AxisArray, AxisArray, CoordinateSpacesTransformer
    ]
):
    SETTINGS = CoordinateSpacesSettings
