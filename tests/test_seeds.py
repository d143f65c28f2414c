"""The usage shown in the seed documents, run as written with only the import prefix changed
from ``ezmsg.sigproc`` to ``ezmsg_sigproc_units``."""

from __future__ import annotations

import ezmsg.core as ez
import numpy as np
from array_api_compat import get_namespace
from ezmsg.baseproc import BaseTransformer
from ezmsg.util.messages.axisarray import AxisArray
from ezmsg.util.messages.util import replace

from ezmsg_sigproc_units.math.abs import AbsTransformer
from ezmsg_sigproc_units.math.clip import ClipSettings, ClipTransformer
from ezmsg_sigproc_units.testing import assert_close
from ezmsg_sigproc_units.util.array import (
    array_device,
    is_complex_dtype,
    is_float_dtype,
    xp_asarray,
    xp_create,
)


def test_abs_then_clip_chain(backend):
    host = np.random.default_rng(0).standard_normal((1000, 64)).astype(np.float32)
    data = backend.asarray(host)
    message = AxisArray(data, dims=["time", "ch"])

    abs_transformer = AbsTransformer()
    clip_transformer = ClipTransformer(ClipSettings(min=0.0, max=1.0))
    result = clip_transformer(abs_transformer(message))

    assert_close(result.data, np.clip(np.abs(host), 0.0, 1.0), xp=backend.xp,
                 device=backend.device, dtype=host.dtype)


class MySettings(ez.Settings):
    pass


class MyTransformer(BaseTransformer[MySettings, AxisArray, AxisArray]):
    def _process(self, message: AxisArray) -> AxisArray:
        xp = get_namespace(message.data)
        # Use xp instead of np for array operations
        result = xp.sqrt(xp.abs(message.data))
        return replace(message, data=result)


def test_user_transformer_pattern(backend):
    host = np.linspace(-4.0, 4.0, 24, dtype=np.float32).reshape(12, 2)
    out = MyTransformer()(AxisArray(backend.asarray(host), dims=["time", "ch"]))
    assert_close(out.data, np.sqrt(np.abs(host)), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)


def test_util_array_helpers(backend):
    x = backend.asarray(np.ones((3, 2), dtype=np.float32))
    xp = get_namespace(x)
    dev = array_device(x)
    assert str(dev) == str(backend.device)
    eye = xp_create(xp.eye, 3, dtype=xp.float32, device=dev)
    z = xp_create(xp.zeros, (3, 2), dtype=xp.float32, device=dev)
    a = xp_asarray(xp, [1.0, 2.0], dtype=xp.float32, device=dev)
    for arr in (eye, z, a):
        assert str(array_device(arr)) == str(backend.device)
    assert is_float_dtype(xp, x.dtype)
    assert not is_complex_dtype(x.dtype)
    assert array_device([1, 2]) is None
