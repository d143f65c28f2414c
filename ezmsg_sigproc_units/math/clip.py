"""Limit samples to a range."""

from __future__ import annotations

import math

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit


class ClipSettings(ez.Settings):
    min: float | None = None
    """Lower bound; None leaves values unbounded below. Default None."""

    max: float | None = None
    """Upper bound; None leaves values unbounded above. Default None."""

    def __post_init__(self) -> None:
        for name in ("min", "max"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or math.isnan(v)):
                raise ValueError(f"{name}: must be a number or None, got {v!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min: {self.min} is greater than max {self.max}")


class ClipTransformer(StatelessTransformer[ClipSettings, AxisArray, AxisArray]):
    """Clip samples to ``[min, max]``; NaN stays NaN. Integer input is clipped in float."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        s = self.settings
        return replace_data(message, elementwise.clip(xp, message.data, s.min, s.max))


class Clip(TransformerUnit[ClipSettings, AxisArray, AxisArray, ClipTransformer]):
    SETTINGS = ClipSettings


def clip(min: float | None = None, max: float | None = None) -> ClipTransformer:  # noqa: A002
    """A ``ClipTransformer`` limiting samples to ``[min, max]``."""
    return ClipTransformer(ClipSettings(min=min, max=max))
