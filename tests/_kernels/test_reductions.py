"""Reductions on every backend and float dtype against NumPy's own functions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import reductions as R
from ezmsg_sigproc_units.testing import assert_close

REFS = {
    "mean": np.mean, "median": np.median, "std": np.std, "var": np.var, "min": np.min,
    "max": np.max, "sum": np.sum, "nanmean": np.nanmean, "nanmedian": np.nanmedian,
    "nanstd": np.nanstd, "nanvar": np.nanvar, "nanmin": np.nanmin, "nanmax": np.nanmax,
    "nansum": np.nansum, "argmin": np.argmin, "argmax": np.argmax, "trapezoid": np.trapezoid,
}
ARG_OPS = ("argmin", "argmax")


def test_every_op_has_a_reference():
    assert set(R.REDUCTIONS) == set(REFS)


def _data(n: int, axis: int, dtype: str, nans: bool, seed: int = 0) -> np.ndarray:
    """3-D data with ``n`` samples along ``axis`` (0 or 2); with ``nans``: scattered NaNs,
    one lane that is entirely NaN and one lane with a single valid value."""
    rng = np.random.default_rng(seed + n)
    h = rng.standard_normal((n, 3, 4))
    if n >= 3:  # ties at the extremes: argmin/argmax must pick the first
        h[1, 0, 0] = h[n - 2, 0, 0] = 10.0
        h[0, 0, 1] = h[n - 1, 0, 1] = -10.0
    if nans:
        h[rng.random(h.shape) < 0.2] = np.nan
        h[:, 1, 2] = np.nan
        h[1:, 2, 3] = np.nan
        h[0, 2, 3] = 0.5
    h = h.astype(dtype)
    return np.ascontiguousarray(np.moveaxis(h, 0, axis))


def _ref(op: str, h: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if op == "trapezoid":  # np.trapezoid has no keepdims
            r = np.trapezoid(h, axis=axis)
            return np.expand_dims(r, axis) if keepdims else np.asarray(r)
        r = REFS[op](h, axis=axis, keepdims=keepdims)
    return np.asarray(r)


@pytest.mark.parametrize("op", list(REFS))
@pytest.mark.parametrize("n", [5, 6])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("nans", [False, True], ids=["finite", "nans"])
def test_matches_numpy(backend, float_dtype, op, n, axis, nans):
    h = _data(n, axis, float_dtype, nans)
    x = backend.asarray(h)
    out = R.reduce(backend.xp, x, op, axis)
    ref = _ref(op, h, axis)
    dtype = out.dtype if op in ARG_OPS else h.dtype
    if op in ARG_OPS:
        assert backend.xp.isdtype(out.dtype, "integral")
    assert_close(out, ref, xp=backend.xp, device=backend.device, dtype=dtype, err_msg=op)
    assert_close(x, h, xp=backend.xp, device=backend.device, dtype=h.dtype, rtol=0, atol=0,
                 err_msg="input mutated")


@pytest.mark.parametrize("op", list(REFS))
def test_keepdims(backend, op):
    h = _data(6, 0, "float32", nans=True)
    out = R.reduce(backend.xp, backend.asarray(h), op, 1, keepdims=True)
    ref = _ref(op, h, 1, keepdims=True)
    dtype = out.dtype if op in ARG_OPS else h.dtype
    assert_close(out, ref, xp=backend.xp, device=backend.device, dtype=dtype, err_msg=op)


def test_all_nan_lane_values(backend):
    """The documented all-NaN rule, spelled out (not only 'same as NumPy')."""
    h = np.full((2, 4), np.nan, dtype="float32")
    h[1] = [1.0, np.nan, 3.0, 8.0]
    xp = backend.xp
    x = backend.asarray(h)
    for op, expect in [("nanmean", [np.nan, 4.0]), ("nanmedian", [np.nan, 3.0]),
                       ("nanmin", [np.nan, 1.0]), ("nanmax", [np.nan, 8.0]),
                       ("nansum", [0.0, 12.0]), ("nanvar", [np.nan, 26.0 / 3.0]),
                       ("nanstd", [np.nan, np.sqrt(26.0 / 3.0)]), ("median", [np.nan, np.nan])]:
        assert_close(R.reduce(xp, x, op, 1), np.array(expect, "float32"), xp=xp,
                     device=backend.device, dtype=h.dtype, err_msg=op)


def test_trapezoid_with_coordinates(backend, float_dtype):
    h = _data(7, 2, float_dtype, nans=False)
    coords = np.array([0.0, 0.5, 1.5, 1.75, 3.0, 4.5, 5.0], dtype=float_dtype)
    xp = backend.xp
    out = R.trapezoid(xp, backend.asarray(h), 2, x=backend.asarray(coords))
    assert_close(out, np.trapezoid(h, coords, axis=2), xp=xp, device=backend.device,
                 dtype=h.dtype)
    out = R.trapezoid(xp, backend.asarray(h), -1, dx=0.25, keepdims=True)
    assert_close(out, np.trapezoid(h, dx=0.25, axis=-1)[..., None], xp=xp,
                 device=backend.device, dtype=h.dtype)


def test_trapezoid_single_sample_is_zero(backend):
    h = np.ones((1, 3), dtype="float32")
    out = R.trapezoid(backend.xp, backend.asarray(h), 0)
    assert_close(out, np.zeros(3, "float32"), xp=backend.xp, device=backend.device,
                 dtype=h.dtype)


@pytest.mark.parametrize("op", [op for op in REFS if op not in ARG_OPS])
def test_empty_reduction_axis(backend, op):
    h = np.zeros((3, 0), dtype="float32")
    out = R.reduce(backend.xp, backend.asarray(h), op, 1)
    fill = 0.0 if op in ("sum", "nansum", "trapezoid") else np.nan
    assert_close(out, np.full(3, fill, "float32"), xp=backend.xp, device=backend.device,
                 dtype=h.dtype, err_msg=op)


@pytest.mark.parametrize("op", ARG_OPS)
def test_arg_on_empty_axis_raises(backend, op):
    with pytest.raises(ValueError, match=op):
        R.reduce(backend.xp, backend.asarray(np.zeros((3, 0), "float32")), op, 1)


@pytest.mark.parametrize("op", list(REFS))
def test_zero_lanes_keep_shape(backend, op):
    out = R.reduce(backend.xp, backend.asarray(np.zeros((0, 5), "float32")), op, 1)
    assert tuple(out.shape) == (0,)
    out = R.reduce(backend.xp, backend.asarray(np.zeros((2, 0, 5), "float32")), op, 2,
                   keepdims=True)
    assert tuple(out.shape) == (2, 0, 1)


@pytest.mark.parametrize("op", [op for op in REFS if op not in ARG_OPS])
def test_integer_input_computes_in_default_float(backend, op):
    h = np.arange(12, dtype="int32").reshape(3, 4)
    xp = backend.xp
    out = R.reduce(xp, backend.asarray(h), op, 1)
    expected = xp.float64 if backend.supports_float64() else xp.float32
    assert out.dtype == expected, op
    assert_close(out, _ref(op, h.astype("float64"), 1), xp=xp, device=backend.device,
                 dtype=expected, err_msg=op)


def test_axis_out_of_range(backend):
    with pytest.raises(ValueError, match="axis"):
        R.mean(backend.xp, backend.asarray(np.zeros((2, 3))), 2)


def test_unknown_op():
    with pytest.raises(ValueError, match="op"):
        R.reduce(np, np.zeros(3), "mode")


@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("n", [1, 2, 5, 6, 64])
@pytest.mark.parametrize("axis", [0, 2])
def test_numpy_fast_path_agrees_with_portable(monkeypatch, op, n, axis):
    """NumPy runs the native sort (counted); array-api-strict on the same values runs the
    portable one; both give NumPy's median."""
    import array_api_compat.numpy as xp
    import array_api_strict as strict

    from ezmsg_sigproc_units._kernels import reductions_numpy

    calls = []
    native_sort = reductions_numpy.sort_unstable
    monkeypatch.setattr(reductions_numpy, "sort_unstable",
                        lambda x, axis: calls.append(axis) or native_sort(x, axis))
    h = _data(n, axis, "float64", nans=True)
    fast = R.reduce(xp, h, op, axis)
    assert calls, "the NumPy fast path ran"
    portable = R.reduce(strict, strict.asarray(h), op, axis)
    assert len(calls) == 1, "array-api-strict took the portable sort"
    np.testing.assert_array_equal(to_host(fast), to_host(portable))
    np.testing.assert_array_equal(to_host(fast), _ref(op, h, axis))
