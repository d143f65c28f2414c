"""Moving arrays between backends and devices: the one place where cross-backend transfer is
intended (``AsArrayTransformer`` at a pipeline boundary). Everything else keeps data where it is.

* Same namespace: the device changes with the library's own call (``torch .to``, ``jax.device_put``,
  ``to_device``); nothing happens when the array is already there.
* Different namespaces: DLPack (``xp.from_dlpack``), zero-copy where both sides share memory;
  only when DLPack is unsupported for the pair (e.g. host memory into a GPU library) or would
  change the dtype (MLX imports float64 as float32) does the data go through ``to_host`` and
  ``asarray`` with the source's dtype.

A read-only NumPy array (ezmsg's cross-process messages are read-only views into reused shared
memory) is copied before it is handed to another library, so the result never aliases memory
that the transport will overwrite.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .creation import asarray
from .dtypes import dtype_from_name, dtype_name
from .host import to_host
from .namespace import array_namespace, backend_name

# What a library raises when DLPack cannot carry an array to it (no protocol, unsupported
# device or dtype, read-only buffer).
_DLPACK_UNSUPPORTED = (AttributeError, TypeError, BufferError, RuntimeError, ValueError,
                       NotImplementedError)


def move(x: Any, xp: Any, device: Any, dtype: Any = None) -> Any:
    """``x`` as an array of namespace ``xp`` on ``device`` (from ``registry.resolve``), cast
    to ``dtype`` (a dtype of ``xp``) when given. Returns ``x`` itself when nothing changes."""
    if array_namespace(x) is not xp:
        x = _across(x, xp, device)
    x = to_device(x, xp, device)
    if dtype is not None and x.dtype != dtype:
        x = xp.astype(x, dtype)
    return x


def to_device(x: Any, xp: Any, device: Any) -> Any:
    """``x`` (already of namespace ``xp``) on ``device``; ``x`` itself if it is there."""
    name = backend_name(xp)
    if name in ("numpy", "mlx") or device is None:
        return x  # host-only / unified memory: a single place
    if name == "torch":
        return x.to(device)
    if name == "jax":
        import jax

        return x if x.devices() == {device} else jax.device_put(x, device)
    if name == "array_api_strict":
        return x if x.device == device else x.to_device(device)
    return array_api_compat.to_device(x, device)


def _across(x: Any, xp: Any, device: Any) -> Any:
    """``x`` in namespace ``xp`` with the same dtype (on the device DLPack puts it on)."""
    if type(x) is np.ndarray and not x.flags.writeable:
        x = x.copy()
    want = dtype_name(x.dtype)
    from_dlpack = getattr(xp, "from_dlpack", None)
    if from_dlpack is not None:
        try:
            y = from_dlpack(x)
        except _DLPACK_UNSUPPORTED:
            y = None
        # MLX imports float64 as float32: a narrowed import is refused, never cast back.
        if y is not None and dtype_name(y.dtype) == want:
            return y
    return asarray(xp, to_host(x), dtype=dtype_from_name(xp, want), device=device)


def set_mlx_cache_limit(mb: float | None) -> int | None:
    """Limit MLX's buffer cache to ``mb`` megabytes (None: leave it). Returns the previous
    limit in bytes, or None when nothing was changed."""
    if mb is None:
        return None
    import mlx.core as mx

    setter = getattr(mx, "set_cache_limit", None)
    if setter is None:  # MLX < 0.24 kept it under mx.metal
        setter = mx.metal.set_cache_limit
    return int(setter(int(mb * 1024 * 1024)))
