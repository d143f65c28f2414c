"""util.sparse: sliding windows over pydata/sparse arrays equal NumPy's dense windows."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from ezmsg_sigproc_units.util.sparse import sliding_win_oneaxis, sliding_win_oneaxis_old

sparse = pytest.importorskip("sparse")


def _dense_ref(d, nwin, axis, step):
    axis %= d.ndim
    if d.shape[axis] < nwin:
        return np.zeros(d.shape[:axis] + (0, nwin) + d.shape[axis + 1:], d.dtype)
    ref = np.moveaxis(sliding_window_view(d, nwin, axis=axis), -1, axis + 1)
    return np.take(ref, np.arange(0, ref.shape[axis], step), axis=axis)


@pytest.mark.parametrize("fn", [sliding_win_oneaxis, sliding_win_oneaxis_old])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("nwin,step", [(1, 1), (3, 1), (3, 2), (4, 3), (13, 1), (14, 1)])
def test_windows_equal_the_dense_reference(fn, axis, nwin, step):
    rng = np.random.default_rng(axis + 10 * nwin + 100 * step)
    d = (rng.random((5, 13, 4)) < 0.3) * rng.standard_normal((5, 13, 4))
    d = d[:, :, :] if axis != -1 else np.moveaxis(d, 1, -1)
    out = fn(sparse.COO.from_numpy(d), nwin, axis, step)
    ref = _dense_ref(d, nwin, axis, step)
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out.todense(), ref)


def test_all_zero_input_gives_an_all_zero_result():
    s = sparse.zeros((3, 10))
    out = sliding_win_oneaxis(s, 4, 1, 2)
    assert out.shape == (3, 4, 4) and out.nnz == 0


@pytest.mark.parametrize("kw,field", [({"nwin": 0}, "nwin"), ({"axis": 3}, "axis"),
                                      ({"step": 0}, "step")])
def test_bad_arguments_raise(kw, field):
    args = {"nwin": 2, "axis": 0, "step": 1} | kw
    with pytest.raises(ValueError, match=field):
        sliding_win_oneaxis(sparse.zeros((4, 3)), **args)
