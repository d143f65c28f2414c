import numpy as np
import pytest

from ezmsg_sigproc_units.util.rereference import RereferenceKind, car_matrix, rereference_matrix


def _apply(x, w):
    return x @ w


def test_car_matrix_subtracts_the_group_mean():
    x = np.random.default_rng(0).standard_normal((5, 6))
    groups = [[0, 2, 4], [1, 5]]  # channel 3 in no group
    y = _apply(x, car_matrix(6, groups=groups))
    for g in groups:
        np.testing.assert_allclose(y[:, g], x[:, g] - x[:, g].mean(1, keepdims=True))
    np.testing.assert_array_equal(y[:, 3], x[:, 3])


def test_car_matrix_leave_one_out_and_min_size():
    x = np.random.default_rng(1).standard_normal((4, 5))
    w = car_matrix(5, groups=[[0, 1, 2], [3], [4]], include_current=False)
    y = _apply(x, w)
    for i in range(3):
        others = [j for j in range(3) if j != i]
        np.testing.assert_allclose(y[:, i], x[:, i] - x[:, others].mean(1))
    np.testing.assert_array_equal(y[:, 3:], x[:, 3:])  # one channel: nothing to leave out
    w = car_matrix(5, groups=[[0, 1], [2, 3, 4]], min_reref_size=3)
    np.testing.assert_array_equal(w[:2, :2], np.eye(2))
    np.testing.assert_allclose(w[2:, 2:], np.eye(3) - 1 / 3)


def test_car_matrix_defaults_symmetry_and_dtype():
    w = car_matrix(4)
    np.testing.assert_allclose(w, np.eye(4) - 0.25)
    np.testing.assert_array_equal(w, w.T)
    assert car_matrix(4, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="^dtype"):
        car_matrix(4, dtype=np.int32)
    with pytest.raises(ValueError, match="^channel_groups: groups overlap"):
        car_matrix(4, groups=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="^channel_groups: index 4"):
        car_matrix(4, groups=[[0, 4]])


def test_rereference_matrix_by_kind_or_value():
    np.testing.assert_array_equal(rereference_matrix("identity", 3, groups=[[0, 1]]), np.eye(3))
    np.testing.assert_array_equal(rereference_matrix(RereferenceKind.CAR, 3), car_matrix(3))
    np.testing.assert_array_equal(
        rereference_matrix("car", 4, groups=[[0, 1]], include_current=False),
        car_matrix(4, groups=[[0, 1]], include_current=False))
    assert RereferenceKind("car") is RereferenceKind.CAR and RereferenceKind.CAR == "car"
    with pytest.raises(ValueError, match="^kind: 'laplacian'"):
        rereference_matrix("laplacian", 3)
