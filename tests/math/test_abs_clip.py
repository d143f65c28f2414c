import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.math.abs import AbsTransformer
from ezmsg_sigproc_units.math.clip import ClipSettings, ClipTransformer
from ezmsg_sigproc_units.testing import assert_close


def _msg(backend, host, dims=("time", "ch")):
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={"time": AxisArray.TimeAxis(fs=100.0)})


def test_abs(backend, float_dtype):
    host = np.random.default_rng(0).standard_normal((20, 4)).astype(float_dtype)
    out = AbsTransformer()(_msg(backend, host))
    assert_close(out.data, np.abs(host), xp=backend.xp, device=backend.device, dtype=host.dtype)
    assert out.dims == ["time", "ch"]


@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (None, 0.5), (-0.5, None), (None, None)])
def test_clip(backend, float_dtype, lo, hi):
    host = np.random.default_rng(1).standard_normal((20, 4)).astype(float_dtype)
    host[3, 1] = np.nan
    out = ClipTransformer(ClipSettings(min=lo, max=hi))(_msg(backend, host))
    ref = np.clip(host, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_clip_does_not_mutate_input(backend):
    host = np.linspace(-2, 2, 12, dtype="float32").reshape(6, 2)
    msg = _msg(backend, host)
    ClipTransformer(ClipSettings(min=0.0, max=1.0))(msg)
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_clip_rejects_bad_settings():
    with pytest.raises(ValueError, match="min"):
        ClipSettings(min=2.0, max=1.0)
    with pytest.raises(ValueError, match="max"):
        ClipSettings(max=float("nan"))


def test_empty_chunk(backend):
    host = np.zeros((0, 3), dtype="float32")
    out = ClipTransformer(ClipSettings(min=0.0))(_msg(backend, host))
    assert tuple(out.data.shape) == (0, 3)
