"""Selection strings of the slicer (host only): positions, slices, labels and regexes.

See ``slicer.parse_slice`` for the grammar. This module turns one string into a tuple of
``slice`` and ``int`` items against an axis' labels; ``resolve`` turns those into what the
slicer applies (a basic index or an index array).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

ALL = ("", ":", "none")


def axis_labels(axinfo: Any, field: str | None = None) -> np.ndarray | None:
    """The labels of ``axinfo`` per entry, or None when it has none to match.

    Structured coordinate data gives its ``field`` (default: its "label" field, or None
    without one) as strings, so numeric fields such as a bank number match their text. An
    explicit ``field`` must exist: a missing or unstructured axis raises ``ValueError``."""
    data = getattr(axinfo, "data", None)
    names = getattr(getattr(data, "dtype", None), "names", None)
    if field is not None:
        if names is None:
            what = "no coordinate data" if data is None else "unstructured coordinate data"
            raise ValueError(f"field: {field!r} needs structured coordinate data on the "
                             f"axis; it has {what}")
        if field not in names:
            raise ValueError(f"field: the axis data has no field {field!r}; its fields are "
                             f"{list(names)}")
        return np.asarray(data[field]).astype(str)
    if names is not None:
        return np.asarray(data["label"]).astype(str) if "label" in names else None
    return None if data is None else np.asarray(data)


def _exact(labels: np.ndarray, token: str) -> tuple[int, ...]:
    """Positions whose label is the string ``token`` (text and object labels only: a number
    never equals a token's text, so "3" stays a position on a numeric axis)."""
    if labels.dtype.kind not in "USO":
        return ()
    return tuple(int(i) for i, v in enumerate(labels) if isinstance(v, str) and v == token)


def _regex(labels: np.ndarray, token: str) -> tuple[int, ...]:
    try:
        pattern = re.compile(token)
    except re.error as exc:
        raise ValueError(f"selection: {token!r} is no label and no valid regex ({exc})") \
            from None
    return tuple(i for i, v in enumerate(labels) if pattern.fullmatch(str(v)))


def parse_token(token: str, axinfo: Any, field: str | None, allow_empty: bool
                ) -> tuple[slice | int, ...]:
    """One comma-free token (see ``slicer.parse_slice``)."""
    if token.lower() in ALL:
        return (slice(None),)
    parts = [p.strip() for p in token.split(":")]
    if len(parts) > 1:
        if len(parts) > 3:
            raise ValueError(f"selection: {token!r} has more than start:stop:step")
        try:
            return (slice(*(int(p) if p else None for p in parts)),)
        except ValueError:
            raise ValueError(f"selection: slice {token!r} needs integer bounds") from None
    word = parts[0]
    labels = axis_labels(axinfo, field)
    if labels is not None:
        hits = _exact(labels, word)
        if hits:
            return hits
    if field is None:
        try:
            return (int(word),)
        except ValueError:
            if labels is None:
                raise ValueError(f"selection: {word!r} is not an integer position, and the "
                                 f"axis has no labels to match it against") from None
    hits = _regex(labels, word)
    if hits or allow_empty:
        return hits
    where = "labels" if field is None else f"values of field {field!r}"
    raise ValueError(f"selection: {word!r} matches none of the {where} (exactly or as a "
                     f"regex); available: {[str(v) for v in labels]}")


def is_positional_int(selection: str, axinfo: Any, field: str | None) -> bool:
    """Whether ``selection`` is one bare integer taken as a position (not a label): the only
    selection that drops the dim."""
    sel = selection.strip()
    if field is not None or "," in sel or ":" in sel:
        return False
    labels = axis_labels(axinfo)
    if labels is not None and _exact(labels, sel):
        return False
    try:
        int(sel)
    except ValueError:
        return False
    return True


def positions(items: tuple[slice | int, ...], n: int, axis: str) -> np.ndarray:
    """The entries ``items`` select on an axis of length ``n``, concatenated in order."""
    base = np.arange(n)
    out = []
    for it in items:
        if isinstance(it, int) and not -n <= it < n:
            raise ValueError(f"selection: position {it} is out of range for axis {axis!r} of "
                             f"length {n}")
        out.append(np.atleast_1d(base[it]))
    return np.concatenate(out) if out else base[:0]


def as_slice(idx: np.ndarray) -> slice | None:
    """``idx`` as an equivalent slice when it is an increasing arithmetic progression."""
    if idx.size == 0:
        return None
    if idx.size == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    step = int(idx[1] - idx[0])
    if step < 1 or not np.all(np.diff(idx) == step):
        return None
    return slice(int(idx[0]), int(idx[-1]) + 1, step)
