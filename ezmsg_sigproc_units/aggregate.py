"""Reduce a message along one axis, whole (``AggregateTransformer``) or per coordinate band
(``RangedAggregateTransformer``, e.g. the band powers of a spectrum).

``argmin``/``argmax`` give the *coordinate* of the extremum (from the axis' LinearAxis gain and
offset or CoordinateAxis data; the index when the message has no axis object), and
``trapezoid`` integrates over those coordinates. Integer input computes in the default float of
its namespace; float32 stays float32.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import (
    BaseStatefulTransformer,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ._axis_coords import (  # the peer's public helpers are re-exported here
    aggregate_slices,  # noqa: F401
    axis_coordinates,  # noqa: F401
    host_coords,
    needs_coordinates,  # noqa: F401
    select_bands,
)
from ._backend import (
    array_namespace,
    asarray,
    device_of,
    float_dtype_for,
    full,
    namespace_and_device,
)
from ._kernels import reductions
from ._messages import axis_index, default_axis, replace_fields
from ._processors import StatelessTransformer, StreamAxisMixin
from ._spectrum_plan import OptionsEnum
from ._units import TransformerUnit
from ._validate import check_member


class AggregationFunction(str, OptionsEnum):
    """The reduction applied along the axis (values are the names users configure)."""

    NONE = "None (all)"
    MAX = "max"
    MIN = "min"
    MEAN = "mean"
    MEDIAN = "median"
    STD = "std"
    SUM = "sum"
    NANMAX = "nanmax"
    NANMIN = "nanmin"
    NANMEAN = "nanmean"
    NANMEDIAN = "nanmedian"
    NANSTD = "nanstd"
    NANSUM = "nansum"
    ARGMIN = "argmin"
    ARGMAX = "argmax"
    TRAPEZOID = "trapezoid"
    VAR = "var"
    NANVAR = "nanvar"


_ARG_OPS = (AggregationFunction.ARGMIN, AggregationFunction.ARGMAX)
_COORD_OPS = (*_ARG_OPS, AggregationFunction.TRAPEZOID)
_ZERO_WHEN_EMPTY = (AggregationFunction.SUM, AggregationFunction.NANSUM,
                    AggregationFunction.TRAPEZOID)


def _operation(value: Any) -> AggregationFunction:
    """``value`` (member, value or member name) as a usable AggregationFunction."""
    op = check_member(AggregationFunction, "operation", value)
    if op is AggregationFunction.NONE:
        raise ValueError(
            "operation: AggregationFunction.NONE ('None (all)') does not aggregate; choose a "
            "reduction such as AggregationFunction.MEAN"
        )
    return op


def _coord_of_index(xp: Any, coords: Any, idx: Any) -> Any:
    """``coords[idx]`` for an index array of any shape (``coords`` 1-D on idx's device)."""
    return xp.reshape(xp.take(coords, xp.reshape(idx, (-1,)), axis=0), tuple(idx.shape))


# =============================================================================== whole axis
class AggregateSettings(ez.Settings):
    axis: str
    """Name of the dim to aggregate over; it is removed from the output. Required."""

    operation: AggregationFunction = AggregationFunction.MEAN
    """The reduction (an AggregationFunction or its value, e.g. ``"nanmean"``); NONE is
    rejected. Default MEAN."""

    def __post_init__(self) -> None:
        if not isinstance(self.axis, str) or not self.axis:
            raise ValueError(f"axis: must be a dim name, got {self.axis!r}")
        object.__setattr__(self, "operation", _operation(self.operation))


class AggregateTransformer(StatelessTransformer[AggregateSettings, AxisArray, AxisArray]):
    """Reduce ``settings.axis`` away; the other dims and axes are kept.

    CoordinateAxis coordinates (argmin/argmax/trapezoid) move to the device once and are
    reused while the axis stays the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coords: tuple[tuple, Any] | None = None

    def _device_coords(self, msg: AxisArray, xp: Any, x: Any, fdt: Any, n: int) -> Any:
        ax = msg.axes[self.settings.axis]
        key = (getattr(ax, "fingerprint", id(ax)), type(x), fdt, device_of(x))
        if self._coords is None or self._coords[0] != key:
            host = host_coords(msg, self.settings.axis, n)[0]
            self._coords = (key, asarray(xp, host, dtype=fdt, device=device_of(x)))
        return self._coords[1]

    def _process(self, message: AxisArray) -> AxisArray:
        axis, op = self.settings.axis, self.settings.operation
        ax = axis_index(message, axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        if op in _COORD_OPS:
            data = self._by_coordinate(message, xp, dev, ax, op)
        else:
            data = reductions.reduce(xp, x, op.value, ax)
        dims = [d for d in message.dims if d != axis]
        axes = {k: v for k, v in message.axes.items() if k != axis}
        return replace_fields(message, data=data, dims=dims, axes=axes)

    def _by_coordinate(self, msg: AxisArray, xp: Any, dev: Any, ax: int, op: Any) -> Any:
        x, n = msg.data, msg.data.shape[ax]
        fdt = float_dtype_for(xp, x.dtype, dev)
        ax_obj = msg.axes.get(self.settings.axis)
        linear = ax_obj is None or hasattr(ax_obj, "gain")
        gain, offset = getattr(ax_obj, "gain", 1.0), getattr(ax_obj, "offset", 0.0)
        if op is AggregationFunction.TRAPEZOID:
            coords = None if linear else self._device_coords(msg, xp, x, fdt, n)
            return reductions.trapezoid(xp, x, ax, x=coords, dx=gain)
        if n == 0:
            shape = tuple(s for i, s in enumerate(x.shape) if i != ax)
            return full(xp, shape, math.nan, dtype=fdt, device=dev)
        idx = reductions.reduce(xp, x, op.value, ax)
        if linear:
            return xp.astype(idx, fdt) * gain + offset
        return _coord_of_index(xp, self._device_coords(msg, xp, x, fdt, n), idx)


class AggregateUnit(
    TransformerUnit[AggregateSettings, AxisArray, AxisArray, AggregateTransformer]
):
    SETTINGS = AggregateSettings


# =============================================================================== bands
class RangedAggregateSettings(ez.Settings):
    axis: str | None = None
    """Name of the dim whose coordinates the bands refer to; None uses the message's first
    dim. Default None."""

    bands: list[tuple[float, float]] | None = None
    """``(lo, hi)`` coordinate ranges, edges included, in the axis' unit; each band becomes one
    element of the output axis. None passes messages through unchanged. Default None."""

    operation: AggregationFunction = AggregationFunction.MEAN
    """The reduction applied within each band (NONE is rejected). Default MEAN."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")
        if self.bands is not None:
            if len(self.bands) == 0:
                raise ValueError("bands: give at least one (lo, hi) band, or None")
            for i, band in enumerate(self.bands):
                ok = isinstance(band, (tuple, list)) and len(band) == 2 and all(
                    isinstance(v, numbers.Real) and not isinstance(v, bool) and not math.isnan(v)
                    for v in band
                )
                if not ok:
                    raise ValueError(f"bands: band {i} {band!r} is not a (lo, hi) pair of numbers")
                if band[0] > band[1]:
                    raise ValueError(f"bands: band {i} {tuple(band)} has lo > hi")
        object.__setattr__(self, "operation", _operation(self.operation))


@processor_state
class RangedAggregateState:
    """Host selections and their device copies, rebuilt when the aggregated axis changes."""

    slices: list | None = None  # per band: slice of the axis; None if not contiguous
    out_axis: CoordinateAxis | None = None  # mean selected coordinate per band, input unit
    ax_vec: np.ndarray | None = None  # host float64 coordinates of the input axis
    axis: str | None = None  # aggregated dim (settings.axis or the first dim)
    ax_idx: int = -1  # its position
    take_idx: list | None = None  # per band: device indices where not contiguous, else None
    band_coords: list | None = None  # per band: device coordinates where an op needs them
    dx: float | None = None  # LinearAxis spacing (None for a CoordinateAxis)
    gather: Any = None  # equal-width bands: all their indices, one device array
    width: int = 0  # ... and their common width
    starts: Any = None  # equal-width argmin/argmax: first coordinate of each band (device)
    empty: bool = False  # empty axis: every band is NaN (0 for sum/nansum/trapezoid)


class RangedAggregateTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[RangedAggregateSettings, AxisArray, AxisArray, RangedAggregateState],
):
    """One reduction per band along ``axis``. The output keeps the dim, one element per band,
    with a CoordinateAxis of band-mean coordinates. Selections are computed from the host
    coordinates when the axis changes; index arrays and coordinates move to the device then.
    Bands of equal width are reduced together (one gather, one reduction). State resets by
    the shared rule (``StreamAxisMixin``, with ``axis`` as its axis) and whenever the
    aggregated axis' length or coordinates change."""

    def _axis(self, message: AxisArray) -> str:  # the aggregated dim; default: the first
        return default_axis(message, self.settings.axis, fallback="first")

    def _reset_extra(self, message: AxisArray) -> tuple:
        # The aggregated dim may be the stream dim, whose length and offset the shared rule
        # leaves out: the selections depend on its length and every coordinate.
        axis = self._axis(message)
        ax_obj = message.axes.get(axis)
        ident = getattr(ax_obj, "fingerprint", None)
        if ident is None:
            ident = (getattr(ax_obj, "gain", None), getattr(ax_obj, "offset", None))
        n = message.data.shape[message.dims.index(axis)] if axis in message.dims else -1
        return (n, ident)

    def _reset_state(self, message: AxisArray) -> None:
        st, op, bands = self.state, self.settings.operation, self.settings.bands
        if bands is None:
            return
        st.axis = self._axis(message)
        st.ax_idx = ax = axis_index(message, st.axis)
        x = message.data
        xp, dev = namespace_and_device(x)
        fdt, idt = float_dtype_for(xp, x.dtype, dev), reductions.index_dtype(xp, x)
        st.ax_vec, unit = host_coords(message, st.axis, x.shape[ax])
        ax_obj = message.axes.get(st.axis)
        st.dx = getattr(ax_obj, "gain", 1.0) if ax_obj is None or hasattr(ax_obj, "gain") else None
        st.empty = x.shape[ax] == 0
        sels = select_bands(st.ax_vec, bands, st.axis)
        widths = {sel.size for sel in sels}
        equal = len(sels) > 1 and len(widths) == 1 and not st.empty
        st.gather = st.starts = None
        if equal and (op not in _COORD_OPS or st.dx is not None):
            st.width = widths.pop()
            st.gather = asarray(xp, np.concatenate(sels), dtype=idt, device=dev)
            if op in _ARG_OPS:
                first = np.array([st.ax_vec[sel[0]] for sel in sels])
                shape = (len(sels),) + (1,) * (len(x.shape) - ax - 1)
                st.starts = asarray(xp, np.reshape(first, shape), dtype=fdt, device=dev)
        need_coords = st.gather is None and (
            op in _ARG_OPS or (op is AggregationFunction.TRAPEZOID and st.dx is None)
        )
        st.slices, st.take_idx, st.band_coords = [], [], []
        for sel in sels:
            contiguous = sel.size == 0 or sel[-1] - sel[0] + 1 == sel.size
            sl = slice(int(sel[0]), int(sel[-1]) + 1) if sel.size else slice(0, 0)
            st.slices.append(sl if contiguous else None)
            st.take_idx.append(None if contiguous else asarray(xp, sel, dtype=idt, device=dev))
            coords = asarray(xp, st.ax_vec[sel], dtype=fdt, device=dev) if need_coords else None
            st.band_coords.append(coords)
        centers = [st.ax_vec[sel].mean() if sel.size else 0.5 * (lo + hi)
                   for sel, (lo, hi) in zip(sels, bands, strict=False)]
        st.out_axis = CoordinateAxis(np.asarray(centers, dtype=np.float64), [st.axis], unit)

    def _band(self, xp: Any, x: Any, i: int) -> Any:
        st, op = self.state, self.settings.operation
        ax = st.ax_idx
        if st.take_idx[i] is None:
            seg = x[(slice(None),) * ax + (st.slices[i], Ellipsis)]
        else:
            seg = xp.take(x, st.take_idx[i], axis=ax)
        if op is AggregationFunction.TRAPEZOID:
            return reductions.trapezoid(xp, seg, ax, x=st.band_coords[i], dx=st.dx or 1.0,
                                        keepdims=True)
        r = reductions.reduce(xp, seg, op.value, ax, keepdims=True)
        return _coord_of_index(xp, st.band_coords[i], r) if op in _ARG_OPS else r

    def _gathered(self, xp: Any, x: Any) -> Any:
        st, op = self.state, self.settings.operation
        ax, shape = st.ax_idx, tuple(x.shape)
        g = xp.take(x, st.gather, axis=ax)
        g = xp.reshape(g, shape[:ax] + (len(st.slices), st.width) + shape[ax + 1:])
        if op is AggregationFunction.TRAPEZOID:
            return reductions.trapezoid(xp, g, ax + 1, dx=st.dx)
        r = reductions.reduce(xp, g, op.value, ax + 1)
        return xp.astype(r, st.starts.dtype) * st.dx + st.starts if op in _ARG_OPS else r

    def _process(self, message: AxisArray) -> AxisArray:
        st = self.state
        if self.settings.bands is None:
            return message
        x = message.data
        if st.empty:
            xp, dev = namespace_and_device(x)
            shape = list(x.shape)
            shape[st.ax_idx] = len(st.slices)
            fill = 0.0 if self.settings.operation in _ZERO_WHEN_EMPTY else math.nan
            data = full(xp, shape, fill, dtype=float_dtype_for(xp, x.dtype, dev), device=dev)
        elif st.gather is not None:
            data = self._gathered(array_namespace(x), x)
        else:
            xp = array_namespace(x)
            parts = [self._band(xp, x, i) for i in range(len(st.slices))]
            data = parts[0] if len(parts) == 1 else xp.concat(parts, axis=st.ax_idx)
        return replace_fields(message, data=data, axes={**message.axes, st.axis: st.out_axis})


class RangedAggregate(
    TransformerUnit[RangedAggregateSettings, AxisArray, AxisArray, RangedAggregateTransformer]
):
    SETTINGS = RangedAggregateSettings


def ranged_aggregate(
    axis: str | None = None,
    bands: list[tuple[float, float]] | None = None,
    operation: AggregationFunction = AggregationFunction.MEAN,
) -> RangedAggregateTransformer:
    """A ``RangedAggregateTransformer`` reducing each of ``bands`` along ``axis``."""
    return RangedAggregateTransformer(
        RangedAggregateSettings(axis=axis, bands=bands, operation=operation)
    )
