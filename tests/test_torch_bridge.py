"""The torch bridge: any backend's array into torch (sharing memory where the table of
``_backend.torch_bridge`` says so) and back into the input's namespace, device and dtype."""

from __future__ import annotations

import numpy as np
import pytest

from ezmsg_sigproc_units._backend.torch_bridge import (
    float_name_for,
    from_torch,
    to_torch,
    torch_device_of,
)
from ezmsg_sigproc_units.testing import Backend, assert_close

torch = pytest.importorskip("torch")

# Where to_torch shares the input's memory on the CPU (the docstring's table).
SHARES = {Backend.NUMPY, Backend.ARRAY_API_STRICT, Backend.TORCH, Backend.JAX, Backend.MLX}


def _ptr(x, backend):
    if backend is Backend.TORCH:
        return x.data_ptr()
    if backend is Backend.JAX:
        return x.unsafe_buffer_pointer()
    if backend in (Backend.ARRAY_API_STRICT, Backend.ARRAY_API_STRICT_DEVICE1):
        return x._array.ctypes.data
    if backend is Backend.MLX:
        return np.asarray(x).ctypes.data  # MLX's buffer, as NumPy sees it (no copy)
    return x.ctypes.data


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_keeps_namespace_device_dtype(backend, dtype):
    if dtype == "float64" and not backend.supports_float64():
        pytest.skip("no float64 here")
    host = np.arange(12, dtype=dtype).reshape(3, 4)
    x = backend.asarray(host, dtype)
    t = to_torch(x)
    assert isinstance(t, torch.Tensor) and str(t.dtype) == f"torch.{dtype}"
    assert t.device == torch_device_of(x)
    np.testing.assert_array_equal(t.cpu().numpy(), host)
    back = from_torch(t * 2, x)
    assert_close(back, host * 2, xp=backend.xp, device=backend.device, dtype=x.dtype)


def test_memory_is_shared_where_documented(backend):
    x = backend.asarray(np.arange(8, dtype=np.float32).reshape(2, 4), "float32")
    t = to_torch(x)
    assert (t.data_ptr() == _ptr(x, backend)) == (backend in SHARES), backend


def test_torch_input_is_returned_as_is_and_cast_on_request():
    t = torch.arange(4.0)
    assert to_torch(t) is t
    assert to_torch(t, dtype="float64").dtype == torch.float64
    assert from_torch(t, like=t).data_ptr() == t.data_ptr()


def test_read_only_numpy_is_copied():
    """ezmsg reuses a read-only message's shared memory after the call: never alias it."""
    a = np.arange(6, dtype=np.float32)
    a.flags.writeable = False
    t = to_torch(a)
    assert t.data_ptr() != a.ctypes.data
    np.testing.assert_array_equal(t.numpy(), a)


def test_awkward_numpy_layouts():
    a = np.arange(6, dtype=np.float64)[::-1]  # negative strides: torch refuses a view
    np.testing.assert_array_equal(to_torch(a).numpy(), a)
    b = np.arange(12, dtype=np.float32).reshape(3, 4).T  # transposed: a view
    assert to_torch(b).data_ptr() == b.ctypes.data


def test_output_dtype_follows_the_input():
    t = torch.ones(3, dtype=torch.float32)
    assert from_torch(t, np.zeros(3, dtype=np.float64)).dtype == np.float64
    assert from_torch(t, np.zeros(3, dtype=np.int16)).dtype == np.float64
    assert float_name_for(np.zeros(2, dtype=np.float32)) == "float32"
    assert to_torch(np.arange(3), dtype=torch.float32).dtype == torch.float32


def test_device_and_dtype_arguments_are_no_ops_when_met():
    a = np.ones((2, 2), dtype=np.float32)
    t = to_torch(a, device="cpu", dtype=torch.float32)
    assert t.data_ptr() == a.ctypes.data
