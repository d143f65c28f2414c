import numpy as np
import pytest

from ezmsg_sigproc_units._kernels import quantize as qk

GRIDS = [qk.Grid(-3.0, 3.0, 255, 0, "uint8"), qk.Grid(-3.0, 3.0, 65535, -32768, "int16"),
         qk.Grid(0.0, 1.0, 2**32 - 1, 0, "uint32"),
         qk.Grid(-1.0, 1.0, 2**64 - 1, -(2**63), "int64")]


@pytest.mark.parametrize("grid", GRIDS, ids=[g.dtype for g in GRIDS])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_fast_path_equals_the_portable_path(grid, dtype):
    x = (np.random.default_rng(0).standard_normal((50, 7)) * 2).astype(dtype)
    x[0, :3] = [grid.lo, grid.hi, 100.0]
    out_dtype, clamp = qk.grid_plan(np, "cpu", x.dtype, grid)
    fast = qk.to_grid(np, x, grid, out_dtype, clamp)
    slow = qk.portable_to_grid(np, x, grid, out_dtype, clamp)
    assert fast.dtype == slow.dtype == np.dtype(grid.dtype)
    np.testing.assert_array_equal(fast, slow)
    assert int(fast[0, 1]) == grid.top and int(fast[0, 2]) == grid.top
    assert int(fast[0, 0]) == grid.base


def test_top_clamp_only_where_the_top_is_inexact():
    assert qk.top_clamp(qk.Grid(0.0, 1.0, 255, 0, "uint8"), "float32") is None
    assert qk.top_clamp(qk.Grid(0.0, 1.0, 2**24 - 1, 0, "uint32"), "float32") is None
    below = qk.top_clamp(qk.Grid(0.0, 1.0, 2**32 - 1, 0, "uint32"), "float32")
    assert below == float(np.nextafter(np.float32(2**32), np.float32(0)))
    assert qk.top_clamp(qk.Grid(0.0, 1.0, 2**32 - 1, 0, "uint32"), "float64") is None
