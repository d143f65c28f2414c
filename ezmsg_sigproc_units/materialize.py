"""Force lazy arrays (MLX) to be computed at a chosen point of a pipeline."""

from __future__ import annotations

import enum

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import materialize
from ._processors import StatelessTransformer
from ._units import TransformerUnit
from ._validate import check_member


class MaterializeMode(str, enum.Enum):
    """SYNC waits for the values, ASYNC schedules their computation, OFF leaves them lazy."""

    SYNC = "sync"
    ASYNC = "async"
    OFF = "off"


def materialize_array(data, mode: MaterializeMode | str = MaterializeMode.SYNC):
    """Materialise ``data`` (a no-op for eager backends) and return it."""
    return materialize(data, check_member(MaterializeMode, "mode", mode).value)


class MaterializeSettings(ez.Settings):
    mode: MaterializeMode = MaterializeMode.SYNC
    """How to materialise (member, value or name). Default SYNC."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", check_member(MaterializeMode, "mode", self.mode))


class MaterializeTransformer(StatelessTransformer[MaterializeSettings, AxisArray, AxisArray]):
    """Pass messages through with their data materialised."""

    def _process(self, message: AxisArray) -> AxisArray:
        materialize(message.data, self.settings.mode.value)
        return message


class Materialize(TransformerUnit[MaterializeSettings, AxisArray, AxisArray,
                                  MaterializeTransformer]):
    SETTINGS = MaterializeSettings
