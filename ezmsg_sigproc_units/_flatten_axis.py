"""The merged label axis of ``flatten`` (host metadata only): one structured row per
combination of the flattened axes' entries, in C order (the last flattened axis fastest).

Each flattened axis contributes fields to the rows:

* a structured CoordinateAxis: all its fields (its "label" field, if any, is its primary
  label; otherwise its 1-based positions are);
* a plain CoordinateAxis: one field named after the axis holding its labels as strings (also
  the primary label);
* no coordinates: one uint32 field named after the axis with 1-based positions.

Fields with one name from several axes: the later axis' values win; unicode widths widen to
the wider, other dtype clashes raise. The "label" field always holds the primary labels joined
with the separator (it keeps its place when a source had one, else comes last).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis


def normalize_axis_label(label: Any) -> Any:
    """A hashable form of one coordinate label: a structured entry gives its "label" field
    as a string (without one: a tuple of ``(field, normalised value)``), a NumPy scalar its
    Python value, anything unhashable its ``str``."""
    names = getattr(getattr(label, "dtype", None), "names", None)
    if names is not None:
        if "label" in names:
            return str(label["label"])
        return tuple((n, normalize_axis_label(label[n])) for n in names)
    if isinstance(label, np.generic):
        return label.item()
    try:
        hash(label)
    except TypeError:
        return str(label)
    return label


def axis_labels(axis_data: Any) -> list:
    """The labels of a CoordinateAxis' data, each through ``normalize_axis_label``."""
    return [normalize_axis_label(v) for v in axis_data]


def _source(msg: AxisArray, name: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(structured rows, primary labels as strings) of one flattened axis."""
    data = getattr(msg.axes.get(name), "data", None)
    if data is not None:
        data = np.asarray(data)
        if data.dtype.names is not None:
            primary = (data["label"].astype(str) if "label" in data.dtype.names
                       else np.arange(1, size + 1).astype(str))
            return data, primary
        labels = np.array([str(v) for v in axis_labels(data[:size])])
        if labels.size == 0:
            labels = labels.astype("U1")
        rows = np.empty(size, dtype=[(name, labels.dtype)])
        rows[name] = labels
        return rows, labels
    pos = np.arange(1, size + 1, dtype=np.uint32)
    rows = np.empty(size, dtype=[(name, np.uint32)])
    rows[name] = pos
    return rows, pos.astype(str)


def _widen(name: str, a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    if a.kind == "U" and b.kind == "U":
        return a if a.itemsize >= b.itemsize else b
    raise ValueError(f"flatten_axes: field {name!r} is {a} on one axis and {b} on another; "
                     f"only unicode widths can be merged")


def merged_axis(msg: AxisArray, names: tuple[str, ...], sizes: tuple[int, ...],
                output_axis: str, separator: str) -> CoordinateAxis:
    """The structured CoordinateAxis (dim ``output_axis``) describing the merged entries."""
    if not names:
        return CoordinateAxis(data=np.zeros(1, dtype=[("label", "U1")]), dims=[output_axis])
    n = math.prod(sizes)
    sources = [_source(msg, name, size) for name, size in zip(names, sizes, strict=True)]

    def spread(a: np.ndarray, i: int) -> np.ndarray:  # entry i of axis k at row r, C order
        return np.tile(np.repeat(a, math.prod(sizes[i + 1:])), math.prod(sizes[:i]))

    rows = [spread(r, i) for i, (r, _) in enumerate(sources)]
    prim = [spread(p, i) for i, (_, p) in enumerate(sources)]
    label = np.array([separator.join(parts) for parts in zip(*prim, strict=True)])
    if n == 0:
        label = label.astype("U1")
    fields: dict[str, np.dtype] = {}
    for r in rows:
        for f in r.dtype.names:
            dt = r.dtype[f]
            fields[f] = _widen(f, fields[f], dt) if f in fields else dt
    fields["label"] = _widen("label", fields["label"], label.dtype) if "label" in fields \
        else label.dtype
    out = np.zeros(n, dtype=list(fields.items()))
    for r in rows:
        for f in r.dtype.names:
            out[f] = r[f]
    out["label"] = label
    return CoordinateAxis(data=out, dims=[output_axis])
