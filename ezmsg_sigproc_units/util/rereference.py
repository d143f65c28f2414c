"""Rereferencing schemes as weight matrices for ``AffineTransform`` (``y = x @ A``).

The matrices are host NumPy arrays (float64 by default); ``AffineTransformTransformer`` moves
them to the data's namespace, device and dtype once per state reset. Every matrix here is
symmetric, so ``right_multiply`` does not change the result.

``CommonRereferenceTransformer`` (mode ``"mean"``) computes the same thing as
:func:`car_matrix` without a matrix product; the matrix form composes with other linear maps
and gives adaptive rereferencing a deterministic starting point.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from .channels import validate_channel_groups

__all__ = ["RereferenceKind", "car_matrix", "rereference_matrix"]


class RereferenceKind(str, enum.Enum):
    """Rereferencing schemes with a fixed weight matrix (a ``str`` enum: the plain value,
    e.g. ``"car"``, works in configuration)."""

    IDENTITY = "identity"
    """No change: the identity matrix."""

    CAR = "car"
    """Common average reference within each channel group."""


def car_matrix(
    n_channels: int,
    *,
    groups: list[list[int]] | None = None,
    include_current: bool = True,
    min_reref_size: int = 1,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """``(n_channels, n_channels)`` common-average-reference matrix, per group.

    For a group of ``k`` channels, ``y_i = x_i - mean(x_group)``, or with
    ``include_current=False`` ``y_i = x_i - mean(x_j, j != i)``. Channels in no group, groups
    smaller than ``min_reref_size`` and (leave-one-out) single-channel groups stay identity.
    ``groups=None`` is one group of every channel. ``ValueError`` for groups out of range or
    overlapping.
    """
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype: must be a floating-point dtype, got {np.dtype(dtype)}")
    out = np.eye(n_channels, dtype=dtype)
    if groups is None:
        groups = [list(range(n_channels))]
    validate_channel_groups(groups, n_channels)
    smallest = max(int(min_reref_size), 1 if include_current else 2)
    for group in groups:
        idx = np.asarray(group, dtype=np.intp).reshape(-1)
        k = idx.shape[0]
        if k < smallest:
            continue
        others = k if include_current else k - 1
        # Off-diagonal: -1/others; diagonal: 1 - 1/k (with the current channel) or 1.
        block = np.full((k, k), -1.0 / others)
        np.fill_diagonal(block, 1.0 - 1.0 / k if include_current else 1.0)
        out[np.ix_(idx, idx)] = block
    return out


def rereference_matrix(
    kind: RereferenceKind | str,
    n_channels: int,
    *,
    groups: list[list[int]] | None = None,
    include_current: bool = True,
    min_reref_size: int = 1,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """The weight matrix of ``kind`` (the enum or its value): the identity, or
    :func:`car_matrix` with the other arguments (which the identity ignores)."""
    try:
        kind = RereferenceKind(kind)
    except ValueError:
        raise ValueError(
            f"kind: {kind!r} is not one of {[k.value for k in RereferenceKind]}") from None
    if kind is RereferenceKind.IDENTITY:
        return np.eye(n_channels, dtype=dtype)
    return car_matrix(n_channels, groups=groups, include_current=include_current,
                      min_reref_size=min_reref_size, dtype=dtype)
