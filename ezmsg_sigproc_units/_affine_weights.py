"""Host-side work of ``affinetransform``: settings checks, the weight matrix (array, CSV
file, rereference kind or factory), its fit to the channel axis, and the output labels.

Everything here runs on NumPy at construction or state reset, never on signal data.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ezmsg.core as ez
import numpy as np

from ._backend import to_host


def is_passthrough(weights: Any) -> bool:
    """``weights=None`` or ``"passthrough"``: the transformer returns its input."""
    return weights is None or (isinstance(weights, str) and weights == "passthrough")


def is_kind(weights: Any, kinds: tuple[str, ...]) -> bool:
    """Whether ``weights`` names a rereference kind (one of ``kinds``; the kinds are a ``str``
    enum, so the enum members and their values both match)."""
    return isinstance(weights, str) and weights in kinds


def is_built(weights: Any, kinds: tuple[str, ...]) -> bool:
    """Whether the matrix is built per message layout (a kind or a factory)."""
    return is_kind(weights, kinds) or callable(weights)


def load_csv(path: str | Path, kinds: tuple[str, ...]) -> np.ndarray:
    """The 2-D float64 matrix in a comma-separated text file (``~`` expanded)."""
    path = Path(os.path.abspath(os.path.expanduser(str(path))))
    if not path.is_file():
        raise ValueError(
            f"weights: {str(path)!r} is neither a rereference kind {list(kinds)} nor an "
            f"existing file")
    try:
        host = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise ValueError(f"weights: cannot read {str(path)!r} as comma-separated "
                         f"numbers ({exc})") from None
    return host


def as_matrix(weights: Any) -> np.ndarray:
    """An array-like weight setting as a 2-D float64 host matrix (ValueError otherwise)."""
    try:
        host = np.asarray(weights)
    except (TypeError, ValueError, RuntimeError):
        host = to_host(weights)
    if host.dtype.kind not in "biuf":
        raise ValueError(f"weights: must be real numbers, got dtype {host.dtype}")
    if host.ndim != 2:
        raise ValueError(f"weights: must be a 2-D (n_in, n_out) matrix, got shape {host.shape}")
    return host.astype(np.float64)


def fixed_matrix(weights: Any, kinds: tuple[str, ...]) -> np.ndarray | None:
    """The matrix of an array or file setting (None for kinds, factories, passthrough);
    ValueError for a setting that is none of these. Also the construction-time check."""
    if is_passthrough(weights) or is_built(weights, kinds):
        return None
    if isinstance(weights, (str, Path)):
        return load_csv(weights, kinds)
    return as_matrix(weights)


def check_channel_groups(spec: Any) -> None:
    """Construction-time check of a ``channel_groups`` spec (see ``util.channels``)."""
    if spec is None or isinstance(spec, str) or callable(spec):
        return
    try:
        items = list(spec)
    except TypeError:
        raise ValueError(f"channel_groups: must be a field name, a list of field names, "
                         f"index groups or a callable, got {spec!r}") from None
    if items and all(isinstance(i, str) for i in items):
        return
    if any(isinstance(i, str) for i in items):
        raise ValueError(f"channel_groups: mixes field names with index groups: {spec!r}")
    seen: set[int] = set()
    for g, group in enumerate(items):
        idx = np.asarray(group).reshape(-1)
        if idx.size and idx.dtype.kind not in "iu":
            raise ValueError(f"channel_groups: group {g} is not a list of channel indices: "
                             f"{group!r}")
        values = idx.tolist()
        if any(v < 0 for v in values):
            raise ValueError(f"channel_groups: group {g} has a negative index: {group!r}")
        if seen.intersection(values) or len(set(values)) != len(values):
            raise ValueError("channel_groups: groups overlap; each channel may belong to at "
                             "most one group")
        seen.update(values)


def _call_factory(factory: Callable, n_in: int, groups: list[list[int]] | None) -> Any:
    """``factory(n_in, groups)`` when it takes two positional arguments (or ``*args``), else
    ``factory(n_in)``."""
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # no signature (some builtins)
        return factory(n_in)
    kinds = [p.kind for p in params]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    two = sum(k in positional for k in kinds) >= 2 or inspect.Parameter.VAR_POSITIONAL in kinds
    return factory(n_in, groups) if two else factory(n_in)


def host_weights(weights: Any, n_in: int, groups: list[np.ndarray] | None,
                 right_multiply: bool, cached: np.ndarray | None,
                 kind_matrix: Callable | None) -> np.ndarray:
    """The ``(rows, n_out)`` float64 matrix to multiply by (``right_multiply`` applied):
    ``kind_matrix(weights, n_in, groups=...)`` for a kind, the factory's matrix, or
    ``cached`` (the matrix of an array or file setting, already loaded)."""
    lists = None if groups is None else [g.tolist() for g in groups]
    if kind_matrix is not None:
        host = kind_matrix(weights, n_in, groups=lists)
    elif callable(weights):
        host = as_matrix(_call_factory(weights, n_in, lists))
    else:
        host = cached
    return host if right_multiply else np.ascontiguousarray(host.T)


def check_fit(host: np.ndarray, n_in: int, axis: str) -> bool:
    """Whether ``host`` carries an offset row (``n_in + 1`` rows); ValueError naming both
    sizes when its rows fit neither ``n_in`` nor ``n_in + 1``."""
    rows = host.shape[0]
    if rows == n_in:
        return False
    if rows == n_in + 1:
        return True
    raise ValueError(
        f"weights: shape {host.shape} has {rows} input rows but axis {axis!r} has {n_in} "
        f"channels (expected {n_in} rows, or {n_in + 1} with an offset row; "
        f"right_multiply=False transposes the weights)")


def output_axis(ax: Any, a: np.ndarray) -> Any:
    """The channel axis after ``y = x @ a`` (``a`` without its offset row), or None to keep
    ``ax``. Only a coordinate axis of labels changes, and only when ``a`` is not square:

    * every input used and ``n_in`` outputs filled: the input labels go, in order, to the
      filled outputs; the others are labelled ``""``;
    * every output filled and ``n_out`` inputs used: the used inputs' labels;
    * otherwise (a mixing projection): every output is labelled ``""``.
    """
    n_in, n_out = a.shape
    labels = getattr(ax, "data", None)
    if labels is None or n_in == n_out:
        return None
    labels = np.asarray(labels)
    used, filled = np.any(a != 0, axis=1), np.any(a != 0, axis=0)
    new = np.zeros(n_out, dtype=labels.dtype)  # "" for strings, empty records for structs
    if labels.dtype == object:
        new[:] = ""
    if len(labels) != n_in:
        ez.logger.warning(f"AffineTransform: the channel axis has {len(labels)} labels for "
                          f"{n_in} channels; output labels are blank")
    elif used.all() and filled.sum() == n_in:
        new[filled] = labels
    elif filled.all() and used.sum() == n_out:
        new = labels[used]
    out = dataclasses.replace(ax, data=new)
    out.fingerprint  # noqa: B018 - computed once here (util.message.with_fingerprint)
    return out
