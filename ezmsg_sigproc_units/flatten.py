"""Merge every dim but one (typically "time") into a single labelled axis, e.g.
``(time, ch, feature)`` -> ``(time, ch)`` for transports that carry 2-D data only.

The merged axis is a structured CoordinateAxis built once per stream layout; see
``_flatten_axis`` for the fields each source axis contributes and the canonical "label".
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ._backend import array_namespace
from ._flatten_axis import axis_labels, merged_axis, normalize_axis_label
from ._messages import axis_index, replace_fields
from ._processors import StreamAxisMixin, stream_axis
from ._units import TransformerUnit
from .util.message import with_fingerprint

__all__ = ["Flatten", "FlattenSettings", "FlattenState", "FlattenTransformer", "axis_labels",
           "normalize_axis_label"]


def _check_name(name: str, value: Any, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: must be a dim name{' or None' if optional else ''}, "
                         f"got {value!r}")


class FlattenSettings(ez.Settings):
    preserve_axis: str | None = None
    """The dim kept, first on the output (typically "time"). None (default): the message's
    ``stream_dim``, else "time" when present, else the first dim. Folding the stream dim
    itself into the merged axis is allowed (the output then declares no stream dim)."""

    sample_axis: str | None = None
    """The kept dim's name on the output (e.g. "time" for a "win" input). None (default):
    ``preserve_axis``'s own name."""

    flatten_axes: tuple[str, ...] | None = None
    """The dims to merge, slowest first (the last varies fastest along the merged axis).
    None (default): every other dim in input order, as a C-order reshape. Dims neither kept
    nor merged follow the merged axis in input order."""

    output_axis: str = "ch"
    """Name of the merged axis. Default "ch"."""

    label_separator: str = "/"
    """Joins the entries' labels into the merged "label" field ("" concatenates). Default
    "/"."""

    def __post_init__(self) -> None:
        _check_name("preserve_axis", self.preserve_axis)
        _check_name("sample_axis", self.sample_axis)
        _check_name("output_axis", self.output_axis, optional=False)
        if not isinstance(self.label_separator, str):
            raise ValueError(f"label_separator: must be a string, got {self.label_separator!r}")
        fa = self.flatten_axes
        if fa is not None:
            if isinstance(fa, str) or not isinstance(fa, (tuple, list)) or any(
                    not isinstance(a, str) or not a for a in fa):
                raise ValueError(f"flatten_axes: must be None or a tuple of dim names, "
                                 f"got {fa!r}")
            if len(set(fa)) != len(fa):
                raise ValueError(f"flatten_axes: names a dim twice: {tuple(fa)!r}")
            if self.preserve_axis is not None and self.preserve_axis in fa:
                raise ValueError(f"flatten_axes: contains preserve_axis "
                                 f"{self.preserve_axis!r}")
        kept = self.sample_axis or self.preserve_axis
        if kept is not None and kept == self.output_axis:
            raise ValueError(f"output_axis: {self.output_axis!r} is also the kept dim's name")


@processor_state
class FlattenState:
    perm: tuple[int, ...] | None = None
    """Dim order (kept, merged..., rest...) as input indices; None when already in it."""

    inner_shape: tuple[int, ...] = ()
    """Output shape after the kept dim: ``(merged length, *rest lengths)``."""

    preserve_axis: str = ""
    sample_axis: str = ""
    rest_axes: tuple[str, ...] = ()
    output_dims: tuple[str, ...] = ()

    merged: CoordinateAxis | None = None
    """The merged axis (built once per layout, fingerprinted)."""


class FlattenTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[FlattenSettings, AxisArray, AxisArray, FlattenState],
):
    """``(kept, *others)`` -> ``(kept, merged, *rest)``: a permutation when needed, then one
    reshape, in the input's namespace and device. The kept dim's axis passes through live
    (renamed to ``sample_axis``); the merged axis is rebuilt only on a reset (the shared rule:
    any change of the other dims' lengths or labels, the namespace, device or dtype)."""

    def _axis(self, message: AxisArray) -> str:
        return stream_axis(self, message, self.settings.preserve_axis)

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        keep = self._axis(message)
        axis_index(message, keep, field="preserve_axis")
        dims = list(message.dims)
        merge = tuple(d for d in dims if d != keep) if s.flatten_axes is None \
            else tuple(s.flatten_axes)
        for d in merge:
            axis_index(message, d, field="flatten_axes")
        if keep in merge:
            raise ValueError(f"flatten_axes: contains the kept dim {keep!r}")
        rest = tuple(d for d in dims if d != keep and d not in merge)
        out_name = s.output_axis
        sample = s.sample_axis or keep
        if out_name == sample or out_name in rest:
            raise ValueError(f"output_axis: {out_name!r} is already a dim of the output "
                             f"({[sample, *rest]})")
        order = (keep, *merge, *rest)
        perm = tuple(dims.index(d) for d in order)
        shape = tuple(message.data.shape[i] for i in perm)
        sizes = shape[1:1 + len(merge)]
        st.perm = None if perm == tuple(range(len(dims))) else perm
        st.inner_shape = (math.prod(sizes), *shape[1 + len(merge):])
        st.preserve_axis, st.sample_axis, st.rest_axes = keep, sample, rest
        st.output_dims = (sample, out_name, *rest)
        st.merged = with_fingerprint(
            merged_axis(message, merge, sizes, out_name, s.label_separator))

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        x = message.data
        xp = array_namespace(x)
        if st.perm is not None:
            x = xp.permute_dims(x, st.perm)
        x = xp.reshape(x, (x.shape[0], *st.inner_shape))
        axes: dict[str, Any] = {st.output_dims[1]: st.merged}
        kept = message.axes.get(st.preserve_axis)
        if kept is not None:
            if st.sample_axis != st.preserve_axis and isinstance(kept, CoordinateAxis):
                kept = CoordinateAxis(data=kept.data, dims=[st.sample_axis], unit=kept.unit)
            axes[st.sample_axis] = kept
        for d in st.rest_axes:
            if d in message.axes:
                axes[d] = message.axes[d]
        sd = message.stream_dim
        if sd == st.preserve_axis:
            sd = st.sample_axis
        return replace_fields(message, x, dims=list(st.output_dims), axes=axes, stream_dim=sd)


class Flatten(TransformerUnit[FlattenSettings, AxisArray, AxisArray, FlattenTransformer]):
    SETTINGS = FlattenSettings
