"""What the spatial processors (``affinetransform``) share: the reset rule of a processor
whose ``settings.axis`` names the channel dim, and the host-side plan of a common reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ezmsg.baseproc.util.streamdim import resolve_feature_dim
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import asarray, float_dtype_for, namespace_and_device
from ._messages import axis_index
from ._processors import StreamAxisMixin, stream_axis


def check_axis(axis: Any) -> None:
    if axis is not None and (not isinstance(axis, str) or not axis):
        raise ValueError(f"axis: must be a dim name or None, got {axis!r}")


class ChannelDimMixin(StreamAxisMixin):
    """``StreamAxisMixin`` for a processor whose ``settings.axis`` is the channel dim (None:
    the last dim that is not the stream dim): state is carried along the stream dim, and the
    channel count is hashed even when the two coincide (a change of it is logged by the
    shared rule)."""

    def _axis(self, message: AxisArray) -> str:
        return stream_axis(self, message, None)  # settings.axis is the channel dim

    def _channel_axis(self, message: AxisArray) -> str:
        axis = self.settings.axis  # type: ignore[attr-defined]
        return axis if axis is not None else resolve_feature_dim(message)

    def _reset_extra(self, message: AxisArray) -> tuple:
        axis, dims = self.settings.axis, message.dims  # type: ignore[attr-defined]
        if axis is None:
            sd = message.stream_dim
            if sd is None or dims[-1] != sd:  # resolve_feature_dim's answer: the last dim
                return (message.data.shape[-1],)
            axis = resolve_feature_dim(message)
        return (message.data.shape[dims.index(axis)] if axis in dims else -1,)

    def _begin_reset(self, message: AxisArray) -> tuple:
        """``(axis, ix, n, xp, dev, dtype)``: the channel dim, its index and length, the
        data's namespace and device and its compute float dtype."""
        axis = self._channel_axis(message)
        ix = axis_index(message, axis)
        x = message.data
        n = x.shape[ix]
        xp, dev = namespace_and_device(x)
        return axis, ix, n, xp, dev, float_dtype_for(xp, x.dtype, dev)


def place(xp: Any, dev: Any, host: np.ndarray | None, dtype: Any = None) -> Any:
    """``host`` on ``dev`` in ``xp`` (None stays None)."""
    return None if host is None else asarray(xp, host, dtype=dtype, device=dev)


def reference_groups(groups: list[np.ndarray] | None, n: int, include_current: bool
                     ) -> list[np.ndarray]:
    """The groups that get a reference: all channels when ``groups`` is None, without groups
    too small to have one (leave-one-out needs two channels)."""
    if groups is None:
        groups = [np.arange(n, dtype=np.intp)]
    return [g for g in groups if g.shape[0] >= (1 if include_current else 2)]


def leave_one_out_gain(groups: list[np.ndarray], n: int, include_current: bool
                       ) -> np.ndarray:
    """``(n,)`` per-channel gain: ``k / (k - 1)`` in a group of ``k`` when leaving the
    channel out, else 1."""
    gain = np.ones(n)
    if not include_current:
        for g in groups:
            gain[g] = g.shape[0] / (g.shape[0] - 1.0)
    return gain


def mean_matrices(groups: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(project (n, g), spread (g, n))``: ``x @ project`` are the group means,
    ``means @ spread`` gives each channel its group's mean (0 for channels in no group)."""
    member = np.zeros((n, len(groups)))
    for j, g in enumerate(groups):
        member[g, j] = 1.0
    return member / member.sum(axis=0), np.ascontiguousarray(member.T)


def gather_order(groups: list[np.ndarray], n: int) -> tuple[np.ndarray | None, np.ndarray]:
    """``(rest, unorder)``: the channels in no group (None if there are none) and the
    permutation that puts ``concat(groups + [rest])`` back in channel order."""
    grouped = np.concatenate(groups)
    rest = np.setdiff1d(np.arange(n), grouped)
    order = np.concatenate([grouped, rest])
    return (rest if rest.shape[0] else None), np.argsort(order).astype(np.intp)


def reference_plan(groups: list[np.ndarray] | None, n: int, include_current: bool, mode: str
                   ) -> dict[str, Any]:
    """Host arrays of a common reference over ``n`` channels: ``path`` (``"pass"``, ``"all"``
    or ``"groups"``) and ``scale`` (1.0, the uniform leave-one-out gain, or per channel), and
    for grouped paths ``project``/``spread`` (mean) or ``groups``/``rest``/``unorder``
    (median)."""
    groups = reference_groups(groups, n, include_current)
    if not groups or mode == "passthrough":
        return {"path": "pass", "scale": 1.0}
    path = "all" if len(groups) == 1 and groups[0].shape[0] == n else "groups"
    if mode == "median":  # leaving a channel out is a different median, not a gain
        plan: dict[str, Any] = {"path": path, "scale": 1.0}
        if path == "groups":
            plan["groups"] = groups
            plan["rest"], plan["unorder"] = gather_order(groups, n)
        return plan
    gain = leave_one_out_gain(groups, n, include_current)
    plan = {"path": path, "scale": float(gain[0]) if np.all(gain == gain[0]) else gain}
    if path == "groups":
        plan["project"], plan["spread"] = mean_matrices(groups, n)
    return plan
