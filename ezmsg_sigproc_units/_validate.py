"""Settings validation shared by every family: each check raises ``ValueError`` that starts
with the field's name, so a user sees at construction which setting is wrong. Also
``changed_fields``: which settings an update changes."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
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


def check_count(name: str, value: Any, minimum: int = 1) -> None:
    """``value`` must be an int >= ``minimum`` (default 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")


def check_counts(name: str, value: Any) -> None:
    """``value`` must be a non-empty tuple or list of ints >= 1."""
    if (not isinstance(value, (tuple, list)) or not value
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)):
        raise ValueError(f"{name}: must be a non-empty sequence of integers >= 1, "
                         f"got {value!r}")


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


def check_rank(message: Any) -> None:
    """``ValueError`` unless ``message.data`` has one dimension per name in ``message.dims``
    (AxisArray checks that only when it is built: a message altered afterwards, or unpickled,
    may not). Call it before ``_process`` writes state."""
    if message.data.ndim != len(message.dims):
        raise ValueError(f"data: {message.data.ndim} dimensions for dims "
                         f"{list(message.dims)}")


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
    if isinstance(a, Mapping) and isinstance(b, Mapping):  # e.g. model_kwargs holding arrays
        return a.keys() == b.keys() and all(_same_arrays(a[k], b[k]) for k in a)
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (ValueError, TypeError):
        return False


# Filter designs: band edges, orders and coefficient forms.

IIR_COEF_TYPES = ("ba", "sos")
"""The coefficient forms a Settings class may request for an IIR design."""


def check_edge(name: str, value: Any) -> None:
    """A band edge must be None or a finite real number > 0 (``ValueError`` naming ``name``)."""
    if value is None:
        return
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer))
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{name}: must be None or a finite frequency > 0, got {value!r}")


def check_in_band(name: str, value: float, fs: float, wn_hz: bool = True) -> None:
    """``value`` must lie strictly inside (0, Nyquist): (0, fs/2) in Hz, (0, 1) normalised."""
    limit = fs / 2.0 if wn_hz else 1.0
    if not 0.0 < value < limit:
        where = f"(0, fs/2 = {limit:g} Hz) at fs = {fs:g} Hz" if wn_hz else "(0, 1) (wn_hz=False)"
        raise ValueError(f"{name}: {value!r} is outside {where}")


def check_order(value: Any, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"order: must be an integer >= {minimum}, got {value!r}")


def butter_specs(cuton: float | None, cutoff: float | None
                 ) -> tuple[str, float | tuple[float, float]] | None:
    """(btype, Wn) from the edges: cutoff only -> lowpass, cuton only -> highpass, cuton < cutoff
    -> bandpass, cuton > cutoff -> bandstop; neither -> None (passthrough)."""
    if cuton is None and cutoff is None:
        return None
    if cuton is None:
        return "lowpass", cutoff
    if cutoff is None:
        return "highpass", cuton
    if cuton == cutoff:
        raise ValueError(f"cuton: equals cutoff ({cutoff!r}); a band needs two distinct edges")
    if cuton < cutoff:
        return "bandpass", (cuton, cutoff)
    return "bandstop", (cutoff, cuton)


PASS_ZERO = (True, False, "bandpass", "lowpass", "highpass", "bandstop")


def cutoff_edges(cutoff: Any, name: str = "cutoff") -> tuple[float, ...]:
    """Cut-off(s) as an increasing tuple of positive finite frequencies."""
    try:
        edges = tuple(np.atleast_1d(np.asarray(cutoff, dtype=float)).tolist())
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a frequency or a 1-D sequence of them, "
                         f"got {cutoff!r}") from None
    if np.ndim(cutoff) > 1 or not edges:
        raise ValueError(f"{name}: must be a frequency or a 1-D sequence of them, got {cutoff!r}")
    for v in edges:
        check_edge(name, v)
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError(f"{name}: edges must increase strictly, got {cutoff!r}")
    return edges


def check_cutoff_and_pass_zero(cutoff: Any, pass_zero: Any, wn_hz: bool) -> int | None:
    """Validate a window-method design's ``cutoff`` (None allowed: passthrough) and
    ``pass_zero``; the number of edges, or None without a cutoff."""
    n_edges = None
    if cutoff is not None:
        edges = cutoff_edges(cutoff)
        n_edges = len(edges)
        if not wn_hz and edges[-1] >= 1.0:
            raise ValueError(f"cutoff: {cutoff!r} must be < 1 (fraction of Nyquist) "
                             f"when wn_hz is False")
    check_pass_zero(pass_zero, n_edges)
    return n_edges


def passes_nyquist(n_edges: int, pass_zero: bool | str) -> bool:
    """Whether the response is non-zero at Nyquist (scipy ``firwin``'s rule)."""
    if isinstance(pass_zero, str):
        return pass_zero in ("highpass", "bandstop")
    return bool(n_edges & 1) ^ bool(pass_zero)


def check_pass_zero(pass_zero: Any, n_edges: int | None = None) -> None:
    if not any(pass_zero is p or (isinstance(p, str) and pass_zero == p) for p in PASS_ZERO):
        raise ValueError(f"pass_zero: must be one of {PASS_ZERO}, got {pass_zero!r}")
    if n_edges is not None and isinstance(pass_zero, str):
        want = 1 if pass_zero in ("lowpass", "highpass") else 2
        if n_edges != want:
            raise ValueError(f"pass_zero: {pass_zero!r} needs {want} cutoff edge(s), "
                             f"got {n_edges}")
