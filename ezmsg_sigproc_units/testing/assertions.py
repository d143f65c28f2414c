"""One assertion that checks namespace, device, dtype and shape before values."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend.dtypes import dtype_name
from .._backend.host import to_host
from .._backend.namespace import array_namespace, device_of

_RTOL = {"float16": 1e-3, "bfloat16": 1e-2, "float32": 1e-5, "complex64": 1e-5}
_DEFAULT_RTOL = 1e-10


def default_rtol(dtype: Any) -> float:
    return _RTOL.get(dtype_name(dtype), _DEFAULT_RTOL)


def assert_close(
    actual: Any,
    desired: Any,
    *,
    xp: Any = None,
    device: Any = None,
    dtype: Any = None,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    err_msg: str = "",
) -> None:
    """Assert ``actual`` is an array of namespace ``xp`` on ``device`` with ``dtype``, close
    to ``desired`` (any array, compared on the host).

    ``xp``/``device``/``dtype`` default to those of ``desired`` when it is not NumPy-only
    reference data; pass them explicitly when comparing to a NumPy/SciPy reference.
    ``rtol`` defaults by dtype (1e-5 for float32, 1e-10 for float64); ``atol`` defaults to
    ``rtol`` times the reference's largest magnitude, so values near zero compare sensibly.
    """
    prefix = f"{err_msg}: " if err_msg else ""
    if xp is None:
        xp = array_namespace(desired)
    got_xp = array_namespace(actual)
    assert got_xp is xp, f"{prefix}namespace {got_xp.__name__} != expected {xp.__name__}"
    if device is None:
        device = device_of(desired)
    got_dev = device_of(actual)
    assert str(got_dev) == str(device), f"{prefix}device {got_dev} != expected {device}"
    if dtype is None:
        dtype = desired.dtype
    assert dtype_name(actual.dtype) == dtype_name(dtype), (
        f"{prefix}dtype {dtype_name(actual.dtype)} != expected {dtype_name(dtype)}"
    )
    a = to_host(actual)
    d = np.asarray(to_host(desired) if not isinstance(desired, np.ndarray) else desired)
    assert a.shape == d.shape, f"{prefix}shape {a.shape} != expected {d.shape}"
    if rtol is None:
        rtol = default_rtol(actual.dtype)
    if atol is None:
        finite = np.abs(d[np.isfinite(d)]) if d.size else np.zeros(0)
        scale = float(finite.max()) if finite.size else 1.0
        atol = rtol * max(scale, 1e-30)
    np.testing.assert_allclose(a, d, rtol=rtol, atol=atol, equal_nan=equal_nan, err_msg=err_msg)
