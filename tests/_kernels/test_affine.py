"""Kernels of the spatial family (``_kernels.affine``, ``_kernels.rereference`` and their
NumPy natives) on every backend, against NumPy references."""

import numpy as np
import pytest

from ezmsg_sigproc_units._kernels import affine, affine_numpy, rereference, rereference_numpy
from ezmsg_sigproc_units.testing import assert_close


def _x(shape=(12, 6), dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _on(backend, a, dtype=None):
    return backend.asarray(a, dtype=dtype)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_affine_any_axis_with_offset(backend, float_dtype, axis):
    x = _x((4, 5, 3), float_dtype)
    n = x.shape[axis]
    w, b = _x((n, 7), float_dtype, 1), _x((1, 7), float_dtype, 2)
    ref = np.moveaxis(np.moveaxis(x, axis, -1) @ w + b, -1, axis)
    y = affine.affine(backend.xp, _on(backend, x), _on(backend, w), _on(backend, b), axis)
    assert_close(y, ref, xp=backend.xp, device=backend.device, dtype=float_dtype)


def test_block_affine_with_permutations(backend, float_dtype):
    rng = np.random.default_rng(3)
    x = _x((10, 6), float_dtype)
    w1, w2 = _x((2, 3), float_dtype, 4), _x((4, 1), float_dtype, 5)
    in_perm, out_perm = rng.permutation(6), rng.permutation(4)
    full = np.zeros((6, 4), float_dtype)
    full[np.ix_(in_perm[:2], out_perm[:3])] = w1
    full[np.ix_(in_perm[2:], out_perm[3:])] = w2
    blocks = [(0, 2, _on(backend, w1)), (2, 6, _on(backend, w2))]
    xp = backend.xp
    y = affine.block_affine(xp, _on(backend, x), blocks, _on(backend, in_perm),
                            _on(backend, np.argsort(out_perm)), 1)
    assert_close(y, x @ full, xp=xp, device=backend.device, dtype=float_dtype)
    # the channel axis first: same numbers, transposed
    yt = affine.block_affine(xp, _on(backend, np.ascontiguousarray(x.T)), blocks,
                             _on(backend, in_perm), _on(backend, np.argsort(out_perm)), 0)
    assert_close(yt, (x @ full).T, xp=xp, device=backend.device, dtype=float_dtype)
    # new values in the same layout
    again = affine.split_blocks(xp, _on(backend, full * 2), blocks, _on(backend, in_perm),
                                _on(backend, out_perm))
    assert [(a, b) for a, b, _ in again] == [(0, 2), (2, 6)]
    assert_close(again[0][2], w1 * 2, xp=xp, device=backend.device, dtype=float_dtype)
    assert_close(again[1][2], w2 * 2, xp=xp, device=backend.device, dtype=float_dtype)


@pytest.mark.parametrize("shape, n", [((30, 256), 256), ((3000, 64), 256), ((5, 7, 300), 40),
                                      ((0, 256), 256), ((8, 4), 3)])
def test_numpy_matmul_in_one_thread_blocks_equals_one_call(shape, n):
    x = _x(shape)
    w = _x((shape[-1], n), seed=1)
    for blocks in (None, affine_numpy.column_blocks(w, 30), affine_numpy.column_blocks(w, 1)):
        got = affine_numpy.matmul(x, w, blocks)
        assert got.shape == shape[:-1] + (n,) and got.dtype == np.float32
        np.testing.assert_allclose(got, x @ w, rtol=1e-5, atol=1e-4)


def test_column_blocks_tile_the_weights_contiguously():
    w = _x((256, 256), seed=3)
    assert affine_numpy.column_blocks(w, 2) is None  # one call is one thread already
    blocks = affine_numpy.column_blocks(w, 30)
    assert [b[0] for b in blocks] == list(range(0, 256, 34))
    assert all(b.flags["C_CONTIGUOUS"] for _, _, b in blocks)
    np.testing.assert_array_equal(np.concatenate([b for _, _, b in blocks], axis=1), w)
    assert affine.column_blocks(np, w, 30) is not None


def test_numpy_affine_adds_the_offset_without_touching_inputs():
    x, w, b = _x((30, 256)), _x((256, 256), seed=1), _x((1, 256), seed=2)
    keep = (x.copy(), w.copy(), b.copy())
    np.testing.assert_allclose(affine_numpy.affine(x, w, b), x @ w + b, rtol=1e-5, atol=1e-4)
    for a, k in zip((x, w, b), keep, strict=True):
        np.testing.assert_array_equal(a, k)
    np.testing.assert_allclose(affine_numpy.affine(x[:2], w, None), x[:2] @ w, rtol=1e-5)


def test_numpy_mean_equals_np_mean_exactly():
    x = _x((30, 256))
    np.testing.assert_array_equal(rereference_numpy.mean_all(x, 1, 1.0),
                                  x - np.mean(x, axis=1, keepdims=True))
    np.testing.assert_array_equal(rereference_numpy.mean_all(x, 0, 2.0),
                                  (x - np.mean(x, axis=0, keepdims=True)) * 2.0)


def _median_others(x, axis):
    x = np.moveaxis(x, axis, -1)
    out = np.empty_like(x)
    for i in range(x.shape[-1]):
        out[..., i] = np.median(np.delete(x, i, axis=-1), axis=-1)
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_median_of_the_others(backend, float_dtype, k):
    x = _x((9, k), float_dtype, seed=k)
    x[0] = 1.0  # ties
    x[1, : k // 2] = x[1, -1]
    xp = backend.xp
    y = rereference.median_all(xp, _on(backend, x), 1, include_current=False)
    assert_close(y, x - _median_others(x, 1), xp=xp, device=backend.device, dtype=float_dtype)
    y = rereference.median_all(xp, _on(backend, np.ascontiguousarray(x.T)), 0, False)
    assert_close(y, (x - _median_others(x, 1)).T, xp=xp, device=backend.device,
                 dtype=float_dtype)


@pytest.mark.parametrize("include_current", [True, False])
def test_grouped_median_and_mean(backend, float_dtype, include_current):
    x = _x((7, 6), float_dtype)
    groups = [np.array([4, 0, 2]), np.array([5, 1])]  # channel 3 in no group
    stat = (lambda a: np.median(a, 1, keepdims=True)) if include_current else (
        lambda a: _median_others(a, 1))
    ref = x.copy()
    for g in groups:
        ref[:, g] = x[:, g] - stat(x[:, g])
    xp = backend.xp
    order = np.concatenate(groups + [np.array([3])])
    y = rereference.median_grouped(xp, _on(backend, x), 1, [_on(backend, g) for g in groups],
                                   _on(backend, np.array([3])), _on(backend, np.argsort(order)),
                                   include_current)
    assert_close(y, ref, xp=xp, device=backend.device, dtype=float_dtype)
    member = np.zeros((6, 2))
    for j, g in enumerate(groups):
        member[g, j] = 1.0
    project, spread = member / member.sum(0), member.T
    ref = x.copy()
    for g in groups:
        ref[:, g] = x[:, g] - x[:, g].mean(1, keepdims=True)
    y = rereference.mean_grouped(xp, _on(backend, x), 1, _on(backend, project, float_dtype),
                                 _on(backend, spread, float_dtype), 1.0)
    assert_close(y, ref, xp=xp, device=backend.device, dtype=float_dtype)
    y = rereference.mean_all(xp, _on(backend, x), 1, 2.0)
    assert_close(y, (x - x.mean(1, keepdims=True)) * 2, xp=xp, device=backend.device,
                 dtype=float_dtype)
