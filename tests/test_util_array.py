"""The peer's public array helpers: xp_copy, xp_flip, xp_itemsize, np_finfo."""

import numpy as np
import pytest

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.testing import assert_close
from ezmsg_sigproc_units.util.array import np_finfo, xp_copy, xp_flip, xp_itemsize


def _host(shape=(3, 4, 2)):
    return np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 0.5 - 3.0


def test_copy_is_equal_and_independent(backend, float_dtype):
    host = _host()
    x = backend.asarray(host, float_dtype)
    part = x[1:2, ...]
    c = xp_copy(part)
    assert_close(c, host[1:2].astype(float_dtype), xp=backend.xp, device=backend.device,
                 dtype=x.dtype)
    if backend.value == "numpy":  # the one backend here whose slices are writable views
        x[1, 0, 0] = 99.0
        assert to_host(c)[0, 0, 0] == host[1, 0, 0]
        assert not np.shares_memory(c, x)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_flip_matches_numpy(backend, float_dtype, axis):
    host = _host()
    out = xp_flip(backend.asarray(host, float_dtype), axis)
    assert_close(out, np.flip(host, axis=axis).astype(float_dtype), xp=backend.xp,
                 device=backend.device, dtype=getattr(backend.xp, float_dtype))


def test_flip_keeps_integer_dtype(backend):
    out = xp_flip(backend.asarray(np.arange(5, dtype=np.int32)), 0)
    assert_close(out, np.arange(5, dtype=np.int32)[::-1], xp=backend.xp, device=backend.device,
                 dtype=backend.xp.int32)


@pytest.mark.parametrize("name,size", [("float32", 4), ("float64", 8), ("int16", 2),
                                       ("int64", 8), ("uint8", 1), ("complex64", 8)])
def test_itemsize_of_every_backends_dtype(backend, name, size):
    dtype = getattr(backend.xp, name, None)
    if dtype is None:
        pytest.skip(f"{backend.value} has no {name}")
    assert xp_itemsize(dtype) == size
    assert xp_itemsize(backend.asarray(np.zeros(2, dtype=name)).dtype) == size


def test_itemsize_of_numpy_types_and_names():
    assert xp_itemsize(np.float32) == 4  # the scalar type, not an instance
    assert xp_itemsize(np.dtype("float16")) == 2
    assert xp_itemsize("int32") == 4
    with pytest.raises(TypeError):
        xp_itemsize(object())


def test_finfo_from_every_backend(backend, float_dtype):
    dtype = getattr(backend.xp, float_dtype)
    fi = np_finfo(dtype)
    assert fi == np.finfo(np.dtype(float_dtype))
    assert fi.smallest_normal > 0  # a limit some backends' own finfo lacks


def test_finfo_of_non_float_or_unknown_is_none():
    assert np_finfo(np.int32) is None
    assert np_finfo("bfloat16") is None
    assert np_finfo(np.complex64) == np.finfo(np.float32)
