"""Select entries along one dim: by position, slice, label or regex."""

from __future__ import annotations

import dataclasses
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.baseproc.util.streamdim import resolve_feature_dim
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from . import _slice_parse as sp
from ._backend import asarray, namespace_and_device
from ._messages import axis_index, replace_data, replace_fields
from ._processors import StreamAxisMixin, stream_axis
from ._units import TransformerUnit
from .util.message import with_fingerprint

ORDERS = ("axis", "selection")
ON_EMPTY = ("warn", "raise")


def parse_slice(s: str, axinfo: AxisArray.CoordinateAxis | None = None,
                field: str | None = None, allow_empty: bool = False
                ) -> tuple[slice | int, ...]:
    """The ``slice`` and ``int`` items a selection string names, in token order.

    * ``""``, ``":"`` or ``"none"`` (any case): everything, ``(slice(None),)``;
    * ``"start:stop"`` or ``"start:stop:step"`` (parts may be empty): that slice;
    * a bare integer such as ``"5"``: that position (a selection of only this drops the dim);
    * with ``axinfo`` carrying labels (a CoordinateAxis; structured data: its "label" field,
      or ``field``): a word is first matched exactly against the labels, then as a regular
      expression matching whole labels (``"Ch[0-3]"``; a regex cannot contain ":"). A word
      naming a label wins over its integer reading. With ``field`` given, words only match
      that field's values (as text), so ``"3"`` is the value 3, not position 3 (positions
      remain available as slices, ``"3:4"``);
    * comma-separated tokens of the above: their items concatenated in order.

    A word that matches nothing raises ``ValueError`` listing the available labels, or gives
    no items with ``allow_empty=True``.
    """
    if "," not in s:
        return sp.parse_token(s, axinfo, field, allow_empty)
    out: list[slice | int] = []
    for token in s.split(","):
        out += sp.parse_token(token, axinfo, field, allow_empty)
    return tuple(out)


class SlicerSettings(ez.Settings):
    selection: str = ""
    """What to keep, as ``parse_slice`` reads it. Default "" (everything). Only a bare
    integer position drops the dim; labels and regexes keep it (one match: length 1)."""

    axis: str | None = None
    """The dim to select along. None (default): the last dim that is not the stream dim."""

    field: str | None = None
    """Which field of a structured coordinate axis words match (e.g. "bank"). None (default):
    its "label" field when it has one. Given, bare integers are field values, not positions,
    and an axis without that field raises."""

    order: str = "axis"
    """Order of a comma-separated selection's entries: "axis" (default) sorts them into the
    axis' order (a selection is a filter), "selection" keeps token order (a permutation).
    Either way an entry named twice is kept once (first occurrence, with a warning). One
    slice alone (e.g. "::-1") is applied as it is."""

    on_empty: str = "warn"
    """A label or regex that matches nothing: "warn" (default) drops it (and logs the
    available labels; if nothing at all matches, the output has length 0 along the axis),
    "raise" raises ``ValueError`` listing the available labels."""

    def __post_init__(self) -> None:
        if not isinstance(self.selection, str):
            raise ValueError(f"selection: must be a string, got {self.selection!r}")
        for name in ("axis", "field"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise ValueError(f"{name}: must be a name or None, got {v!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order: must be one of {list(ORDERS)}, got {self.order!r}")
        if self.on_empty not in ON_EMPTY:
            raise ValueError(f"on_empty: must be one of {list(ON_EMPTY)}, got {self.on_empty!r}")


@processor_state
class SlicerState:
    ix: int = 0
    """Index of the sliced dim."""

    key: tuple | None = None
    """A basic index (slices and at most one int) when the selection is one; else None."""

    index: Any = None
    """The selected positions as an integer array on the data's device (when ``key`` is
    None)."""

    new_axis: Any = None
    """The sliced dim's axis on the output (None: the input's, unchanged)."""

    drop: bool = False
    """Whether the dim is dropped (a bare integer position)."""


class SlicerTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[SlicerSettings, AxisArray, AxisArray, SlicerState],
):
    """Keep the selected entries of one dim, in the input's namespace and device. Slices and
    selections that form an increasing progression are basic indexing (views where the
    backend has them); any other selection gathers with ``xp.take`` along an index array
    built on the host and moved to the device once per stream layout.

    The selection is resolved on a reset (the shared rule: a change in the labels or length
    of any dim but the stream dim, the namespace, device or dtype)."""

    def _axis(self, message: AxisArray) -> str:
        # The reset rule's axis is the stream dim; ``settings.axis`` is the sliced dim, whose
        # length and labels are part of the layout.
        return stream_axis(self, message, None)

    def _reset_extra(self, message: AxisArray) -> tuple:
        # Slicing along the stream dim itself (an explicit ``axis``): its length and
        # coordinates change from message to message, so the selection is resolved afresh on
        # each one (a value that never repeats forces the reset).
        axis = self.settings.axis
        if axis is not None and axis == self._axis(message):
            return (object(),)
        return ()

    def _sliced(self, message: AxisArray) -> str:
        axis = self.settings.axis
        return axis if axis is not None else resolve_feature_dim(message)

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis = self._sliced(message)
        ix = axis_index(message, axis)
        n = message.data.shape[ix]
        axinfo = message.axes.get(axis)
        items = parse_slice(s.selection, axinfo, s.field, allow_empty=s.on_empty == "warn")
        if s.on_empty == "warn":
            self._log_dropped(axis, axinfo)
        st.ix, st.drop, st.index, st.key = ix, False, None, None
        head = (slice(None),) * ix
        sel: Any
        axis_sel: Any = None  # what the output axis follows, when not ``sel``
        if len(items) == 1 and (isinstance(items[0], slice)
                                or sp.is_positional_int(s.selection, axinfo, s.field)):
            sel = items[0]
            if isinstance(sel, int):
                sp.positions(items, n, axis)  # range check
                st.key, st.drop = head + (sel, Ellipsis), True
            elif (sel.step or 1) > 0:
                st.key = head + (sel, Ellipsis)
            else:  # negative steps: not every backend slices backwards (torch)
                axis_sel, sel = sel, np.arange(n)[sel]
        else:
            sel = self._normalise(sp.positions(items, n, axis), axis)
            as_slice = sp.as_slice(sel)
            if as_slice is not None:
                sel = as_slice
                st.key = head + (sel, Ellipsis)
        if st.key is None:
            xp, dev = namespace_and_device(message.data)
            st.index = asarray(xp, np.asarray(sel, dtype=np.int32), dtype=xp.int32, device=dev)
        st.new_axis = None if st.drop else _new_axis(axinfo, sel if axis_sel is None
                                                     else axis_sel, n)

    def _log_dropped(self, axis: str, axinfo: Any) -> None:
        s = self.settings
        tokens = [t.strip() for t in s.selection.split(",")]
        dropped = [t for t in tokens if sp.parse_token(t, axinfo, s.field, True) == ()]
        if not dropped:
            return
        labels = sp.axis_labels(axinfo, s.field)
        available = [] if labels is None else [str(v) for v in labels]
        if len(dropped) == len(tokens):
            ez.logger.warning("Slicer: selection %r matches nothing on axis %r (available: "
                              "%s); the output is empty along it.", s.selection, axis,
                              available)
        else:
            ez.logger.info("Slicer: tokens %r match nothing on axis %r (available: %s); "
                           "dropped.", dropped, axis, available)

    def _normalise(self, idx: np.ndarray, axis: str) -> np.ndarray:
        """Each entry once (first occurrence), then in axis order unless order="selection"."""
        _, first = np.unique(idx, return_index=True)
        kept = idx[np.sort(first)]
        if kept.size < idx.size:
            ez.logger.warning("Slicer: selection %r names %d entr(ies) of axis %r more than "
                              "once; each is kept once.", self.settings.selection,
                              idx.size - kept.size, axis)
        if self.settings.order == "selection":
            return kept
        ordered = np.sort(kept)
        if not np.array_equal(ordered, kept):
            ez.logger.info("Slicer: selection %r is not in the order of axis %r; the output "
                           "follows the axis (order='selection' keeps token order).",
                           self.settings.selection, axis)
        return ordered

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        x = message.data
        if st.key is not None:
            y = x[st.key]
        else:
            y = namespace_and_device(x)[0].take(x, st.index, axis=st.ix)
        if st.drop:
            gone = message.dims[st.ix]
            return replace_fields(message, y, dims=[d for d in message.dims if d != gone],
                                  axes={k: v for k, v in message.axes.items() if k != gone})
        if st.new_axis is None:
            return replace_data(message, y)
        axes = dict(message.axes)
        axes[message.dims[st.ix]] = st.new_axis
        return replace_fields(message, y, axes=axes)


def _new_axis(axinfo: Any, sel: slice | np.ndarray, n: int) -> Any:
    """The sliced dim's output axis: coordinates of the selected entries; a LinearAxis
    follows a slice (new offset and gain); None keeps the input's axis."""
    data = getattr(axinfo, "data", None)
    if data is not None:
        if len(data) == 0:
            return None
        return with_fingerprint(dataclasses.replace(axinfo, data=np.asarray(data)[sel]))
    if isinstance(axinfo, LinearAxis) and isinstance(sel, slice):
        start, _, step = sel.indices(n)
        return dataclasses.replace(axinfo, offset=axinfo.offset + start * axinfo.gain,
                                   gain=axinfo.gain * step)
    return None


class Slicer(TransformerUnit[SlicerSettings, AxisArray, AxisArray, SlicerTransformer]):
    SETTINGS = SlicerSettings


def slicer(selection: str = "", axis: str | None = None, field: str | None = None,
           order: str = "axis", on_empty: str = "warn") -> SlicerTransformer:
    """A ``SlicerTransformer`` keeping ``selection`` of ``axis`` (see ``SlicerSettings``)."""
    return SlicerTransformer(SlicerSettings(selection=selection, axis=axis, field=field,
                                            order=order, on_empty=on_empty))
