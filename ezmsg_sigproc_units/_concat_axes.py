"""Host-side metadata of a two-stream concatenation (``concat``, ``merge``, ``resampleconcat``):
the merged coordinate axis, the attrs merge, and the checks that the two inputs agree.

Everything here reads axis metadata (NumPy arrays of labels or records, scalars) and runs only
when the inputs' layout changes, never on signal data.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from copy import deepcopy
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

logger = logging.getLogger(__name__)

ABSENT: Any = object()
"""An attrs key one input does not have."""

_SCALARS = (str, int, float, bool, np.integer, np.floating, np.bool_)


def _unicode_width(dt: np.dtype) -> int:
    return dt.itemsize // 4


def _struct_union_dtype(da: np.ndarray, db: np.ndarray) -> list[tuple[str, np.dtype]]:
    fields: dict[str, np.dtype] = {}
    for data in (da, db):
        for name in data.dtype.names or ():
            dt = data.dtype[name]
            have = fields.get(name)
            if have is None or have == dt:
                fields[name] = dt
            elif have.kind == "U" and dt.kind == "U":
                fields[name] = np.dtype(f"U{max(_unicode_width(have), _unicode_width(dt))}")
            else:
                raise ValueError(f"concat axis: field {name!r} has dtype {have} in A and {dt} "
                                 f"in B")
    return list(fields.items())


def merge_labels(ax_a: CoordinateAxis, ax_b: CoordinateAxis, relabel: bool, label_a: str,
                 label_b: str) -> CoordinateAxis:
    """A's coordinates then B's; with ``relabel`` each side's suffix is appended to its labels
    (the ``label`` field of record coordinates, created from the index when missing)."""
    da, db = np.asarray(ax_a.data), np.asarray(ax_b.data)
    if da.dtype.names is None and db.dtype.names is None:
        if relabel:
            da = np.asarray([f"{v}{label_a}" for v in da.tolist()])
            db = np.asarray([f"{v}{label_b}" for v in db.tolist()])
        data = np.concatenate([da, db])
        return CoordinateAxis(data=data, dims=list(ax_a.dims), unit=ax_a.unit)
    fields = _struct_union_dtype(da, db)
    names = [n for n, _ in fields]
    labels = None
    if relabel:
        labels = [f"{da[i]['label'] if 'label' in (da.dtype.names or ()) else i}{label_a}"
                  for i in range(len(da))]
        labels += [f"{db[j]['label'] if 'label' in (db.dtype.names or ()) else j}{label_b}"
                   for j in range(len(db))]
        width = max((len(s) for s in labels), default=1)
        if "label" in names:
            old = dict(fields)["label"]
            if old.kind == "U":
                wide = np.dtype(f"U{max(width, _unicode_width(old))}")
                fields[names.index("label")] = ("label", wide)
        else:
            fields.append(("label", np.dtype(f"U{width}")))
    out = np.zeros(len(da) + len(db), dtype=np.dtype(fields))
    for data, start in ((da, 0), (db, len(da))):
        for name in data.dtype.names or ():
            out[name][start:start + len(data)] = data[name]
    if labels is not None:
        out["label"] = labels
    return CoordinateAxis(data=out, dims=list(ax_a.dims), unit=ax_a.unit)


def split_attrs(attrs_a: dict | None, attrs_b: dict | None) -> tuple[dict, dict, dict]:
    """``(kept, only_a, only_b)``: keys equal on both sides stay in the output's attrs; the
    others become per-element fields of the concat axis (``ABSENT`` where a side lacks one).
    Values must be scalars (str, int, float, bool), else ``TypeError``."""
    attrs_a, attrs_b = attrs_a or {}, attrs_b or {}
    kept: dict = {}
    side_a: dict = {}
    side_b: dict = {}
    for key in list(attrs_a) + [k for k in attrs_b if k not in attrs_a]:
        va, vb = attrs_a.get(key, ABSENT), attrs_b.get(key, ABSENT)
        for v in (va, vb):
            if v is not ABSENT and not isinstance(v, _SCALARS):
                raise TypeError(f"attrs[{key!r}]: only str/int/float/bool values can be merged "
                                f"along the concat axis, got {type(v).__name__}")
        if va is not ABSENT and vb is not ABSENT and _equal(va, vb):
            kept[key] = va
        else:
            side_a[key], side_b[key] = va, vb
    return kept, side_a, side_b


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an exotic __eq__: compare identity
        return a is b


def _field_of(values: list) -> tuple[np.dtype, Any]:
    """(dtype, fill for absent) for one promoted attrs key."""
    present = [v for v in values if v is not ABSENT]
    if not present:
        return np.dtype("U1"), ""
    if any(isinstance(v, str) for v in present):
        return np.dtype(f"U{max(1, max(len(str(v)) for v in present))}"), ""
    if any(isinstance(v, (float, np.floating)) for v in present):
        return np.dtype("f8"), math.nan
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        return np.dtype("?"), False
    return np.dtype("i8"), 0


def promote_attrs(axis: CoordinateAxis | None, n_a: int, n_b: int, side_a: dict, side_b: dict,
                  dim: str, ref: Any) -> CoordinateAxis | None:
    """The concat axis with one record field per attrs key that differs between A and B
    (labels become the ``label`` field; a key that names an existing field is dropped)."""
    if not side_a:
        return axis
    base = None if axis is None else np.asarray(axis.data)
    if base is not None and base.dtype.names is None:
        rec = np.zeros(len(base), dtype=[("label", base.dtype)])
        rec["label"] = base
        base = rec
    have = set(base.dtype.names) if base is not None else set()
    extra = []
    for key in sorted(side_a):
        if key in have:
            logger.warning("concat: attrs key %r is already a field of axis %r; dropped", key,
                           dim)
            continue
        values = [side_a[key]] * n_a + [side_b[key]] * n_b
        dt, fill = _field_of(values)
        extra.append((key, dt, np.asarray([fill if v is ABSENT else v for v in values],
                                          dtype=dt)))
    if not extra:
        return axis
    fields = [] if base is None else [(n, base.dtype[n]) for n in base.dtype.names]
    out = np.zeros(n_a + n_b, dtype=fields + [(k, dt) for k, dt, _ in extra])
    for name, _ in fields:
        out[name] = base[name]
    for key, _, vals in extra:
        out[key] = vals
    if base is None and ref is None:
        return CoordinateAxis(data=out, dims=[dim])
    src = axis if axis is not None else ref
    return CoordinateAxis(data=out, dims=list(getattr(src, "dims", [dim])),
                          unit=getattr(src, "unit", ""))


def check_shared_axes(a: AxisArray, b: AxisArray, skip: set, stream_dim: str | None) -> None:
    """``assert_identical_shared_axes``: an axis both inputs have (outside ``skip``) must have
    the same coordinates, gain and (but on the stream dim) offset."""
    for name, ax_a in a.axes.items():
        ax_b = b.axes.get(name)
        if name in skip or ax_b is None:
            continue
        da, db = getattr(ax_a, "data", None), getattr(ax_b, "data", None)
        if da is not None and db is not None and not np.array_equal(da, db):
            raise ValueError(f"assert_identical_shared_axes: axis {name!r} has different "
                             f"coordinates in A and B")
        ga, gb = getattr(ax_a, "gain", None), getattr(ax_b, "gain", None)
        if ga is not None and gb is not None and ga != gb:
            raise ValueError(f"assert_identical_shared_axes: axis {name!r} has gain {ga} in A "
                             f"and {gb} in B")
        oa, ob = getattr(ax_a, "offset", None), getattr(ax_b, "offset", None)
        if name != stream_dim and oa is not None and ob is not None and oa != ob:
            raise ValueError(f"assert_identical_shared_axes: axis {name!r} has offset {oa} in "
                             f"A and {ob} in B")


def check_rates(a: AxisArray, b: AxisArray, dim: str | None, rtol: float = 1e-6) -> None:
    """Both inputs sampled at one rate along ``dim`` (their LinearAxis gains), else
    ``ValueError`` naming both rates."""
    if dim is None:
        return
    ga = getattr(a.axes.get(dim), "gain", None)
    gb = getattr(b.axes.get(dim), "gain", None)
    if ga is None or gb is None or ga == gb:
        return
    if not math.isclose(ga, gb, rel_tol=rtol):
        ra = 1.0 / ga if ga else math.inf
        rb = 1.0 / gb if gb else math.inf
        raise ValueError(f"{dim}: inputs sampled at different rates, A at {ra:g} Hz and B at "
                         f"{rb:g} Hz (gains {ga!r} and {gb!r}); resample one first")


def owned_axes(a: AxisArray, skip: set, merged: CoordinateAxis | None, dim: str) -> dict:
    """Copies of A's coordinate axes (not ``skip``), the merged concat axis in ``dim``'s
    place: the output's coordinate axes until the inputs' layout changes."""
    out = {}
    for name, ax in a.axes.items():
        if name == dim:
            if merged is not None:
                out[name] = merged
        elif name not in skip and getattr(ax, "data", None) is not None:
            out[name] = deepcopy(ax)
    if merged is not None:
        out[dim] = merged
    return out


def check_name(field: str, value: Any, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or (not value and not field.startswith("label")):
        raise ValueError(f"{field}: must be a {'non-empty ' if 'label' not in field else ''}"
                         f"string{' or None' if optional else ''}, got {value!r}")


def renamed_errors(build: Callable[[], Any], names: dict[str, str]) -> Any:
    """``build()``, its ``ValueError`` re-raised under the caller's field names (settings that
    forward their fields to a stage's settings under other names)."""
    try:
        return build()
    except ValueError as exc:
        msg = str(exc)
        field = msg.split(":", 1)[0]
        if field in names:
            raise ValueError(names[field] + msg[len(field):]) from exc
        raise
