"""Self-supervised regression across channels, and Linear Regression Rereferencing (LRR).

:class:`SelfSupervisedRegressionTransformer` accumulates the channel covariance
``C = X^T X`` (``partial_fit`` of plain AxisArrays, no labels) and solves, per channel group,
the ridge regression of every channel on the others of its group: ``W`` (``X @ W`` predicts
``X``, zero diagonal). Subclasses say what to do with ``W``. :class:`LRRTransformer`
subtracts the prediction, ``y = X @ (I - W)``, with an internal ``AffineTransformTransformer``.

Everything runs in the input's namespace, device and float dtype. ``partial_fit`` only adds
to ``C``; the next message to transform (or ``current_weights``) solves once for any number of
fits in between (the same weights as solving after each). Rank-deficient or ill-conditioned
covariances get a small automatic ridge and one warning, never NaN (``_kernels.ssr``).
"""

from __future__ import annotations

import typing
from abc import abstractmethod
from pathlib import Path
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import (
    BaseAdaptiveTransformer,
    processor_state,
)
from ezmsg.baseproc.protocols import SettingsType, StateType
from ezmsg.util.messages.axisarray import AxisArray

from ... import _spatial_common as sc
from ..._backend import (
    array_namespace,
    asarray,
    eye,
    materialize,
    namespace_and_device,
    to_host,
)
from ..._kernels import ssr as ssr_kernels
from ..._kernels.linalg import matmul
from ..._processors import SettingsByValueMixin
from ...affinetransform import AffineTransformSettings, AffineTransformTransformer
from ...util.channels import (
    ChannelGroupSpec,
    resolve_channel_groups,
    validate_channel_groups,
)
from ...util.rereference import RereferenceKind, rereference_matrix
from .._learn_common import finite_batch, log_feature_change, warn_regularised
from .._ssr_groups import check_settings, fitting_groups, given_weights
from ..dim_reduce.adaptive_decomp import BaseAdaptiveDecompUnit

__all__ = ["MIN_REREF_GROUP_SIZE", "LRRSettings", "LRRState", "LRRTransformer", "LRRUnit",
           "SelfSupervisedRegressionSettings", "SelfSupervisedRegressionState",
           "SelfSupervisedRegressionTransformer"]

MIN_REREF_GROUP_SIZE = 3
"""Smallest group that is regressed (each channel from at least two others); smaller pass."""


class SelfSupervisedRegressionSettings(ez.Settings):
    weights: np.ndarray | str | Path | None = None
    """A precomputed ``(n, n)`` weight matrix ``W`` (``X @ W`` predicts ``X``), or the path
    of a comma-separated text file holding it. Given, the transformer applies it from the
    first message; fitting replaces it. Default None (learn from the signal)."""

    axis: str | None = None
    """Channel dim. None (default): the last dim that is not the message's ``stream_dim``."""

    channel_groups: ChannelGroupSpec | None = None
    """Channels regressed on each other (see ``util.channels``): index groups
    (``[[0, 1, 2], [3, 4, 5]]``), a field of the channel axis' structured coordinates
    (``"bank"``), several fields, or a callable. Channels in no group, and groups of fewer
    than :data:`MIN_REREF_GROUP_SIZE` channels, pass through. Default None (or a field the
    message does not carry): ``block_size``, else one group of every channel."""

    block_size: int | None = None
    """Without ``channel_groups``: consecutive groups of this many channels. Default None."""

    ridge_lambda: float = 0.0
    """Ridge (L2) penalty added to each group's covariance, in the units of ``X^T X``
    (summed over samples). Default 0.0 (an automatic, tiny ridge is still used for
    rank-deficient covariances)."""

    incremental: bool = True
    """True (default): each ``partial_fit`` adds to the covariance; False: replaces it."""

    check_finite: bool = True
    """True (default): a training batch with a non-finite value (or values whose squares
    overflow) is skipped; this reads one flag from the device per batch. False: trusted
    input, no synchronisation."""

    def __post_init__(self) -> None:
        check_settings(self, tuple(k.value for k in RereferenceKind))


@processor_state
class SelfSupervisedRegressionState:
    cxx: Any = None
    """``(n, n)`` accumulated ``X^T X`` on the data's device, or None before any fit."""
    n_samples: int = 0
    """Samples accumulated in ``cxx``."""
    weights: Any = None
    """``(n, n)`` weight matrix ``W`` (as of the last solve; see ``current_weights``)."""
    resolved_groups: list | None = None
    """``channel_groups`` resolved at the last reset (host index arrays), or None."""
    plan: Any = None
    """The groups as device gather indices (``_kernels.ssr.GroupPlan``)."""
    stale: bool = False
    """True when ``cxx`` changed since ``weights`` were solved."""
    diag_index: Any = None
    """Device indices of the diagonal of the flattened covariance (the finiteness check)."""
    n_channels: int = -1
    """Channel count at the last reset (-1: none yet)."""


class SelfSupervisedRegressionTransformer(
    SettingsByValueMixin,
    sc.ChannelDimMixin,
    BaseAdaptiveTransformer[SettingsType, AxisArray, AxisArray, StateType],
    typing.Generic[SettingsType, StateType],
):
    """Base of the self-supervised regressions: subclasses implement ``_on_weights_updated``
    (after every solve) and ``_process`` (which calls ``_ensure_weights`` first). State resets
    by the shared rule (layout, channel count or labels, dtype, namespace, device; a
    channel-count change is logged); a :meth:`fit` before the first message is kept."""

    _fit_pending = False

    def _reset_state(self, message: AxisArray) -> None:
        st = self._state
        axis, ix, n, xp, dev, dtype = self._begin_reset(message)
        if st.n_channels not in (-1, n):
            log_feature_change(type(self).__name__, st.n_channels, n)
        kept = st.cxx if self._fit_pending and st.cxx is not None \
            and tuple(st.cxx.shape) == (n, n) else None
        self._fit_pending = False
        st.n_channels = n
        st.resolved_groups = resolve_channel_groups(message, axis, self.settings.channel_groups)
        self._validate_groups(n)
        self._set_plan(xp, dev, dtype, n)
        st.cxx, st.weights, st.stale = None, None, False
        if kept is not None:  # a fit() before the first message: move it here, solve again
            st.cxx, st.stale = asarray(xp, to_host(kept), dtype=dtype, device=dev), True
        else:
            st.n_samples = 0
            if self.settings.weights is not None:
                host = given_weights(self.settings.weights, n, axis)
                st.weights = asarray(xp, host, dtype=dtype, device=dev)
        self._after_reset(message)
        if st.weights is not None:
            self._on_weights_updated()

    def _after_reset(self, message: AxisArray | None) -> None:
        """Subclass hook: clear subclass state (before weights are announced)."""

    def _set_plan(self, xp: Any, dev: Any, dtype: Any, n: int) -> None:
        st = self._state
        groups = self._get_channel_groups(n)
        st.plan = ssr_kernels.plan_groups(groups, n, MIN_REREF_GROUP_SIZE).to(xp, dev, dtype)
        st.diag_index = asarray(xp, np.arange(n) * (n + 1), dtype=xp.int32, device=dev)

    def _get_channel_groups(self, n_channels: int) -> list[np.ndarray] | None:
        return fitting_groups(self._state.resolved_groups, self.settings.channel_groups,
                              self.settings.block_size, n_channels)

    def _validate_groups(self, n_channels: int) -> None:
        groups = self._get_channel_groups(n_channels)
        if groups is not None and len(groups) == 0 and n_channels:
            raise ValueError(f"channel_groups: empty, but the input has {n_channels} "
                             f"channels; use None for one group of every channel")
        validate_channel_groups(groups or [], n_channels)

    def partial_fit(self, message: AxisArray) -> None:  # type: ignore[override]
        """Add (``incremental=False``: set) the message's ``X^T X``; solved when next needed."""
        self._warn_if_regularised()
        msg_hash = self._hash_message(message)
        if self._hash != msg_hash:
            self._reset_state(message)
            self._hash = msg_hash
        xp = array_namespace(message.data)
        x = ssr_kernels.channels_last(xp, message.data, message.get_axis_idx(
            self._channel_axis(message)))
        n = x.shape[-1]
        if n == 0 or x.shape[0] == 0:
            return
        st = self._state
        c_new = matmul(xp, xp.permute_dims(x, (1, 0)), x)
        if self.settings.check_finite:
            diag = xp.take(xp.reshape(c_new, (n * n,)), st.diag_index, axis=0)
            if not finite_batch(self, xp, diag):  # a NaN/inf sample makes a diagonal entry so
                return
        if self.settings.incremental and st.cxx is not None:
            st.cxx = st.cxx + c_new
            st.n_samples += x.shape[0]
        else:
            st.cxx, st.n_samples = c_new, x.shape[0]
        materialize(st.cxx, "async")  # bound a lazy backend's graph over many fits
        st.stale = True

    def fit(self, X: Any) -> None:
        """Batch fit from ``(samples, channels)`` of any namespace, solved now with the static
        groups; the next message adopts it (on its backend, with its groups) if ``n`` fits."""
        xp, dev = namespace_and_device(X)
        n = X.shape[-1]
        self._validate_groups(n)
        if n == 0:
            return
        x, st = ssr_kernels.channels_last(xp, X, X.ndim - 1), self._state
        self._after_reset(None)
        self._set_plan(xp, dev, x.dtype, n)
        st.cxx = matmul(xp, xp.permute_dims(x, (1, 0)), x)
        st.n_samples, st.stale = x.shape[0], True
        self._fit_pending, self._hash = True, -1  # the next message re-homes the fit
        self._ensure_weights()

    def _ensure_weights(self) -> None:
        """Solve ``state.weights`` if the covariance changed, then ``_on_weights_updated``."""
        st = self._state
        if not st.stale:
            return
        xp = array_namespace(st.cxx)
        st.weights, reg = ssr_kernels.lrr_weights(xp, st.cxx, float(self.settings.ridge_lambda),
                                                  st.plan, st.n_samples)
        st.stale = False
        self._regularised = reg  # read (once it is True: warned) off the hot path
        if isinstance(reg, bool):  # NumPy: already on the host
            self._warn_if_regularised()
        self._on_weights_updated()

    def _warn_if_regularised(self) -> None:
        """Warn (once) when the last solve needed the automatic ridge: one device read, in
        ``partial_fit`` or ``current_weights``, never in ``_process``."""
        reg = self.__dict__.pop("_regularised", None)
        if reg is not None and not self.__dict__.get("_regularised_warned") and bool(reg):
            warn_regularised(self, "solved with a small automatic ridge (fewer samples than "
                                   "channels, a silent channel or collinear channels)")

    @property
    def current_weights(self) -> Any:
        """``W`` for everything fitted so far (solved now if needed), or None."""
        self._ensure_weights()
        self._warn_if_regularised()
        return self._state.weights

    @abstractmethod
    def _on_weights_updated(self) -> None:
        """Called after ``state.weights`` was set or re-solved."""

    @abstractmethod
    def _process(self, message: AxisArray) -> AxisArray: ...


class LRRSettings(SelfSupervisedRegressionSettings):
    kernel: str = "auto"
    """Product used to apply ``I - W`` (``AffineTransformSettings.kernel``): ``"auto"``
    (default; block-diagonal when the groups make it cheaper), ``"dense"`` or ``"blocks"``."""

    init_default: RereferenceKind = RereferenceKind.IDENTITY
    """What is applied before any weights exist: ``IDENTITY`` (default; pass through) or
    ``CAR`` (each channel minus the mean of the other channels of its group; groups smaller
    than :data:`MIN_REREF_GROUP_SIZE` pass through)."""


@processor_state
class LRRState(SelfSupervisedRegressionState):
    affine: tuple | None = None
    """``(state, hash)`` of the ``AffineTransformTransformer`` applying ``effective``."""
    effective: Any = None
    """``I - W`` on the data's device (None before any weights)."""


class LRRTransformer(SelfSupervisedRegressionTransformer[LRRSettings, LRRState]):
    """Linear Regression Rereferencing: ``y = X @ (I - W)`` along the channel dim, each
    channel minus its prediction from the other channels of its group (same shape, dtype,
    namespace and device as the input). Before any weights: ``init_default``.
    ``partial_fit`` takes plain signal messages (self-supervised)."""

    def _after_reset(self, message: AxisArray) -> None:
        self._state.affine = None
        self._state.effective = None

    def _on_weights_updated(self) -> None:
        st = self._state
        w = st.weights
        xp, dev = namespace_and_device(w)
        n = w.shape[0]
        st.effective = eye(xp, n, dtype=w.dtype, device=dev) - w
        if st.affine is not None:
            self._stage().set_weights(st.effective)

    def _stage(self) -> AffineTransformTransformer:
        """The transformer of ``state.affine`` (rebuilt after unpickling the state)."""
        st, aff = self._state, self.__dict__.get("_affine")
        if aff is None or st.affine is None or aff.state is not st.affine[0]:
            groups, n = self._get_channel_groups(st.n_channels), st.n_channels
            pattern = rereference_matrix(  # the nonzero pattern of every I - W here
                "car", n, groups=None if groups is None else [x.tolist() for x in groups],
                include_current=False, min_reref_size=MIN_REREF_GROUP_SIZE)
            if self.settings.weights is not None:  # a given W may fill more than the groups
                pattern = np.abs(pattern) + np.abs(np.eye(n) - given_weights(
                    self.settings.weights, n, "weights"))
            aff = self._affine = AffineTransformTransformer(AffineTransformSettings(
                weights=pattern, axis=self.settings.axis, kernel=self.settings.kernel))
            if st.affine is not None:
                aff.state, aff._hash = st.affine
        return aff

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        if st.n_channels == 0:
            return message
        self._ensure_weights()
        aff = self._stage()
        if st.affine is None:  # plan the product from the pattern on this layout
            out = aff(message)
            st.affine = (aff.state, aff._hash)
            if st.effective is None and self.settings.weights is None \
                    and RereferenceKind(self.settings.init_default) is RereferenceKind.CAR:
                return out  # the pattern is the leave-one-out CAR
            aff.set_weights(st.effective if st.effective is not None
                            else np.eye(st.n_channels))
        # The stage resets by the same rule as this processor (ChannelDimMixin, same axis),
        # which has just checked this message: its own check would only repeat that.
        return aff._process(message)


class LRRUnit(BaseAdaptiveDecompUnit[LRRSettings, LRRTransformer]):
    """``INPUT_SIGNAL`` is rereferenced (materialised outputs); ``INPUT_SAMPLE`` takes plain
    signal messages to fit on and publishes nothing (the adaptive decompositions' Unit)."""

    SETTINGS = LRRSettings
