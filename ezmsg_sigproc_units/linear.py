"""Affine map ``y = x * scale + offset`` with scalar or per-channel coefficients."""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
import numpy as np
import numpy.typing as npt
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.baseproc.util.streamdim import resolve_feature_dim
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import array_namespace, asarray, float_dtype_for, namespace_and_device
from ._kernels.elementwise import as_float
from ._messages import axis_index, replace_data
from ._processors import SettingsByValueMixin, StreamAxisMixin, stream_axis
from ._units import TransformerUnit


def _coefficients(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 host array; ValueError naming ``name`` if it is not real numbers."""
    try:
        host = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: must be a number or an array of numbers, got {value!r}") from exc
    if host.dtype.kind not in "biuf":
        raise ValueError(f"{name}: must be real numbers, got dtype {host.dtype} from {value!r}")
    host = host.astype(np.float64)
    if not np.all(np.isfinite(host)):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    return host


class LinearTransformSettings(ez.Settings):
    scale: float | list[float] | npt.ArrayLike = 1.0
    """Multiplier: a number (all samples), a 1-D sequence (one value per element of ``axis``)
    or an array broadcastable to the message's trailing dims. Default 1.0."""

    offset: float | list[float] | npt.ArrayLike = 0.0
    """Added after scaling; same forms as ``scale``. Default 0.0."""

    axis: str | None = None
    """Dim a 1-D ``scale``/``offset`` runs along. None (default): the last dim that is not the
    message's declared ``stream_dim`` (the last dim when none is declared)."""

    def __post_init__(self) -> None:
        _coefficients("scale", self.scale)
        _coefficients("offset", self.offset)
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")


@processor_state
class LinearTransformState:
    scale: Any = None
    """Python float, or a device array shaped to broadcast against the data."""

    offset: Any = None
    """Python float, or a device array shaped to broadcast against the data."""


class LinearTransformTransformer(
    SettingsByValueMixin,
    StreamAxisMixin,
    BaseStatefulTransformer[LinearTransformSettings, AxisArray, AxisArray, LinearTransformState],
):
    """``y = x * scale + offset`` in the input's float dtype (integer input: default float).

    Coefficient arrays are built once per reset on the data's device. State resets by the
    shared rule (``StreamAxisMixin``: the message layout, its namespace, device or dtype) and
    when the length of the coefficient axis changes.
    """

    _spec: tuple[Any, np.ndarray, np.ndarray, int] | None = None

    def _host_coefficients(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(scale, offset, max ndim), converted once per settings object."""
        spec = self._spec
        if spec is None or spec[0] is not self.settings:
            s = _coefficients("scale", self.settings.scale)
            o = _coefficients("offset", self.settings.offset)
            spec = self._spec = (self.settings, s, o, max(s.ndim, o.ndim))
        return spec[1], spec[2], spec[3]

    def _axis(self, message: AxisArray) -> str:
        # The reset rule's axis is the streaming dim; ``settings.axis`` names the coefficient
        # dim (``_coef_axis``), which is hashed with every other dim.
        return stream_axis(self, message, None)

    def _coef_axis(self, message: AxisArray) -> str:
        axis = self.settings.axis
        return axis if axis is not None else resolve_feature_dim(message)

    def _reset_extra(self, message: AxisArray) -> tuple:
        # The coefficients' extent, even along the streaming dim (a per-sample scale).
        spec = self._spec  # _host_coefficients inlined: this runs on every message
        k = spec[3] if spec is not None and spec[0] is self.settings else (
            self._host_coefficients()[2])
        if not k:
            return ()
        if k == 1:
            axis = self._coef_axis(message)
            return (message.data.shape[message.dims.index(axis)] if axis in message.dims
                    else None,)
        return (tuple(message.data.shape[-k:]),)

    def _reset_state(self, message: AxisArray) -> None:
        scale, offset, k = self._host_coefficients()
        x = message.data
        xp, dev = namespace_and_device(x)
        dtype = float_dtype_for(xp, x.dtype, dev)
        if xp.isdtype(dtype, "complex floating"):  # real coefficients for complex data
            dtype = xp.float32 if dtype == xp.complex64 else xp.float64
        ix = None
        if k == 1 or self.settings.axis is not None:
            ix = axis_index(message, self._coef_axis(message))
        self._state.scale = self._place("scale", scale, message, ix, xp, dev, dtype)
        self._state.offset = self._place("offset", offset, message, ix, xp, dev, dtype)

    @staticmethod
    def _place(name, host, message, ix, xp, dev, dtype) -> Any:
        """A Python float for scalars, else a device array shaped to broadcast."""
        if host.ndim == 0:
            return float(host)
        shape = tuple(message.data.shape)
        if host.ndim == 1:
            n = shape[ix]
            if host.shape[0] != n:
                raise ValueError(
                    f"{name}: has {host.shape[0]} values but axis {message.dims[ix]!r} has "
                    f"length {n}"
                )
            bshape = [1] * len(shape)
            bshape[ix] = n
            host = host.reshape(bshape)
        elif host.ndim > len(shape) or any(
            h not in (1, s) for h, s in zip(host.shape[::-1], shape[::-1], strict=False)
        ):
            raise ValueError(
                f"{name}: shape {host.shape} does not broadcast to the message's shape {shape} "
                f"(dims {list(message.dims)})"
            )
        return asarray(xp, host, dtype=dtype, device=dev)

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        y = as_float(xp, message.data)
        scale, offset = self._state.scale, self._state.offset
        if not (isinstance(scale, float) and scale == 1.0):
            y = y * scale
        if not (isinstance(offset, float) and offset == 0.0):
            y = y + offset
        return replace_data(message, y)


class LinearTransform(
    TransformerUnit[
        LinearTransformSettings, AxisArray, AxisArray, LinearTransformTransformer
    ]
):
    SETTINGS = LinearTransformSettings
