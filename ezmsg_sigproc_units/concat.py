"""Concatenate two streams along an existing or a new axis, message pair by message pair.

``ConcatProcessor`` pairs the n-th message of input A with the n-th of input B (arrival order,
no time alignment: ``merge.Merge`` aligns first) and joins their data along ``axis``:

* an axis both inputs have (e.g. ``"ch"``): A's elements then B's. Coordinate labels are
  suffixed with ``label_a``/``label_b`` (``relabel_axis``); record coordinates keep every field
  (the union of both sides'), and only their ``label`` field is suffixed;
* an axis neither has (e.g. ``"feature"``): appended as the last dim, of length 2, with the
  coordinates ``[label_a, label_b]``.

Attrs equal on both sides stay in the output's attrs; the others become per-element fields of
the concat axis (a side that lacks a key gets ``""``, NaN, 0 or False). The output carries
A's key (or ``new_key``) and A's other axes. The merged metadata is rebuilt only when either
input's layout, coordinates, attrs or rates change.

Bad input raises ``ValueError``: inputs sampled at different rates along the stream dim (both
rates named), other dims of different lengths, the axis on one side only, or data on different
devices. Data of different array libraries raises ``TypeError`` unless
``auto_coerce_backend``. Output: A's namespace and device, the two inputs' promoted dtype.
"""

from __future__ import annotations

import dataclasses
import typing

import ezmsg.core as ez
import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ._backend import array_namespace
from ._concat_axes import (
    check_name,
    check_rates,
    check_shared_axes,
    merge_labels,
    owned_axes,
    promote_attrs,
    split_attrs,
)
from ._concat_plan import attrs_digest, layout, same_backend, same_pair
from ._messages import replace_fields
from .math._pair import _PairProcessor, _PairState, _PairUnit
from .util.channels import AxisFingerprintMemo
from .util.message import with_fingerprint


class ConcatSettings(ez.Settings):
    axis: str = "ch"
    """Dim to concatenate along: one both inputs have, or a new one (appended last).
    Default ``"ch"``."""

    align_axis: str | None = None
    """The dim the inputs are aligned along (e.g. ``"time"``): its axis is read live from A
    and left out of the shared-axes check. None (default): A's ``stream_dim``."""

    relabel_axis: bool = True
    """Suffix the coordinate labels of the concat axis with ``label_a``/``label_b`` so they
    stay unique. Default True."""

    label_a: str = "_a"
    """Input A's suffix (existing axis, ``relabel_axis``) or coordinate (new axis).
    Default ``"_a"``."""

    label_b: str = "_b"
    """Input B's suffix or coordinate, as ``label_a``. Default ``"_b"``."""

    assert_identical_shared_axes: bool = False
    """Raise ``ValueError`` when an axis both inputs have (other than the concat and align
    axes) differs in coordinates, gain or offset. Default False (A's axis is used)."""

    new_key: str | None = None
    """The output's key. None (default): A's key."""

    auto_coerce_backend: bool = False
    """Move B's data to A's array library and device when they differ, instead of raising.
    Default False (a mismatch is usually an upstream mistake, and a copy)."""

    def __post_init__(self) -> None:
        check_name("axis", self.axis)
        check_name("align_axis", self.align_axis, optional=True)
        check_name("label_a", self.label_a)
        check_name("label_b", self.label_b)
        check_name("new_key", self.new_key, optional=True)


@dataclasses.dataclass
class ConcatState(_PairState):
    """Messages waiting for a partner (``queue_a``, ``queue_b``), and the output metadata of
    the current layout."""

    merged_concat_axis: CoordinateAxis | None = None
    cached_axes: dict | None = None
    merged_attrs: dict | None = None
    a_fingerprint: tuple | None = None
    b_fingerprint: tuple | None = None


class _Memo:
    """Per input: the last axes/attrs objects seen and their digests (identity shortcut)."""

    __slots__ = ("axes", "attrs", "attrs_fp", "quick", "keep", "fp")

    def __init__(self) -> None:
        self.axes = AxisFingerprintMemo(label="ConcatProcessor")
        self.attrs: typing.Any = None
        self.attrs_fp: typing.Any = None
        self.quick: tuple | None = None  # identities of the last message's metadata objects
        self.keep: tuple = ()  # ... kept alive, so that their ids cannot be reused
        self.fp: tuple | None = None  # the fingerprint that ``quick`` stands for


class ConcatProcessor(_PairProcessor):
    """Join the oldest message of A with the oldest of B along ``settings.axis``.

    ``push_a``/``push_b`` queue a message; ``__call__()`` returns the next joined message or
    None (never blocks); ``await __acall__()`` waits for a pair. ``_concat(a, b)`` joins one
    pair directly (``merge`` and ``resampleconcat`` use it).
    """

    _STATE = ConcatState

    def __init__(self, settings: ConcatSettings | None = None, **kwargs: typing.Any) -> None:
        super().__init__()
        self.settings = settings if settings is not None else ConcatSettings(**kwargs)
        self._memos = (_Memo(), _Memo())
        self._plan: tuple | None = None  # the last pair's layout, for the NumPy fast path

    def _combine(self, a: AxisArray, b: AxisArray) -> AxisArray:
        return self._concat(a, b)

    # ------------------------------------------------------------------ one pair
    def _concat(self, a: AxisArray, b: AxisArray) -> AxisArray:
        """A and B joined along ``settings.axis`` (the metadata rebuilt when it changed)."""
        plan = self._plan
        if plan is not None and plan[0] is self._state and same_pair(a, b, plan):
            data = (np.concatenate((a.data, b.data), axis=plan[5]) if plan[6]
                    else np.stack((a.data, b.data), axis=-1))
            axes = plan[7].copy()
            live = a.axes
            for name in plan[8]:
                axes[name] = live[name]
            attrs = self._state.merged_attrs
            return replace_fields(a, data, dims=plan[9], axes=axes,
                                  key=a.key if plan[10] is None else plan[10],
                                  attrs=dict(attrs) if attrs else {})
        return self._general(a, b)

    def _general(self, a: AxisArray, b: AxisArray) -> AxisArray:
        st, dim = self._state, self.settings.axis
        fp_a = self._digest(a, self._memos[0])
        fp_b = self._digest(b, self._memos[1])
        if fp_a != st.a_fingerprint or fp_b != st.b_fingerprint:
            self._rebuild(a, b)
            st.a_fingerprint, st.b_fingerprint = fp_a, fp_b
        xa, xb = same_backend(a.data, b.data, self.settings.auto_coerce_backend)
        xp = array_namespace(xa)
        dims = a.dims
        if dim in dims:
            ix = dims.index(dim)
            sa, sb = xa.shape, xb.shape
            if sa[:ix] != sb[:ix] or sa[ix + 1:] != sb[ix + 1:]:
                raise ValueError(f"axis: cannot join along {dim!r}: A has shape {tuple(sa)} and "
                                 f"B {tuple(sb)} over dims {list(dims)}")
        else:
            if tuple(xa.shape) != tuple(xb.shape):
                raise ValueError(f"axis: cannot stack along new dim {dim!r}: A has shape "
                                 f"{tuple(xa.shape)} and B {tuple(xb.shape)} over dims "
                                 f"{list(dims)}")
            ix = len(dims)
            dims = [*dims, dim]
            xa, xb = xp.expand_dims(xa, axis=ix), xp.expand_dims(xb, axis=ix)
        if xa.dtype != xb.dtype:
            dt = xp.result_type(xa.dtype, xb.dtype)
            xa, xb = xp.astype(xa, dt), xp.astype(xb, dt)
        data = xp.concat([xa, xb], axis=ix)
        cached = st.cached_axes or {}
        axes = {name: cached.get(name, ax) for name, ax in a.axes.items()}
        for name, ax in cached.items():
            axes.setdefault(name, ax)
        key = self.settings.new_key if self.settings.new_key is not None else a.key
        out = replace_fields(a, data, dims=dims, axes=axes, key=key,
                             attrs=dict(st.merged_attrs or {}))
        sd = self._stream_dim(a)
        si = a.dims.index(sd) if sd in a.dims and sd != dim else None
        live = tuple(n for n in a.axes if n not in cached)
        self._plan = (st, layout(a, sd), layout(b, self._stream_dim(b)), si,
                      None if si is None else b.dims.index(sd), ix, dim in a.dims,
                      {n: ax for n, ax in out.axes.items() if n not in live}, live,
                      None if dim in a.dims else out.dims,
                      self.settings.new_key)
        return out

    def _stream_dim(self, msg: AxisArray) -> str | None:
        if self.settings.align_axis is not None:
            return self.settings.align_axis
        sd = msg.stream_dim
        if sd is None and "time" in msg.dims and self.settings.axis != "time":
            return "time"
        return sd

    def _digest(self, msg: AxisArray, memo: _Memo) -> tuple:
        """What the merged metadata depends on (dims, non-stream lengths, coordinates, linear
        axes, attrs), from the objects' identities when they are the last message's."""
        sd = self._stream_dim(msg)
        skip = (sd, self.settings.align_axis)
        dims, shape, axes, attrs = msg.dims, msg.data.shape, msg.axes, msg.attrs
        if sd in dims:
            i = dims.index(sd)
            shape = shape[:i] + shape[i + 1:]
        keep = tuple([ax for name, ax in axes.items() if name not in skip])
        quick = (tuple(dims), tuple(shape), sd, tuple(map(id, keep)),
                 id(attrs) if attrs else 0,
                 tuple([getattr(axes.get(n), "gain", None) for n in skip]))
        if quick == memo.quick:
            return memo.fp
        axes_fp = memo.axes.fingerprint(msg, exclude=skip[1:] if skip[1] else ())
        if attrs is not memo.attrs or memo.attrs_fp is None:
            memo.attrs, memo.attrs_fp = attrs, attrs_digest(attrs)
        linear = []
        for name, ax in axes.items():
            gain = getattr(ax, "gain", None)
            if gain is not None and getattr(ax, "data", None) is None:
                linear.append((name, gain) if name in skip else (name, gain, ax.offset))
        memo.fp = (quick[0], quick[1], axes_fp, tuple(linear), memo.attrs_fp)
        memo.quick, memo.keep = quick, (keep, attrs)
        return memo.fp

    def _rebuild(self, a: AxisArray, b: AxisArray) -> None:
        s, st, dim = self.settings, self._state, self.settings.axis
        sd = self._stream_dim(a)
        if (dim in a.dims) != (dim in b.dims):
            raise ValueError(f"axis: {dim!r} is a dim of input {'A' if dim in a.dims else 'B'} "
                             f"only (A dims {list(a.dims)}, B dims {list(b.dims)})")
        if sd != dim:
            check_rates(a, b, sd)
        if s.assert_identical_shared_axes:
            check_shared_axes(a, b, {dim, s.align_axis}, sd)
        ax_a, ax_b = a.axes.get(dim), b.axes.get(dim)
        merged = None
        if getattr(ax_a, "data", None) is not None and getattr(ax_b, "data", None) is not None:
            merged = merge_labels(ax_a, ax_b, s.relabel_axis, s.label_a, s.label_b)
        elif dim not in a.dims:
            merged = CoordinateAxis(data=np.asarray([s.label_a, s.label_b]), dims=[dim])
        kept, side_a, side_b = split_attrs(a.attrs, b.attrs)
        if side_a:
            n_a = a.data.shape[a.dims.index(dim)] if dim in a.dims else 1
            n_b = b.data.shape[b.dims.index(dim)] if dim in b.dims else 1
            merged = promote_attrs(merged, n_a, n_b, side_a, side_b, dim,
                                   ax_a if ax_a is not None else ax_b)
        if merged is not None:
            with_fingerprint(merged)
        st.merged_concat_axis, st.merged_attrs = merged, kept
        st.cached_axes = owned_axes(a, {s.align_axis, sd}, merged, dim)


class Concat(_PairUnit):
    """``OUTPUT_SIGNAL``: ``INPUT_SIGNAL_A`` and ``INPUT_SIGNAL_B`` joined along the axis,
    paired by arrival order (no time alignment), published as soon as a pair is complete. A
    malformed message, or a pair that cannot be joined, is dropped with one WARNING line (see
    ``math._pair._PairUnit``); the stream goes on."""

    SETTINGS = ConcatSettings

    def _make_processor(self) -> ConcatProcessor:
        return ConcatProcessor(self.SETTINGS)
