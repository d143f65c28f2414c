"""Spatial filters across channels: ``y = x @ W`` (or ``x @ A + b``) and common rereferencing.

``AffineTransform`` multiplies the channel dim by a weight matrix (an array, a CSV file, a
rereference kind built per channel group, or a factory); a matrix with one row more than
there are channels is ``[A; b]``: ``y = x @ A + b``. ``CommonRereference`` subtracts the mean
or median of each channel group, optionally leaving each channel out of its own reference.
Weights, groups and index arrays are built on the host at state reset and moved to the data's
device once; a chunk is one or two array operations there, on every backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from . import _affine_weights as aw
from . import _spatial_common as sc
from ._backend import (
    array_namespace,
    asarray,
    is_numpy_namespace,
    namespace_and_device,
)
from ._kernels import affine as affine_kernels
from ._kernels import rereference as reref_kernels
from ._kernels.elementwise import as_float
from ._messages import replace_data, replace_fields
from ._processors import SettingsByValueMixin
from ._units import TransformerUnit
from .util.blockdiag import plan_block_matmul
from .util.channels import ChannelGroupSpec, resolve_channel_groups
from .util.rereference import RereferenceKind, rereference_matrix

KERNELS = ("auto", "dense", "blocks")
"""Valid values of :attr:`AffineTransformSettings.kernel`."""
MODES = ("mean", "median", "passthrough")
"""Valid values of :attr:`CommonRereferenceSettings.mode`."""
_KINDS = tuple(k.value for k in RereferenceKind)


class AffineTransformSettings(ez.Settings):
    weights: np.ndarray | str | Path | RereferenceKind | Callable[[int], np.ndarray]
    """The ``(n_in, n_out)`` matrix (or ``(n_in + 1, n_out)`` with an offset row): an array;
    a path to a comma-separated text file; a :class:`RereferenceKind` or its value
    (``"car"``, ``"identity"``), built over ``channel_groups``; or a callable taking ``n_in``
    (and optionally the resolved groups) and returning the matrix. ``None`` or
    ``"passthrough"``: the input is returned unchanged. Required."""

    axis: str | None = None
    """Channel dim to transform. None (default): the last dim that is not the message's
    ``stream_dim``."""

    right_multiply: bool = True
    """True (default): ``y = x @ weights``. False: ``y = x @ weights.T``."""

    channel_groups: ChannelGroupSpec | None = None
    """Channel groups for building kind or callable weights (e.g. ``weights="car",
    channel_groups="bank"``: a CAR per bank). No effect on array or file weights. Default
    None (one group)."""

    kernel: str = "auto"
    """``"dense"``: one matrix product. ``"blocks"``: one product per diagonal block of the
    weights. ``"auto"`` (default): blocks where ``util.blockdiag``'s cost model says they are
    cheaper."""

    def __post_init__(self) -> None:
        aw.fixed_matrix(self.weights, _KINDS)
        sc.check_axis(self.axis)
        if not isinstance(self.right_multiply, bool):
            raise ValueError(f"right_multiply: must be a bool, got {self.right_multiply!r}")
        aw.check_channel_groups(self.channel_groups)
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel: must be one of {KERNELS}, got {self.kernel!r}")


@processor_state
class AffineTransformState:
    weights: Any = None
    """``(n_in, n_out)`` device matrix of the dense kernel (None with blocks)."""
    col_blocks: list | None = None
    """Dense kernel on NumPy: ``affine.column_blocks`` of ``weights`` (one BLAS thread)."""
    bias: Any = None
    """``(1, n_out)`` device offset row, or None."""
    blocks: list | None = None
    """``(start, stop, W_k)`` per block (block kernel), else None."""
    in_perm: Any = None
    """Block kernel: device index arrays gathering the inputs into block order (``in_perm``),
    the output channel of each block column (``out_perm``) and its inverse (``out_order``);
    None when already in order."""
    out_perm: Any = None
    out_order: Any = None
    new_axis: Any = None
    """Relabelled channel axis for non-square weights, or None."""
    axis: str = ""
    ix: int = 0
    n_in: int = 0
    n_out: int = 0
    n_samples: int = 1
    """Samples per chunk at the last reset (the block planner's cost model)."""
    to_float: bool = False


class AffineTransformTransformer(
    SettingsByValueMixin,
    sc.ChannelDimMixin,
    BaseStatefulTransformer[AffineTransformSettings, AxisArray, AxisArray,
                            AffineTransformState],
):
    """``y = x @ W`` (``x @ A + b`` with an offset row) along the channel dim, in the input's
    float dtype, namespace and device (integer input: the default float).

    State resets by the shared rule (``StreamAxisMixin``) and when the channel count
    changes (logged). ``ValueError`` when the weights' rows match neither the channel count
    nor the channel count plus one."""

    _fixed: tuple[Any, np.ndarray | None] | None = None

    def __call__(self, message: AxisArray) -> AxisArray:
        if aw.is_passthrough(self.settings.weights):
            return message
        return super().__call__(message)

    async def __acall__(self, message: AxisArray) -> AxisArray:  # the Unit's path
        if aw.is_passthrough(self.settings.weights):
            return message
        return await super().__acall__(message)

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis, ix, n_in, xp, dev, dtype = self._begin_reset(message)
        groups = None
        if aw.is_built(s.weights, _KINDS):
            groups = resolve_channel_groups(message, axis, s.channel_groups)
        kind = rereference_matrix if aw.is_kind(s.weights, _KINDS) else None
        if self._fixed is None or self._fixed[0] is not s:  # an array or file, loaded once
            self._fixed = (s, aw.fixed_matrix(s.weights, _KINDS))
        host = aw.host_weights(s.weights, n_in, groups, s.right_multiply, self._fixed[1], kind)
        aw.check_fit(host, n_in, axis)
        st.axis, st.ix, st.n_in = axis, ix, n_in
        st.n_samples = max(math.prod(message.data.shape) // max(n_in, 1), 1)
        st.new_axis = aw.output_axis(message.axes.get(axis), host[:n_in])
        st.to_float = dtype != message.data.dtype
        self._place(xp, dev, dtype, host)

    def _place(self, xp: Any, dev: Any, dtype: Any, host: np.ndarray) -> None:
        """Plan the kernel for ``host`` (canonical orientation) and move it to ``dev``."""
        st, kernel = self._state, self.settings.kernel
        n_in = st.n_in
        st.n_out = host.shape[1]
        plan = None
        if kernel != "dense" and host.shape[0] == n_in:
            plan = plan_block_matmul(host, st.n_samples, force=kernel == "blocks",
                                     dispatched=not is_numpy_namespace(xp))
        st.weights = st.bias = st.blocks = st.in_perm = st.out_perm = st.out_order = None
        st.col_blocks = None
        if plan is None:
            st.weights = sc.place(xp, dev, host[:n_in], dtype)
            st.bias = sc.place(xp, dev, host[n_in:] if host.shape[0] > n_in else None, dtype)
            st.col_blocks = affine_kernels.column_blocks(xp, st.weights, st.n_samples)
            return
        w = host if plan.in_perm is None else host[plan.in_perm]
        w = w if plan.out_perm is None else w[:, plan.out_perm]
        st.blocks = [(r.start, r.stop, sc.place(xp, dev, np.ascontiguousarray(w[r, c]), dtype))
                     for r, c in plan.blocks]
        st.in_perm = sc.place(xp, dev, plan.in_perm)
        st.out_perm = sc.place(xp, dev, plan.out_perm)
        if plan.out_perm is not None:
            st.out_order = sc.place(xp, dev, np.argsort(plan.out_perm))

    def set_weights(self, weights: Any, *, recalc_structure: bool = False) -> None:
        """Replace the weights (``(n_in, n_out)`` or with an offset row, in
        ``right_multiply=True`` orientation, any namespace) after the first message.
        ``recalc_structure=False`` (default) keeps the block layout and only refreshes the
        values (a fixed sparsity pattern); ``True`` re-plans it on the host."""
        st = self._state
        ref = st.weights if st.blocks is None else st.blocks[0][2]
        if ref is None:
            raise ValueError("weights: set_weights needs the state of a first message")
        rows, n_out = weights.shape
        aw.check_fit(np.empty((rows, n_out)), st.n_in, st.axis)
        xp, dev = namespace_and_device(ref)
        if recalc_structure or (rows != st.n_in and st.blocks is not None):
            self._place(xp, dev, ref.dtype, aw.as_matrix(weights))
            return
        same = type(weights) is type(ref)  # same namespace: no host round trip
        w = asarray(xp, weights if same else aw.as_matrix(weights), dtype=ref.dtype,
                    device=dev)
        if st.blocks is not None:
            st.blocks = affine_kernels.split_blocks(xp, w, st.blocks, st.in_perm, st.out_perm)
        else:
            st.weights, st.bias = w[:st.n_in, ...], (w[st.n_in:, ...] if rows > st.n_in
                                                      else None)
            st.col_blocks = affine_kernels.column_blocks(xp, st.weights, st.n_samples)

    def _process(self, message: AxisArray) -> AxisArray:
        st, x = self._state, message.data
        xp = array_namespace(x)
        if st.to_float:
            x = as_float(xp, x)
        if st.blocks is None:
            y = affine_kernels.affine(xp, x, st.weights, st.bias, st.ix, st.col_blocks)
        else:
            y = affine_kernels.block_affine(xp, x, st.blocks, st.in_perm, st.out_order, st.ix)
        if st.new_axis is None:
            return replace_data(message, y)
        return replace_fields(message, y, axes={**message.axes, st.axis: st.new_axis})


class AffineTransform(
    TransformerUnit[AffineTransformSettings, AxisArray, AxisArray, AffineTransformTransformer]
):
    SETTINGS = AffineTransformSettings


def affine_transform(
    weights: np.ndarray | str | Path | RereferenceKind | Callable[[int], np.ndarray],
    axis: str | None = None,
    right_multiply: bool = True,
    channel_groups: ChannelGroupSpec | None = None,
    kernel: str = "auto",
) -> AffineTransformTransformer:
    """An :class:`AffineTransformTransformer` (see :class:`AffineTransformSettings`)."""
    return AffineTransformTransformer(AffineTransformSettings(
        weights=weights, axis=axis, right_multiply=right_multiply,
        channel_groups=channel_groups, kernel=kernel))


class CommonRereferenceSettings(ez.Settings):
    mode: str = "mean"
    """``"mean"`` (default) or ``"median"`` of the group is subtracted; ``"passthrough"``
    returns the input unchanged."""

    axis: str | None = None
    """Channel dim. None (default): the last dim that is not the message's ``stream_dim``."""

    include_current: bool = True
    """True (default): each channel is part of its own reference. False: leave-one-out (the
    mean or median of the other channels of its group); single-channel groups then pass
    through."""

    channel_groups: ChannelGroupSpec | None = None
    """Channels sharing a reference (see ``util.channels``): a metadata field name such as
    ``"bank"``, field names, index groups or a callable. Channels in no group pass through.
    Default None: one group of every channel."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: must be one of {MODES}, got {self.mode!r}")
        sc.check_axis(self.axis)
        if not isinstance(self.include_current, bool):
            raise ValueError(f"include_current: must be a bool, got {self.include_current!r}")
        aw.check_channel_groups(self.channel_groups)


@processor_state
class CommonRereferenceState:
    path: str = "pass"
    """``"pass"``, ``"all"`` (one group of every channel) or ``"groups"``."""
    scale: Any = 1.0
    """Mean: the leave-one-out gain (a float or a per-channel device array) and, grouped,
    the device matrices ``project``/``spread`` (``_spatial_common.mean_matrices``)."""
    project: Any = None
    spread: Any = None
    groups: list | None = None
    """Grouped median: device index arrays per group, of the ungrouped channels (``rest``)
    and the order that undoes that gather (``unorder``; ``_spatial_common.gather_order``)."""
    rest: Any = None
    unorder: Any = None
    ix: int = 0
    n_ch: int = 0
    to_float: bool = False


class CommonRereferenceTransformer(
    sc.ChannelDimMixin,
    BaseStatefulTransformer[CommonRereferenceSettings, AxisArray, AxisArray,
                            CommonRereferenceState],
):
    """Subtracts each group's mean or median from its channels, in the input's float dtype
    (integer input: the default float), namespace and device. Groups smaller than one
    channel (two without ``include_current``) and channels in no group pass through.

    State resets by the shared rule (``StreamAxisMixin``) and when the channel count
    changes (logged)."""


    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis, ix, n, xp, dev, dtype = self._begin_reset(message)
        st.ix, st.n_ch, st.to_float = ix, n, dtype != message.data.dtype
        plan = sc.reference_plan(resolve_channel_groups(message, axis, s.channel_groups), n,
                                 s.include_current, s.mode)
        st.path, scale = plan["path"], plan["scale"]
        st.scale = scale if isinstance(scale, float) else sc.place(xp, dev, scale, dtype)
        st.project, st.spread = (sc.place(xp, dev, plan.get(k), dtype)
                                 for k in ("project", "spread"))
        st.rest, st.unorder = (sc.place(xp, dev, plan.get(k)) for k in ("rest", "unorder"))
        st.groups = [sc.place(xp, dev, g) for g in plan["groups"]] if "groups" in plan else None

    def _process(self, message: AxisArray) -> AxisArray:
        st, path = self._state, self._state.path
        if path == "pass":
            return message
        x = message.data
        xp = array_namespace(x)
        if st.to_float:
            x = as_float(xp, x)
        if self.settings.mode == "mean":
            if path == "all":
                y = reref_kernels.mean_all(xp, x, st.ix, st.scale)
            else:
                y = reref_kernels.mean_grouped(xp, x, st.ix, st.project, st.spread, st.scale)
        elif path == "all":
            y = reref_kernels.median_all(xp, x, st.ix, self.settings.include_current)
        else:
            y = reref_kernels.median_grouped(xp, x, st.ix, st.groups, st.rest, st.unorder,
                                             self.settings.include_current)
        return replace_data(message, y)


class CommonRereference(
    TransformerUnit[CommonRereferenceSettings, AxisArray, AxisArray,
                    CommonRereferenceTransformer]
):
    SETTINGS = CommonRereferenceSettings


def common_rereference(
    mode: str = "mean",
    axis: str | None = None,
    include_current: bool = True,
    channel_groups: ChannelGroupSpec | None = None,
) -> CommonRereferenceTransformer:
    """A :class:`CommonRereferenceTransformer` (see :class:`CommonRereferenceSettings`)."""
    return CommonRereferenceTransformer(CommonRereferenceSettings(
        mode=mode, axis=axis, include_current=include_current, channel_groups=channel_groups))
