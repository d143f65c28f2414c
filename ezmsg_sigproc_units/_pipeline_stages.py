"""How a pipeline stage is found from its settings, and what its Unit would publish.

A stage is declared by its settings. Its Unit is the one Unit of ours that takes that
settings class (``SETTINGS``) in the module that defines it, e.g. ``WindowSettings`` ->
``window.Window``; where a module has several (``FIRHilbertFilterSettings``) or the Unit lives
elsewhere (``detrend.DetrendUnit`` takes ``EWMASettings``), the stage names its Unit:
``(DetrendUnit, EWMASettings(...))``. The Unit is the single source of truth: its processor
class comes from its type parameters (as ezmsg-baseproc's ``create_processor`` finds it), and
what it publishes for a processor result follows its base (``TransformerUnit``,
``WindowedUnit`` with its ``_window_dims`` / ``_outputs``, ``AdaptiveUnit``'s signal path).

Units with streams or tasks of their own (triggers, references, timers, two inputs) cannot
run inside one Unit's single input and are rejected.
"""

from __future__ import annotations

import inspect
import sys
import types
from dataclasses import dataclass
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc.units import get_base_adaptive_transformer_type, get_base_transformer_type

from ._units import AdaptiveUnit, TransformerUnit, WindowedUnit
from ._validate import changed_fields

_BASES = (WindowedUnit, AdaptiveUnit, TransformerUnit)  # most specific first


def _base_of(unit: type) -> type | None:
    return next((b for b in _BASES if issubclass(unit, b)), None)


def _module_units(settings_cls: type) -> list[type]:
    """Our Units defined in ``settings_cls``'s module whose ``SETTINGS`` is that class."""
    mod = sys.modules.get(settings_cls.__module__)
    found = {c for c in vars(mod).values()
             if inspect.isclass(c) and issubclass(c, ez.Unit)
             and c.__module__ == settings_cls.__module__
             and c.__dict__.get("SETTINGS") is settings_cls} if mod else set()
    return sorted(found, key=lambda c: c.__name__)


def _check_unit(unit: Any, where: str) -> type:
    """``unit`` if a pipeline can run it, else ``ValueError`` naming ``where``."""
    base = _base_of(unit) if inspect.isclass(unit) else None
    if base is None:
        raise ValueError(f"{where}: {unit!r} is not one of our transformer Units")
    # A decoder's training path (``on_sample``) is not routed through a pipeline: only its
    # signal path must be the base's.
    own = {k for k, t in unit.__tasks__.items()
           if base.__tasks__.get(k) is not t and not (base is AdaptiveUnit and k == "on_sample")}
    extra = sorted((set(unit.__streams__) - set(base.__streams__)) | own
                   | ({"initialize"} if unit.initialize is not base.initialize else set()))
    if extra:
        raise ValueError(
            f"{where}: {unit.__name__} has streams or tasks of its own ({', '.join(extra)}); "
            f"run it as its own Unit beside the pipeline")
    return unit


def resolve_unit(entry: Any, where: str) -> tuple[type, ez.Settings]:
    """``(Unit class, settings)`` for a stage declared as ``settings`` or ``(Unit, settings)``;
    ``ValueError`` naming ``where`` (e.g. ``stages[2]``) when there is none or several."""
    if isinstance(entry, tuple) and len(entry) == 2:
        unit, settings = entry
        unit = _check_unit(unit, where)
        want = unit.__dict__.get("SETTINGS") or getattr(unit, "SETTINGS", None)
        if not isinstance(settings, ez.Settings) or want is None or not isinstance(settings,
                                                                                   want):
            raise ValueError(f"{where}: {unit.__name__} takes "
                             f"{getattr(want, '__name__', want)}, got {settings!r}")
        return unit, settings
    if not isinstance(entry, ez.Settings):
        raise ValueError(f"{where}: a stage is a settings instance or a (Unit, settings) "
                         f"pair, got {entry!r}")
    units = _module_units(type(entry))
    name = type(entry).__name__
    if not units:
        raise ValueError(f"{where}: no Unit of ours takes {name} in {type(entry).__module__}; "
                         f"declare the stage as (Unit, settings)")
    if len(units) > 1:
        raise ValueError(f"{where}: {name} is taken by {', '.join(u.__name__ for u in units)}; "
                         f"declare the stage as (Unit, settings)")
    return _check_unit(units[0], where), entry


@dataclass
class Stage:
    """One running stage: its Unit class, settings and processor."""

    unit: type
    settings: ez.Settings
    processor: Any

    def __post_init__(self) -> None:
        # The Unit's own publishing rule (``_to_publish``) runs on this view, which holds what
        # the rule reads (a windowed Unit's ``_window_dims`` / ``_outputs`` read ``processor``
        # and ``WINDOW_DIMS``), so a stage needs no Unit instance.
        view = self._view = types.SimpleNamespace(
            processor=self.processor, WINDOW_DIMS=getattr(self.unit, "WINDOW_DIMS", ()))
        for name in ("_window_dims", "_outputs"):
            if hasattr(self.unit, name):
                setattr(view, name, types.MethodType(getattr(self.unit, name), view))

    @classmethod
    def build(cls, entry: Any, where: str) -> Stage:
        unit, settings = resolve_unit(entry, where)
        make = (get_base_adaptive_transformer_type if issubclass(unit, AdaptiveUnit)
                else get_base_transformer_type)
        try:
            proc = make(unit)(settings=settings)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {unit.__name__}: {err}") from err
        return cls(unit, settings, proc)

    @property
    def name(self) -> str:
        """The Unit's class name (mermaid labels, state keys)."""
        return self.unit.__name__

    def published(self, message: Any, result: Any) -> list:
        """The messages this stage's Unit would publish for ``result`` (its processor's
        output for ``message``), not materialised."""
        return self.unit._to_publish(self._view, message, result)


def same_settings(stage: Stage, unit: type, settings: ez.Settings) -> bool:
    """True when ``stage`` runs ``unit`` with settings equal to ``settings`` (arrays by
    value)."""
    return stage.unit is unit and (stage.settings is settings or (
        type(stage.settings) is type(settings) and not changed_fields(stage.settings,
                                                                        settings)))
