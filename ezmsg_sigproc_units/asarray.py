"""Move a stream onto another array backend and/or device at a pipeline boundary.

Every other processor keeps data in the namespace and on the device it arrives in; this is the
one that changes them (through DLPack where the two libraries support it). Metadata (dims,
axes, attrs, key) passes through untouched.
"""

from __future__ import annotations

import enum
from typing import Any

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import DTYPE_NAMES as _DTYPE_NAMES
from ._backend import (
    dtype_from_name,
    installed_backends,
    materialize,
    move,
    resolve,
    set_mlx_cache_limit,
)
from ._messages import replace_data
from ._processors import StatelessTransformer
from ._units import TransformerUnit


class ArrayBackend(str, enum.Enum):
    """The array libraries a stream can be moved to (values are the library names)."""

    numpy = "numpy"
    array_api_strict = "array_api_strict"
    torch = "torch"
    jax = "jax"
    mlx = "mlx"
    cupy = "cupy"

    def __str__(self) -> str:
        return self.value


class AsArraySettings(ez.Settings):
    backend: ArrayBackend = ArrayBackend.numpy
    """Target array library (an ``ArrayBackend`` or its name). It must be installed.
    Default ``ArrayBackend.numpy``."""

    dtype: str | None = None
    """Cast to this dtype by name (e.g. ``"float32"``) after the move; None keeps the input's
    dtype. Default None."""

    mlx_cache_limit_mb: float | None = 512.0
    """For ``backend="mlx"``: limit of MLX's buffer cache in megabytes, applied once when the
    first message arrives (process-wide); None leaves MLX's setting alone. Default 512.0."""

    device: str | None = None
    """Target device as the library names it (``"cuda:0"``, ``"cpu"``, ``"device1"`` for
    array-api-strict's test device ...); None is the library's default device. Default None.
    (An addition to ezmsg-sigproc's settings.)"""

    def __post_init__(self) -> None:
        try:
            backend = ArrayBackend(self.backend)
        except ValueError:
            raise ValueError(
                f"backend: unknown backend {self.backend!r}; choose one of "
                f"{', '.join(b.value for b in ArrayBackend)}"
            ) from None
        if backend.value not in installed_backends():
            raise ValueError(
                f"backend: {backend.value!r} is not installed here; installed: "
                f"{', '.join(installed_backends())}"
            )
        object.__setattr__(self, "backend", backend)
        if self.dtype is not None:
            key = str(self.dtype).rsplit(".", 1)[-1].lower()
            if key not in _DTYPE_NAMES:
                raise ValueError(
                    f"dtype: unknown dtype name {self.dtype!r}; choose one of "
                    f"{', '.join(_DTYPE_NAMES)} or None"
                )
        mb = self.mlx_cache_limit_mb
        if mb is not None and (not isinstance(mb, (int, float)) or not mb >= 0):
            raise ValueError(f"mlx_cache_limit_mb: must be a number >= 0 or None, got {mb!r}")
        if self.device is not None and not isinstance(self.device, str):
            raise ValueError(f"device: must be a device name (str) or None, got {self.device!r}")


class AsArrayTransformer(StatelessTransformer[AsArraySettings, AxisArray, AxisArray]):
    """Move each message's data to ``settings.backend`` on ``settings.device`` (cast to
    ``settings.dtype`` if given). The target is resolved on the first message; an unavailable
    device raises ``ValueError`` listing the available ones. MLX output is materialised."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._target: tuple[Any, Any, Any] | None = None
        self._target_for: AsArraySettings | None = None

    def _resolve_target(self) -> tuple[Any, Any, Any]:
        s = self.settings
        xp, device = resolve(ArrayBackend(s.backend).value, s.device)
        dtype = dtype_from_name(xp, s.dtype)
        if ArrayBackend(s.backend) is ArrayBackend.mlx:
            set_mlx_cache_limit(s.mlx_cache_limit_mb)
        self._target, self._target_for = (xp, device, dtype), s
        return self._target

    def _process(self, message: AxisArray) -> AxisArray:
        if self._target_for is self.settings:
            xp, device, dtype = self._target
        else:
            xp, device, dtype = self._resolve_target()
        return replace_data(message, materialize(move(message.data, xp, device, dtype)))


class AsArray(TransformerUnit[AsArraySettings, AxisArray, AxisArray, AsArrayTransformer]):
    SETTINGS = AsArraySettings
