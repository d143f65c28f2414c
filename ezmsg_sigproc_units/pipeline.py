"""A declared sequence of our processors run inside one Unit: one ezmsg hop instead of one
per stage, with the same output stream as the chain of separate Units.

In one process ezmsg's transport costs tens of microseconds per hop, as much as or more
than many of our processors spend on a small chunk, so a chain of small stages spends much
of its time moving messages. ``Pipeline`` runs the stages in turn inside one Unit:

.. code-block:: python

    from ezmsg_sigproc_units.pipeline import Pipeline, PipelineSettings

    PIPE = Pipeline(PipelineSettings(stages=(
        ButterworthFilterSettings(axis="time", order=4, cuton=1.0, cutoff=100.0),
        WindowSettings(axis="time", newaxis="win", window_dur=0.5, window_shift=0.1),
        SpectrumSettings(axis="time", transform=SpectralTransform.REL_POWER),
        RangedAggregateSettings(axis="freq", bands=[(8.0, 12.0)]),
        LogSettings(clip_zero=True),
    )))

Each stage is declared by its settings; its Unit is the one Unit of ours that takes that
settings class in the module that defines it (``WindowSettings`` -> ``window.Window``). Where
that is ambiguous or the Unit lives elsewhere, declare ``(Unit, settings)``, e.g.
``(DetrendUnit, EWMASettings(...))``. Every stage has its own processor and state, built
from its Unit's processor class, and each stage's outputs follow its Unit's publishing rules
(a windowed stage passes on only outputs with at least one window, split as its Unit splits
them; ``None`` stops the message; a list fans out), so what reaches ``OUTPUT_SIGNAL`` equals,
message by message, what the chain of separate Units would deliver.

Live updates: send a full ``PipelineSettings`` or a ``StageSettings(index, settings)`` to
``INPUT_SETTINGS``. Stages are matched by position; a stage whose Unit and settings are
unchanged keeps its processor and state untouched, a changed stage with the same Unit gets
its processor's ``update_settings`` (exactly what its own Unit's ``INPUT_SETTINGS`` would
do), a stage with another Unit is built afresh. An update that fails validation is logged
in one line and leaves the running pipeline untouched.

``ezmsg mermaid`` shows a Unit under the name it was given; ``pipeline_name(settings)``
gives a name that lists the stages. See ``docs/pipeline.md``.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import ezmsg.core as ez
from ezmsg.baseproc import CompositeProcessor
from ezmsg.util.messages.axisarray import AxisArray

from ._pipeline_stages import Stage, resolve_unit, same_settings
from ._units import TransformerUnit

__all__ = ["Pipeline", "PipelineSettings", "PipelineTransformer", "StageSettings", "pipeline",
           "pipeline_name", "stage_names"]


class PipelineSettings(ez.Settings):
    stages: tuple = ()
    """The stages in order, each a settings instance of one of our transformer Units (e.g.
    ``WindowSettings(...)``) or a ``(Unit class, settings)`` pair. At least one. Units with
    streams or tasks of their own (``Sampler``, ``ResampleUnit``, ``Concat`` ...) cannot be
    stages. A list is stored as a tuple."""

    def __post_init__(self) -> None:
        stages = self.stages
        if isinstance(stages, list):
            stages = tuple(stages)
            object.__setattr__(self, "stages", stages)
        if not isinstance(stages, tuple) or not stages:
            raise ValueError(f"stages: must be a non-empty tuple of stage settings, "
                             f"got {self.stages!r}")
        for i, entry in enumerate(stages):
            resolve_unit(entry, f"stages[{i}]")


@dataclass(frozen=True)
class StageSettings:
    """A live update of one stage: ``settings`` (a settings instance or a ``(Unit, settings)``
    pair) replaces stage ``index`` (0-based) of a running pipeline; the others are
    untouched."""

    index: int
    settings: typing.Any


class PipelineTransformer(CompositeProcessor[PipelineSettings, AxisArray, AxisArray]):
    """Runs the stages in turn. A call returns the list of messages the chain of separate
    Units would publish for the input (often one; none while a windowed stage waits for a
    window; several where a stage splits). ``state`` is a dict of the stages' states keyed
    ``"<index>:<Unit name>"``."""

    @staticmethod
    def _initialize_processors(settings: PipelineSettings) -> dict[str, typing.Any]:
        return {_key(i, s): s.processor for i, s in enumerate(_build(settings.stages))}

    def _validate_processor_chain(self) -> None:
        # The stages were checked when resolved; pair each processor with its Unit.
        self._set_stages([Stage(*resolve_unit(entry, f"stages[{i}]"), proc)
                          for i, (entry, proc) in enumerate(
                              zip(self.settings.stages, self._procs.values(), strict=True))])

    def _set_stages(self, stages: list[Stage]) -> None:
        self._stages = stages
        self._procs = {_key(i, s): s.processor for i, s in enumerate(stages)}
        self._paired = (self._procs,)  # a tuple: a copier that copies dicts leaves it alone

    def _running(self) -> list[Stage]:
        """The stages, re-paired with ``_procs`` if a copy of this pipeline was given copies
        of the processors (a copy must never run, update or close the original's)."""
        if self._paired[0] is not self._procs:
            self._set_stages([Stage(s.unit, s.settings, p) for s, p in
                              zip(self._stages, self._procs.values(), strict=True)])
        return self._stages

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The running stages (Unit class, settings, processor), in order."""
        return tuple(self._running())

    def _process(self, message: AxisArray) -> list[AxisArray]:
        msgs = [message]
        for stage in self._running():
            proc, nxt = stage.processor, []
            for m in msgs:
                nxt.extend(stage.published(m, proc(m)))
            if not nxt:
                return nxt
            msgs = nxt
        return msgs

    async def _aprocess(self, message: AxisArray) -> list[AxisArray]:
        msgs = [message]
        for stage in self._running():
            proc, nxt = stage.processor, []
            for m in msgs:
                nxt.extend(stage.published(m, await proc.__acall__(m)))
            if not nxt:
                return nxt
            msgs = nxt
        return msgs

    def stateful_op(self, state: dict | None, message: AxisArray
                    ) -> tuple[dict, list[AxisArray]]:
        if state is not None:
            self.state = state
        out = self(message)
        return self.state, out

    def settings_for(self, update: typing.Any) -> PipelineSettings:
        """The full settings an update (``PipelineSettings`` or ``StageSettings``) asks for;
        ``ValueError`` naming the field if it is not valid."""
        if isinstance(update, PipelineSettings):
            return update
        if isinstance(update, StageSettings):
            n, i = len(self.settings.stages), update.index
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
                raise ValueError(f"index: must be an integer in [0, {n}), got {i!r}")
            stages = list(self.settings.stages)
            stages[i] = update.settings
            return PipelineSettings(stages=tuple(stages))
        raise ValueError(f"settings: expected PipelineSettings or StageSettings, got "
                         f"{type(update).__name__}")

    def update_settings(self, new_settings: typing.Any) -> None:
        """Apply a ``PipelineSettings`` or ``StageSettings``. Everything is validated (stages
        resolved, changed stages' processors built) before anything changes, so a
        ``ValueError`` leaves the pipeline as it was."""
        new = self.settings_for(new_settings)
        running = self._running()
        plan: list[tuple[Stage | None, Stage | None]] = []
        for i, entry in enumerate(new.stages):
            where = f"stages[{i}]"
            unit, settings = resolve_unit(entry, where)
            old = running[i] if i < len(running) else None
            if old is not None and same_settings(old, unit, settings):
                plan.append((old, None))
            else:
                fresh = Stage.build((unit, settings), where)
                plan.append((old if old is not None and old.unit is unit else None, fresh))
        kept = {id(old) for old, _ in plan if old is not None}
        for old in running:
            if id(old) not in kept:
                old.processor.close()
        self._set_stages([_commit(old, fresh) for old, fresh in plan])
        self.settings = new


def _key(i: int, stage: Stage) -> str:
    return f"{i}:{stage.name}"


def _build(entries: tuple) -> list[Stage]:
    return [Stage.build(entry, f"stages[{i}]") for i, entry in enumerate(entries)]


def _commit(old: Stage | None, fresh: Stage | None) -> Stage:
    """The stage to run: ``old`` unchanged, ``old`` updated in place (same Unit: its
    processor decides what resets, as its own Unit's settings input would), or ``fresh``."""
    if fresh is None:
        return old
    if old is None:
        return fresh
    try:
        old.processor.update_settings(fresh.settings)
    except (TypeError, ValueError):  # settings its processor cannot diff: start afresh
        old.processor.close()
        return fresh
    fresh.processor.close()
    old.settings = fresh.settings
    return old


class Pipeline(TransformerUnit[PipelineSettings, AxisArray, AxisArray, PipelineTransformer]):
    """The stages of ``PipelineSettings`` in one Unit. ``INPUT_SETTINGS`` takes a full
    ``PipelineSettings`` or a ``StageSettings``; updates and malformed messages are handled
    as by every ``TransformerUnit`` (an invalid update is logged in one line and the running
    pipeline, with its state, stays)."""

    SETTINGS = PipelineSettings

    def apply_settings(self, settings: typing.Any) -> None:
        """Store the full settings a ``PipelineSettings`` or ``StageSettings`` update asks
        for (a ``StageSettings`` is resolved against the running pipeline)."""
        if isinstance(settings, StageSettings):
            settings = self.processor.settings_for(settings)
        super().apply_settings(settings)


def stage_names(settings: PipelineSettings) -> tuple[str, ...]:
    """The Unit class names of the stages, in order."""
    return tuple(resolve_unit(e, f"stages[{i}]")[0].__name__
                 for i, e in enumerate(settings.stages))


def pipeline_name(settings: PipelineSettings, prefix: str = "PIPELINE") -> str:
    """A component name that lists the stages, e.g.
    ``"PIPELINE__ButterworthFilter__Window__Spectrum__RangedAggregate__Log"``: give it to
    ``ez.run(components={...})`` and ``ezmsg mermaid`` shows one entry naming every stage."""
    return "__".join((prefix, *stage_names(settings)))


def pipeline(*stages: typing.Any) -> PipelineTransformer:
    """A ``PipelineTransformer`` of ``stages`` (settings or ``(Unit, settings)`` pairs)."""
    return PipelineTransformer(PipelineSettings(stages=tuple(stages)))
