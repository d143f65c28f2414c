"""State snapshots and clones for fault containment (``_faults.py``).

A Unit's processor may reset while it takes a message that then fails: the snapshot taken
just before each reset (``_snapshot_then_reset``, installed on every stateful part of the
processor) lets ``_restore`` put the old state back. A settings update is tried on a
``_clone`` so the running processor is never touched by it.
"""

from __future__ import annotations

import collections
import copy
import typing

from ezmsg.baseproc import BaseProcessor, BaseStatefulProcessor


def _stateful_parts(proc: typing.Any, seen: set[int] | None = None) -> list[BaseStatefulProcessor]:
    """The stateful processors in ``proc``: itself, and those it holds in its attributes,
    its state's fields or their dicts (a composite's ``_procs``, a design filter's
    ``state.filter``), recursively."""
    seen = set() if seen is None else seen
    if id(proc) in seen:
        return []
    seen.add(id(proc))
    found = [proc] if isinstance(proc, BaseStatefulProcessor) else []
    held = list(vars(proc).values())
    state = proc.__dict__.get("_state")
    if hasattr(state, "__dict__"):
        held += vars(state).values()
    for value in held:
        for item in (value.values() if type(value) is dict else (value,)):
            if isinstance(item, BaseProcessor):
                found += _stateful_parts(item, seen)
    return found


_CONTAINERS = frozenset((dict, list, collections.deque, set))


def _snapshot(proc: BaseStatefulProcessor) -> tuple:
    """What a reset may change: the processor's attributes (its hash, the state object, the
    caches it keeps) and the state's fields, with the containers among them (dict, list,
    deque, set) copied. Arrays are shared, not copied: a reset allocates new ones rather than
    writing into the old."""
    state = proc.__dict__.get("_state")
    fields = {k: (copy.copy(v) if type(v) in _CONTAINERS else v)
              for k, v in getattr(state, "__dict__", {}).items()}
    return proc, proc.__dict__.copy(), state, fields


def _snapshot_plain(proc: typing.Any) -> tuple:
    """``_snapshot`` of a processor of its own (not ezmsg-baseproc's). One without a
    ``_state`` keeps its state in its attributes (queues, buffers by input): the containers
    among them are copied too; one with a ``_state`` keeps only caches there."""
    snapshot = _snapshot(proc)
    if snapshot[2] is None:
        attrs = snapshot[1]  # a copy already
        for k, v in attrs.items():
            if type(v) in _CONTAINERS:
                attrs[k] = copy.copy(v)
    return snapshot


def _plain_parts(proc: typing.Any) -> list:
    """``proc`` when it is a processor of its own, and the processors of its own that it
    holds directly (a two-stage processor's stages): what ``_stateful_parts`` cannot see."""
    if isinstance(proc, BaseProcessor):
        return []
    return [proc] + [v for v in vars(proc).values()
                     if hasattr(v, "_state") and not isinstance(v, (BaseProcessor, type))]


def _restore(snapshots: list) -> None:
    for snapshot in reversed(snapshots):  # the oldest wins
        if snapshot is None:  # a first reset: nothing was there before it
            continue
        proc, attrs, state, fields = snapshot
        proc.__dict__.clear()
        proc.__dict__.update(attrs)
        if fields:
            state.__dict__.clear()
            state.__dict__.update(fields)
    snapshots.clear()


def _snapshot_then_reset(proc: typing.Any, reset: typing.Callable, snapshots: list,
                         *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
    # Before the first reset there is nothing to keep, but the reset is still recorded: what
    # it builds (a design's inner filter) must be guarded in turn.
    snapshots.append(_snapshot(proc) if proc._hash != -1 else None)
    return reset(*args, **kwargs)


async def _snapshot_then_areset(proc: typing.Any, reset: typing.Callable, snapshots: list,
                                *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
    snapshots.append(_snapshot(proc) if proc._hash != -1 else None)
    return await reset(*args, **kwargs)


def _clone(proc: typing.Any) -> typing.Any:
    """A copy of ``proc`` that can be updated and run without touching ``proc``: its own
    attributes, a deep copy of its state (on the state's devices; native fast paths may write
    into state arrays), the processors it holds cloned, no reset guards. Settings updates
    are rare, so a copy of the state per update is affordable."""
    new = copy.copy(proc)
    attrs = new.__dict__
    if "_state" in attrs:
        attrs["_state"] = copy.deepcopy(attrs["_state"])
    _clone_held(attrs)
    for part in _stateful_parts(new):
        vars(part).pop("_reset_state", None)
        vars(part).pop("_areset_state", None)
    return new


def _clone_held(fields: dict) -> None:
    for name, value in list(fields.items()):
        if isinstance(value, BaseProcessor):
            fields[name] = _clone(value)
        elif type(value) is dict and any(isinstance(v, BaseProcessor) for v in value.values()):
            fields[name] = {k: _clone(v) if isinstance(v, BaseProcessor) else v
                            for k, v in value.items()}


def _checked_settings(msg: typing.Any) -> typing.Any:
    """A copy of the settings ``msg`` with its validation (``__post_init__``) run again: an
    object that arrived from another process was unpickled, which skips it."""
    if isinstance(msg, type) or not hasattr(msg, "__dataclass_fields__"):
        raise TypeError(f"settings: expected a Settings object, got {type(msg).__name__}")
    checked = copy.copy(msg)
    post_init = getattr(checked, "__post_init__", None)
    if post_init is not None:
        post_init()
    return checked
