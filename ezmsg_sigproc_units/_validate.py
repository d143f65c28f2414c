"""Settings validation shared by every family: each check raises ``ValueError`` that starts
with the field's name, so a user sees at construction which setting is wrong."""

from __future__ import annotations

import enum
import math
from typing import Any


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
