"""Incremental canonical correlation analysis (CCA) in the input's array namespace and device.

:class:`IncrementalCCA` keeps the second moments ``C11``, ``C22``, ``C12`` of two views and
derives the canonical weights from them with symmetric eigendecompositions only (the inverse
square roots ``C_ii^(-1/2)`` and the leading singular pairs of ``C11^(-1/2) C12 C22^(-1/2)``;
``_kernels.inv_sqrtm``). The data are assumed centred (and scaled) by the caller.

Two ways to combine batches:

* ``cumulative=False`` (default, ezmsg-learn's model): each batch's moments (means of the
  batch's outer products) are blended in with an adaptive exponential smoothing factor that
  drops when the moments change quickly;
* ``cumulative=True``: running sums over every sample, so any split of the same samples gives
  the batch CCA of all of them.

No host synchronisation in ``partial_fit``: the smoothing factor is a 0-d array on the data's
device (``current_smoothing``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._backend import (
    asarray,
    float_dtype_for,
    namespace_and_device,
    scalar,
    zeros,
)
from ..._kernels import inv_sqrtm
from .._learn_common import NotFittedError

__all__ = ["IncrementalCCA"]


class IncrementalCCA:
    """Canonical correlation analysis updated one batch at a time.

    Parameters (ezmsg-learn's, same defaults): ``n_components`` (canonical pairs kept, 2);
    ``base_smoothing`` (0.95), ``min_smoothing`` (0.5), ``max_smoothing`` (0.99): the
    smoothing factor's start value and bounds; ``adaptation_rate`` (0.1): how fast the factor
    follows the change of the moments. Added here: ``cumulative`` (False): exact running
    moments instead of smoothing (the smoothing parameters are then unused).

    After the first :meth:`partial_fit`: ``x_weights_`` ``(d1, m)``, ``y_weights_``
    ``(d2, m)`` (``m = min(n_components, d1, d2)``), ``correlations_``
    ``(min(d1, d2),)`` in descending order, in the data's namespace, device and float dtype.
    """

    def __init__(
        self,
        n_components: int = 2,
        base_smoothing: float = 0.95,
        min_smoothing: float = 0.5,
        max_smoothing: float = 0.99,
        adaptation_rate: float = 0.1,
        *,
        cumulative: bool = False,
    ) -> None:
        if not isinstance(n_components, int) or isinstance(n_components, bool) \
                or n_components < 1:
            raise ValueError(f"n_components: must be a positive int, got {n_components!r}")
        for name, v in (("base_smoothing", base_smoothing), ("min_smoothing", min_smoothing),
                        ("max_smoothing", max_smoothing), ("adaptation_rate", adaptation_rate)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}: must be a number in [0, 1], got {v!r}")
        if min_smoothing > max_smoothing:
            raise ValueError(f"min_smoothing: {min_smoothing} exceeds max_smoothing "
                             f"{max_smoothing}")
        self.n_components = n_components
        self.base_smoothing = base_smoothing
        self.current_smoothing: Any = base_smoothing
        self.min_smoothing = min_smoothing
        self.max_smoothing = max_smoothing
        self.adaptation_rate = adaptation_rate
        self.cumulative = bool(cumulative)
        self.initialized = False
        self.n_samples_ = 0

    def initialize(self, d1: int, d2: int, *, ref_array: Any = None) -> None:
        """Zero moments for views of ``d1`` and ``d2`` features, in the namespace, device and
        float dtype of ``ref_array`` (None: NumPy float64)."""
        if ref_array is None:
            ref_array = np.zeros(0)
        xp, dev = namespace_and_device(ref_array)
        dt = float_dtype_for(xp, ref_array.dtype, dev)
        self.d1, self.d2 = int(d1), int(d2)
        self.C11 = zeros(xp, (d1, d1), dtype=dt, device=dev)
        self.C22 = zeros(xp, (d2, d2), dtype=dt, device=dev)
        self.C12 = zeros(xp, (d1, d2), dtype=dt, device=dev)
        self.current_smoothing = scalar(xp, float(self.base_smoothing), dtype=dt, device=dev)
        self.n_samples_ = 0
        self.initialized = True

    def partial_fit(self, X1: Any, X2: Any, update_projections: bool = True) -> None:
        """Update the moments with ``X1`` ``(n, d1)`` and ``X2`` ``(n, d2)`` (the same ``n``
        samples; centred by the caller) and, by default, the canonical weights. A batch of
        no samples changes nothing. ``ValueError`` for mismatched batches or a feature count
        other than the one the model was initialised with."""
        if X1.ndim != 2 or X2.ndim != 2 or X1.shape[0] != X2.shape[0]:
            raise ValueError(f"X1, X2: need (n, d1) and (n, d2) with the same n, got "
                             f"{tuple(X1.shape)} and {tuple(X2.shape)}")
        if not self.initialized:
            self.initialize(X1.shape[1], X2.shape[1], ref_array=X1)
        elif (X1.shape[1], X2.shape[1]) != (self.d1, self.d2):
            raise ValueError(f"X1, X2: feature counts {(X1.shape[1], X2.shape[1])} differ from "
                             f"the model's {(self.d1, self.d2)}")
        n = X1.shape[0]
        if n == 0:
            return
        xp, dev = namespace_and_device(self.C11)
        dt = self.C11.dtype
        x1, x2 = xp.astype(X1, dt), xp.astype(X2, dt)
        new = inv_sqrtm.moments(xp, x1, x2)
        if self.cumulative:
            total = self.n_samples_ + n
            self.C11, self.C22, self.C12 = (
                (o * (self.n_samples_ / total)) + (s / total)
                for o, s in zip((self.C11, self.C22, self.C12), new, strict=True))
        else:
            params = asarray(xp, [self.base_smoothing, self.min_smoothing,
                                  self.max_smoothing, self.adaptation_rate], dtype=dt,
                             device=dev)
            (self.C11, self.C22, self.C12), self.current_smoothing = inv_sqrtm.smoothed(
                xp, (self.C11, self.C22, self.C12), tuple(s / n for s in new),
                self.current_smoothing, params)
        self.n_samples_ += n
        if update_projections:
            self._update_projections()

    def _update_projections(self) -> None:
        """Canonical weights and correlations from the current moments."""
        xp, _ = namespace_and_device(self.C11)
        self.x_weights_, self.y_weights_, self.correlations_ = inv_sqrtm.canonical(
            xp, self.C11, self.C22, self.C12, self.n_components)

    def transform(self, X1: Any, X2: Any) -> tuple[Any, Any]:
        """``(X1 @ x_weights_, X2 @ y_weights_)``: the canonical variates.
        :class:`~ezmsg_sigproc_units.learn.util.NotFittedError` before any fit."""
        if getattr(self, "x_weights_", None) is None:
            raise NotFittedError("IncrementalCCA: transform before any partial_fit")
        xp, dev = namespace_and_device(self.x_weights_)
        dt = self.x_weights_.dtype
        return (asarray(xp, X1, dtype=dt, device=dev) @ self.x_weights_,
                asarray(xp, X2, dtype=dt, device=dev) @ self.y_weights_)
