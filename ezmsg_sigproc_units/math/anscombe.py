"""Anscombe variance-stabilising transform of Poisson counts, and its inverses."""

from __future__ import annotations

import enum

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace
from .._kernels import elementwise
from .._messages import replace_data
from .._processors import StatelessTransformer
from .._units import TransformerUnit


class AnscombeSettings(ez.Settings):
    """No settings."""


class AnscombeTransformer(StatelessTransformer[AnscombeSettings, AxisArray, AxisArray]):
    """``2 * sqrt(x + 3/8)``: Poisson counts to roughly unit-variance Gaussian values.
    Samples below -3/8 give NaN."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        return replace_data(message, elementwise.anscombe(xp, message.data))


class Anscombe(TransformerUnit[AnscombeSettings, AxisArray, AxisArray, AnscombeTransformer]):
    SETTINGS = AnscombeSettings


class InverseMethod(str, enum.Enum):
    """How ``InverseAnscombeTransformer`` maps transformed values back to counts."""

    EXACT = "exact"
    """Closed-form approximation of the exact unbiased inverse (Makitalo & Foi 2011),
    clipped at 0; the least biased at low counts."""

    ASYMPTOTIC = "asymptotic"
    """``y^2/4 - 1/8``: unbiased for large counts."""

    ALGEBRAIC = "algebraic"
    """``y^2/4 - 3/8``: the plain algebraic inverse; biased at low counts."""


class InverseAnscombeSettings(ez.Settings):
    method: str | InverseMethod = InverseMethod.EXACT
    """Inverse to apply: an ``InverseMethod`` or its value ("exact", "asymptotic",
    "algebraic"). Strings are converted to ``InverseMethod``. Default InverseMethod.EXACT."""

    def __post_init__(self) -> None:
        try:
            method = InverseMethod(self.method)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in InverseMethod)
            raise ValueError(f"method: must be one of {choices}, got {self.method!r}") from None
        # Normalise during construction (the dataclass is frozen afterwards).
        object.__setattr__(self, "method", method)


class InverseAnscombeTransformer(
    StatelessTransformer[InverseAnscombeSettings, AxisArray, AxisArray]
):
    """Counts from Anscombe-transformed values, by ``settings.method``."""

    def _process(self, message: AxisArray) -> AxisArray:
        xp = array_namespace(message.data)
        method = self.settings.method.value
        return replace_data(message, elementwise.inverse_anscombe(xp, message.data, method))


class InverseAnscombe(
    TransformerUnit[InverseAnscombeSettings, AxisArray, AxisArray, InverseAnscombeTransformer]
):
    SETTINGS = InverseAnscombeSettings
