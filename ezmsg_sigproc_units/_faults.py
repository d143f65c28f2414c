"""Fault containment for the Unit bases (``_units.py``; behaviour in docs/robustness.md).

A malformed message is dropped with one WARNING line naming the Unit and the problem, and the
state a reset replaced while processing it is put back; a settings update is validated, and
the running processor (with its state) keeps working until a clone holding the update has
processed its first message. ``FaultContainment`` is the mixin whose methods the bases' tasks
call.
"""

from __future__ import annotations

import functools
import typing

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._state_snapshots import (
    _checked_settings,
    _clone,
    _plain_parts,
    _restore,
    _snapshot,
    _snapshot_plain,
    _snapshot_then_areset,
    _snapshot_then_reset,
    _stateful_parts,
)

MALFORMED_INPUT: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, IndexError)
"""What a processor raises for input it cannot take (a missing dim or axis, an unsupported
dtype, an array of the wrong rank): the message is dropped and the stream goes on. Any other
exception (``AttributeError`` from an AxisArray with array data, ``RuntimeError``, ...) is
a fault of the code, not of the message, and propagates after the state is put back."""

_DROPPED = object()


def is_malformed(message: typing.Any, exc: Exception) -> bool:
    """True when ``exc``, raised while processing ``message``, blames the message: a
    ``MALFORMED_INPUT`` error, or any error on a message that is not a well-formed AxisArray
    (not an AxisArray; data without an integer ``ndim``, a ``shape`` and a ``dtype``; dims not
    one distinct name per data dimension)."""
    return isinstance(exc, MALFORMED_INPUT) or _ill_formed(message) is not None


def _ill_formed(message: typing.Any) -> str | None:
    """What makes ``message`` not a well-formed AxisArray; None when it is one."""
    if not isinstance(message, AxisArray):
        return f"expected an AxisArray, got {type(message).__name__}"
    data, dims = message.data, message.dims
    ndim = getattr(data, "ndim", None)
    if (not isinstance(ndim, int) or getattr(data, "shape", None) is None
            or getattr(data, "dtype", None) is None):
        return f"data must be an array (ndim, shape, dtype), got {type(data).__name__}"
    if len(dims) != ndim or len(set(dims)) != len(dims):
        return f"dims {list(dims)} are not one distinct name per dimension of {ndim}-d data"
    return None


def check_message(message: typing.Any) -> None:
    """Raise ``TypeError`` unless ``message`` is a well-formed AxisArray: for an input that
    queues messages before it processes them (a pairing Unit), so that a bad one is refused
    on arrival rather than failing its partner later."""
    problem = _ill_formed(message)
    if problem is not None:
        raise TypeError(problem)


def describe(message: typing.Any) -> str:
    """A short description of a message for a log line (never raises)."""
    if not isinstance(message, AxisArray):
        return f"payload {type(message).__name__}"
    data = message.data
    shape = getattr(data, "shape", None)
    return (f"AxisArray dims={list(message.dims)} data={type(data).__name__}"
            f"{'' if shape is None else tuple(shape)} dtype={getattr(data, 'dtype', None)}")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}{'...' if len(text) > 300 else ''}"


def _unit_name(unit: ez.Unit) -> str:
    """The Unit's graph address; its class name outside a graph."""
    if unit._location is None or unit._name is None:
        return type(unit).__name__
    return unit.address


# ---- the shared fault handling -----------------------------------------------------------

class FaultContainment:
    """The fault handling the Unit bases share (their tasks call it; see the module doc).

    ``dropped_messages`` and ``rejected_settings`` count what was refused since the Unit
    started; each refusal is also one WARNING line with the running count."""

    dropped_messages: int = 0
    """Malformed messages dropped so far."""

    rejected_settings: int = 0
    """Settings updates rejected so far."""

    _pending: tuple | None = None  # (processor with the new settings, the settings)
    _guarded: typing.Any = None  # the processor whose resets are snapshotted
    _snapshots: list | None = None
    _parts: tuple | None = None  # (processor, its stateful parts, its plain parts)

    def _guard(self, proc: typing.Any) -> list:
        """Make every reset inside ``proc`` snapshot the state it replaces first."""
        snapshots = self._snapshots
        if snapshots is None:
            snapshots = self._snapshots = []
        for part in _stateful_parts(proc):
            cls = type(part)
            part._reset_state = functools.partial(
                _snapshot_then_reset, part, cls._reset_state.__get__(part), snapshots)
            part._areset_state = functools.partial(
                _snapshot_then_areset, part, cls._areset_state.__get__(part), snapshots)
        self._guarded, self._parts = proc, None
        return snapshots

    async def _run_processor(self, method: str, message: typing.Any) -> typing.Any:
        """``processor.<method>(message)``, the first message after a settings update tried
        on the updated processor, a malformed message dropped (``_DROPPED``)."""
        if self._pending is not None:
            return await self._try_pending(method, message)
        proc = self.processor
        snapshots = self._snapshots if proc is self._guarded else self._guard(proc)
        try:
            result = await getattr(proc, method)(message)
        except Exception as exc:
            if not self._dropped(snapshots, message, exc, is_malformed(message, exc)):
                raise
            return _DROPPED
        if snapshots:  # a reset went through: keep it, and guard what it built
            snapshots.clear()
            self._guard(proc)
        return result

    def _run_input(self, step: typing.Callable[[typing.Any], typing.Any], message: typing.Any,
                   axisarray: bool = True, proc: typing.Any = None,
                   also: tuple[type[Exception], ...] = (), save: bool = True) -> typing.Any:
        """``step(proc)`` for a ``message`` on another input of the Unit (a trigger, a
        reference, a value), or on any input of a Unit with tasks of its own, with the
        signal's fault handling: None for a malformed message (only ``MALFORMED_INPUT``
        errors count when the input does not carry AxisArrays). The state is saved before
        every message, not only at resets: a trigger queued before it proves bad is taken
        out again. ``proc`` (default ``self.processor``) is what holds the state: an
        ezmsg-baseproc processor, or one of its own (its attributes' queues and its
        ``_state``'s fields are saved; see ``_plain_parts``). ``also``: errors that blame the
        message on this input besides ``MALFORMED_INPUT`` (a full buffer). ``save=False``: no
        state is saved (the per-message cost of a stream input); the step itself puts back
        what it changed before it raises (a pairing queue), and resets are still saved. A
        pending settings update is prepared again afterwards, so that it includes the
        message."""
        pending, self._pending = self._pending, None
        proc = self.processor if proc is None else proc
        snapshots = self._snapshots if proc is self._guarded else self._guard(proc)
        if save:
            parts = self._parts
            if parts is None or parts[0] is not proc:
                parts = self._parts = (proc, _stateful_parts(proc), _plain_parts(proc))
            snapshots += [_snapshot(part) for part in parts[1]]
            snapshots += [_snapshot_plain(part) for part in parts[2]]
        saved = len(snapshots)
        try:
            result = step(proc)
        except Exception as exc:
            malformed = isinstance(exc, also) or (is_malformed(message, exc) if axisarray
                                                  else isinstance(exc, MALFORMED_INPUT))
            if not self._dropped(snapshots, message, exc, malformed):
                raise
            return None
        finally:
            if pending is not None:
                self._settings_update(pending[1])
        reset = len(snapshots) > saved
        snapshots.clear()
        if reset:  # guard what the reset built
            self._guard(proc)
        return result

    def _dropped(self, snapshots: list, message: typing.Any, exc: Exception,
                 malformed: bool) -> bool:
        """After ``exc``: the state put back; a ``malformed`` message logged and counted."""
        _restore(snapshots)
        if malformed:
            self._drop(message, exc)
        return malformed

    def _drop(self, message: typing.Any, exc: Exception) -> None:
        self.dropped_messages += 1
        ez.logger.warning(
            f"{_unit_name(self)}: dropped a malformed message ({describe(message)}): "
            f"{_one_line(exc)}; state kept, {self.dropped_messages} dropped so far")

    def _reject(self, exc: Exception, when: str) -> None:
        self.rejected_settings += 1
        ez.logger.warning(
            f"{_unit_name(self)}: rejected a settings update {when}: {_one_line(exc)}; the "
            f"previous settings and state stay, {self.rejected_settings} rejected so far")

    def _settings_update(self, msg: typing.Any) -> None:
        """Validate ``msg`` and prepare a processor with it; the running one stays."""
        try:
            settings = _checked_settings(msg)
            candidate = _clone(self.processor)
            candidate.update_settings(settings)
        except MALFORMED_INPUT as exc:
            self._reject(exc, "(invalid)")
            return
        self._pending = (candidate, settings)

    async def _try_pending(self, method: str, message: typing.Any) -> typing.Any:
        candidate, settings = self._pending
        try:
            result = await getattr(candidate, method)(message)
        except Exception as exc:
            self._pending = None
            try:
                result = await self._run_processor(method, message)  # the running one
            except Exception:
                self._settings_update(settings)  # both failed: the settings stay pending
                raise
            if result is _DROPPED:  # the message's fault, not the settings'
                self._settings_update(settings)
            else:
                self._reject(exc, f"(it failed on the first message, {describe(message)})")
            return result
        self._pending = None
        self.processor = candidate
        # What the processor made of them (a Pipeline turns a one-stage update into its whole
        # settings); the settings sent when it keeps none.
        self.apply_settings(getattr(candidate, "settings", settings))
        return result
