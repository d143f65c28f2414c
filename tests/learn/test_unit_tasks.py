"""Every Unit of the learn family runs our own tasks (materialised outputs; one message per
head for the torch models), not ezmsg-baseproc's: ezmsg merges the bases' tasks in order with
the last base winning, so a Unit with a second, generic base can silently get the base's."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import ezmsg.core as ez
import pytest

import ezmsg_sigproc_units.learn as learn


def _units() -> list[type]:
    out = []
    for info in pkgutil.walk_packages(learn.__path__, prefix=f"{learn.__name__}."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # the torch family without torch
            continue
        out += [obj for obj in vars(module).values()
                if inspect.isclass(obj) and issubclass(obj, ez.Unit)
                and obj.__module__ == module.__name__ and "INPUT_SIGNAL" in dir(obj)]
    return sorted(set(out), key=lambda c: c.__qualname__)


UNITS = _units()


def test_the_scan_finds_the_decoder_units():
    names = {u.__name__ for u in UNITS}
    assert {"SLDA", "RefitKalmanFilterUnit", "LRRUnit"} <= names


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.__name__)
def test_signal_and_sample_tasks_are_ours(unit):
    for name in ("on_signal", "on_sample"):
        task = unit.__tasks__.get(name)
        if task is None:
            continue
        assert task.__module__.startswith("ezmsg_sigproc_units."), (
            f"{unit.__name__}.{name} runs {task.__module__}.{task.__qualname__}")
