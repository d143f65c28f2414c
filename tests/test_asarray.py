"""AsArrayTransformer and _backend.transfer: every source backend to every target backend."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._backend.transfer import move, set_mlx_cache_limit
from ezmsg_sigproc_units.asarray import (
    ArrayBackend,
    AsArray,
    AsArraySettings,
    AsArrayTransformer,
)
from ezmsg_sigproc_units.testing import CPU_BACKENDS, Backend, assert_close

TARGETS = [pytest.param(b, id=f"to-{b.value}") for b in CPU_BACKENDS]


def _target(b: Backend) -> Backend:
    reason = b.unavailable_reason()
    if reason is not None:
        pytest.skip(f"{b.value}: {reason}")
    return b


def _settings(b: Backend, **kw) -> AsArraySettings:
    return AsArraySettings(backend=b.library, device=b.device_name, **kw)


def _msg(data, dims=("time", "ch")) -> AxisArray:
    return AxisArray(data, dims=list(dims), axes={"time": AxisArray.TimeAxis(fs=50.0)},
                     attrs={"note": 1}, key="k")


def _host(dtype: str) -> np.ndarray:
    h = np.random.default_rng(0).standard_normal((7, 3)).astype(dtype)
    h[2, 1] = np.nan
    h[3, 0] = np.finfo(dtype).tiny
    return h


@pytest.mark.parametrize("target", TARGETS)
def test_every_source_to_every_target_is_exact(backend, float_dtype, target):
    target = _target(target)
    if float_dtype == "float64" and not target.supports_float64():
        pytest.skip(f"{target.value} has no float64 here")
    h = _host(float_dtype)
    msg = _msg(backend.asarray(h))
    out = AsArrayTransformer(_settings(target))(msg)
    assert_close(out.data, h, xp=target.xp, device=target.device, dtype=h.dtype, rtol=0.0,
                 atol=0.0)
    # metadata untouched, input untouched
    assert out.dims == msg.dims and out.axes is msg.axes and out.attrs == msg.attrs
    assert out.key == "k"
    assert_close(msg.data, h, xp=backend.xp, device=backend.device, dtype=h.dtype, rtol=0.0,
                 atol=0.0)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_cast_to_dtype(backend, target, dtype):
    target = _target(target)
    h = np.arange(12, dtype="float64" if backend.supports_float64() else "float32")
    h = h.reshape(6, 2)
    out = AsArrayTransformer(_settings(target, dtype=dtype))(_msg(backend.asarray(h)))
    assert_close(out.data, h.astype(dtype), xp=target.xp, device=target.device,
                 dtype=getattr(target.xp, dtype), rtol=0.0, atol=0.0)


@pytest.mark.parametrize("target", TARGETS)
def test_empty_input_keeps_shape(backend, target):
    target = _target(target)
    out = AsArrayTransformer(_settings(target))(_msg(backend.asarray(np.zeros((0, 3), "float32"))))
    assert tuple(out.data.shape) == (0, 3)
    assert_close(out.data, np.zeros((0, 3), "float32"), xp=target.xp, device=target.device)


def test_move_same_place_is_identity(backend):
    x = backend.asarray(np.ones((2, 2), "float32"))
    assert move(x, backend.xp, backend.device) is x


def test_move_changes_device_within_a_namespace():
    strict, dev1 = Backend.ARRAY_API_STRICT, Backend.ARRAY_API_STRICT_DEVICE1
    h = np.arange(4.0)
    y = move(strict.asarray(h), dev1.xp, dev1.device)
    assert_close(y, h, xp=dev1.xp, device=dev1.device, dtype=h.dtype, rtol=0.0, atol=0.0)
    z = move(y, strict.xp, strict.device)
    assert_close(z, h, xp=strict.xp, device=strict.device, dtype=h.dtype, rtol=0.0, atol=0.0)


@pytest.mark.parametrize("target", TARGETS)
def test_read_only_numpy_input_is_not_aliased(target):
    """Cross-process messages are read-only views of reused shared memory: never alias them."""
    target = _target(target)
    if target is Backend.NUMPY:
        pytest.skip("same namespace: nothing is transferred")
    h = np.arange(6.0).reshape(2, 3)
    h.flags.writeable = False
    out = AsArrayTransformer(_settings(target))(_msg(h))
    assert not np.shares_memory(to_host(out.data), h)


def test_settings_accept_names_and_members():
    assert AsArraySettings(backend="torch").backend is ArrayBackend.torch
    assert AsArraySettings(backend=ArrayBackend.jax).backend is ArrayBackend.jax
    assert AsArraySettings().backend is ArrayBackend.numpy
    assert str(ArrayBackend.mlx) == "mlx"
    assert [b.value for b in ArrayBackend] == [
        "numpy", "array_api_strict", "torch", "jax", "mlx", "cupy"]


def test_invalid_settings_name_the_field():
    with pytest.raises(ValueError, match="^backend: unknown backend 'tensorflow'"):
        AsArraySettings(backend="tensorflow")
    with pytest.raises(ValueError, match="^dtype: unknown dtype name 'float33'"):
        AsArraySettings(dtype="float33")
    with pytest.raises(ValueError, match="^mlx_cache_limit_mb"):
        AsArraySettings(mlx_cache_limit_mb=-1.0)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="cupy is installed")
def test_backend_not_installed_lists_installed():
    with pytest.raises(ValueError, match="^backend: 'cupy' is not installed here; installed: "):
        AsArraySettings(backend="cupy")


def test_unavailable_device_lists_available():
    proc = AsArrayTransformer(AsArraySettings(backend="array_api_strict", device="device7"))
    with pytest.raises(ValueError, match="device7.*available: .*device1"):
        proc(_msg(np.zeros((2, 2))))


def test_dtype_missing_in_target_library_raises():
    proc = AsArrayTransformer(AsArraySettings(backend="array_api_strict", dtype="bfloat16"))
    with pytest.raises(ValueError, match="^dtype"):
        proc(_msg(np.zeros((2, 2))))


def test_target_is_re_resolved_when_settings_change():
    proc = AsArrayTransformer(AsArraySettings(backend="torch"))
    assert type(proc(_msg(np.zeros((3, 1)))).data).__module__ == "torch"
    proc.settings = AsArraySettings(backend="numpy", dtype="float32")
    out = proc(_msg(np.zeros((3, 1))))
    assert type(out.data) is np.ndarray and out.data.dtype == np.float32


@pytest.mark.skipif(importlib.util.find_spec("mlx") is None, reason="mlx is not installed")
def test_mlx_cache_limit_is_applied():
    proc = AsArrayTransformer(AsArraySettings(backend="mlx", mlx_cache_limit_mb=3.0))
    proc(_msg(np.zeros((2, 1))))
    assert set_mlx_cache_limit(512.0) == 3 * 1024 * 1024
    assert set_mlx_cache_limit(None) is None


def test_unit_uses_settings():
    assert AsArray.SETTINGS is AsArraySettings
