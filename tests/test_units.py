"""Every Unit of the suite: the right base, its settings, and a processor it can build."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.baseproc import BaseTransformerUnit
from ezmsg.util.messages.axisarray import AxisArray

import ezmsg_sigproc_units
from ezmsg_sigproc_units._units import TransformerUnit
from ezmsg_sigproc_units.math.clip import Clip, ClipSettings
from ezmsg_sigproc_units.testing import assert_close


def _units() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(ezmsg_sigproc_units.__path__, "ezmsg_sigproc_units."):
        if ".testing" in info.name or info.name.split(".")[-1].startswith("_"):
            continue
        mod = importlib.import_module(info.name)
        for obj in vars(mod).values():
            ours = isinstance(obj, type) and obj.__module__ == mod.__name__
            if ours and issubclass(obj, ez.Unit):
                found.append(obj)
    return found


UNITS = _units()


def test_units_found():
    assert len(UNITS) >= 20, [u.__name__ for u in UNITS]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: f"{u.__module__}.{u.__name__}")
def test_unit_contract(unit):
    if issubclass(unit, BaseTransformerUnit):
        assert issubclass(unit, TransformerUnit), "transformer Units must materialise outputs"
        assert unit.__tasks__["on_signal"].__module__ == "ezmsg_sigproc_units._units"
    settings = getattr(unit, "SETTINGS", None)
    if settings is not None:
        assert settings is not ez.Settings, f"{unit.__name__} lacks SETTINGS"


def test_transformer_unit_publishes_computed_output(backend):
    host = np.array([[-1.0, 0.25], [2.0, 0.75]], dtype=np.float32)
    unit = Clip(ClipSettings(min=0.0, max=1.0))

    async def run() -> list:
        await unit.initialize()
        msg = AxisArray(backend.asarray(host), dims=["time", "ch"])
        return [out async for _, out in unit.on_signal(msg)]

    (out,) = asyncio.run(run())
    assert_close(out.data, np.clip(host, 0.0, 1.0), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
