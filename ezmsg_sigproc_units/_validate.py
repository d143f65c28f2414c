"""Settings validation shared by every family: each check raises ``ValueError`` that starts
with the field's name, so a user sees at construction which setting is wrong. Also
``changed_fields``: which settings an update changes."""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

import numpy as np


def check_real(name: str, value: Any, *, minimum: float | None = None,
               finite: bool = True) -> None:
    """``value`` must be a real number (not bool, not NaN; finite unless ``finite=False``)
    and at least ``minimum`` when given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name}: must be a real number (not NaN), got {value!r}")
    if finite and not math.isfinite(value):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value!r}")


def check_count(name: str, value: Any) -> None:
    """``value`` must be an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: must be an integer >= 1, got {value!r}")


def check_member(enum_type: type[enum.Enum], field: str, value: Any) -> Any:
    """``value`` (a member, its value or its name) as a member of ``enum_type``."""
    try:
        return enum_type(value)
    except ValueError:
        try:
            return enum_type[str(value).upper()]
        except KeyError:
            raise ValueError(f"{field}: unknown {enum_type.__name__} {value!r}; choose one of "
                             f"{[m.value for m in enum_type]}") from None


def changed_fields(old: Any, new: Any) -> set[str]:
    """Names of dataclass fields whose values differ (arrays compared by value)."""
    out = set()
    for f in dataclasses.fields(old):
        a, b = getattr(old, f.name), getattr(new, f.name, None)
        if a is b:
            continue
        try:
            same = bool(a == b)
        except (ValueError, TypeError):  # arrays, tuples of arrays
            same = _same_arrays(a, b)
        if not same:
            out.add(f.name)
    return out


def _same_arrays(a: Any, b: Any) -> bool:
    if dataclasses.is_dataclass(a) and type(a) is type(b):  # e.g. FilterCoefficients
        a, b = (tuple(getattr(v, f.name) for f in dataclasses.fields(v)) for v in (a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_arrays(u, v) for u, v in zip(a, b, strict=True))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (ValueError, TypeError):
        return False
