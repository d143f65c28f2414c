"""Host-side helpers of ``learn.process.ssr``: settings checks, the channel groups a
self-supervised regression fits within, and the nonzero pattern of LRR's ``I - W``.

Everything here runs on NumPy at construction or state reset, never on signal data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _affine_weights as aw
from .. import _spatial_common as sc

KERNELS = ("auto", "dense", "blocks")


def check_settings(s: Any, kinds: tuple[str, ...]) -> None:
    """``ValueError`` naming the field for a bad ``SelfSupervisedRegressionSettings`` (and
    ``LRRSettings``) value; ``kinds``: the valid ``init_default`` values."""
    if s.weights is not None:
        aw.fixed_matrix(s.weights, ())
    sc.check_axis(s.axis)
    aw.check_channel_groups(s.channel_groups)
    bs = s.block_size
    if bs is not None and (not isinstance(bs, int) or isinstance(bs, bool) or bs < 1):
        raise ValueError(f"block_size: must be a positive int or None, got {bs!r}")
    lam = s.ridge_lambda
    if not isinstance(lam, (int, float)) or isinstance(lam, bool) or not 0.0 <= lam < np.inf:
        raise ValueError(f"ridge_lambda: must be a finite number >= 0, got {lam!r}")
    for name in ("incremental", "check_finite"):
        if not isinstance(getattr(s, name), bool):
            raise ValueError(f"{name}: must be a bool, got {getattr(s, name)!r}")
    if hasattr(s, "kernel") and s.kernel not in KERNELS:
        raise ValueError(f"kernel: must be one of {KERNELS}, got {s.kernel!r}")
    if hasattr(s, "init_default") and s.init_default not in kinds:
        raise ValueError(f"init_default: must be one of {list(kinds)}, got "
                         f"{s.init_default!r}")


def given_weights(weights: Any, n: int, axis: str) -> np.ndarray:
    """The ``weights`` setting as a host ``(n, n)`` matrix; ``ValueError`` for another shape."""
    host = aw.fixed_matrix(weights, ())
    if host.shape != (n, n):
        raise ValueError(f"weights: shape {host.shape} does not match the {n} channels of "
                         f"axis {axis!r}")
    return host


def fitting_groups(resolved: list | None, spec: Any, block_size: int | None, n: int
                   ) -> list[np.ndarray] | None:
    """Resolved groups, else the explicit index groups of ``spec`` (field names and callables
    need a message), else ``block_size`` blocks, else None (one group of every channel)."""
    groups = resolved
    if groups is None and spec is not None and not callable(spec) \
            and not isinstance(spec, str) and len(spec) and not isinstance(spec[0], str):
        groups = [np.asarray(g, dtype=np.intp).reshape(-1) for g in spec]
    if groups is None and block_size is not None:
        groups = [np.arange(i, min(i + block_size, n), dtype=np.intp)
                  for i in range(0, n, block_size)]
    return groups
