"""Pairing of two streams by arrival order (the n-th message of A with the n-th of B),
shared by ``add.Add``, ``difference.Difference`` and ``concat.Concat``: queues, a processor
parameterised by a kernel ``f(xp, a, b)`` (or its own ``_combine``), and a two-input Unit
that publishes as soon as a pair is complete.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import pickle
import typing
from collections.abc import Callable
from typing import Any

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from .._backend import array_namespace, materialize
from .._faults import MALFORMED_INPUT, FaultContainment, check_message
from .._messages import replace_data


@dataclasses.dataclass
class _PairState:
    """Messages waiting for a partner, oldest first (picklable)."""

    queue_a: collections.deque = dataclasses.field(default_factory=collections.deque)
    """Messages from stream A not yet combined."""

    queue_b: collections.deque = dataclasses.field(default_factory=collections.deque)
    """Messages from stream B not yet combined."""


class _PairProcessor:
    """Combine the oldest message of A with the oldest of B through ``_KERNEL(xp, a, b)``.

    ``push_a``/``push_b`` queue a message and return at once; ``__call__`` returns the next
    combined message or None (never blocks, no event loop); ``await __acall__()`` waits until
    both queues hold a message. The output carries message A's metadata. A pair that cannot
    be combined (different shapes or namespaces) raises and is dropped, so the stream goes on.
    """

    _KERNEL: Callable[[Any, Any, Any], Any]
    _STATE: type[_PairState] = _PairState

    def __init__(self) -> None:
        self._state = self._STATE()
        self._event: asyncio.Event | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None

    @property
    def state(self) -> _PairState:
        return self._state

    @state.setter
    def state(self, state: _PairState | bytes | None) -> None:
        if state is None:  # nothing to restore
            return
        self._state = pickle.loads(state) if isinstance(state, bytes) else state
        self._notify()

    def push_a(self, message: AxisArray) -> None:
        self._state.queue_a.append(message)
        self._notify()

    def push_b(self, message: AxisArray) -> None:
        self._state.queue_b.append(message)
        self._notify()

    def _notify(self) -> None:
        if self._event is not None:
            self._event.set()

    def __call__(self) -> AxisArray | None:
        st = self._state
        if not st.queue_a or not st.queue_b:
            return None
        return self._combine(st.queue_a.popleft(), st.queue_b.popleft())

    def _combine(self, a: AxisArray, b: AxisArray) -> AxisArray:
        """One pair's output (subclasses with another combination override this)."""
        if tuple(a.data.shape) != tuple(b.data.shape):
            raise ValueError(
                f"shape mismatch: message A has shape {tuple(a.data.shape)}, "
                f"message B has shape {tuple(b.data.shape)}"
            )
        xp = array_namespace(a.data, b.data)
        return replace_data(a, self._KERNEL(xp, a.data, b.data))

    async def __acall__(self) -> AxisArray:
        loop = asyncio.get_running_loop()
        if self._event is None or self._event_loop is not loop:
            self._event, self._event_loop = asyncio.Event(), loop
        while True:
            self._event.clear()
            out = self()
            if out is not None:
                return out
            await self._event.wait()

    __anext__ = __acall__

    def __aiter__(self) -> _PairProcessor:
        return self


class _PairUnit(FaultContainment, ez.Unit):
    """Two input streams combined pairwise by ``_PROCESSOR``; publishes every ready result.

    Faults are contained (docs/robustness.md): a message that is not a well-formed AxisArray
    is refused on arrival, and a pair that cannot be combined drops the message it blames
    (the arriving one, unless only its queued partner differs from the last pair its input
    gave), each with one WARNING line, so the n-th good message of A still meets the n-th
    good message of B."""

    _PROCESSOR: typing.ClassVar[type[_PairProcessor]]

    INPUT_SIGNAL_A = ez.InputStream(AxisArray)
    INPUT_SIGNAL_B = ez.InputStream(AxisArray)
    OUTPUT_SIGNAL = ez.OutputStream(AxisArray)

    async def initialize(self) -> None:
        self.processor = self._make_processor()
        self._layouts: list = [None, None]  # per input: the layout of its last combined message

    def _make_processor(self) -> _PairProcessor:
        return self._PROCESSOR()

    def _push(self, side: int, message: AxisArray) -> list[AxisArray]:
        """The outputs that ``message`` (on input A: 0, B: 1) completes, faults contained
        (nothing is saved per message: ``_step`` puts the queues back itself)."""
        return self._run_input(lambda proc: self._step(proc, side, message), message,
                               save=False) or []

    def _step(self, proc: _PairProcessor, side: int, message: AxisArray) -> list[AxisArray]:
        check_message(message)
        (proc.push_a if side == 0 else proc.push_b)(message)
        outs, st = [], proc.state
        while st.queue_a and st.queue_b:
            pair = (st.queue_a[0], st.queue_b[0])
            try:
                out = proc()
            except MALFORMED_INPUT as exc:
                # Blame the queued partner only when it alone broke its input's pattern;
                # the other message goes back to the head of its queue.
                mine, other = pair[side], pair[1 - side]
                blamed = (1 - side if self._changed(1 - side, other)
                          and not self._changed(side, mine) else side)
                (st.queue_a if blamed == 1 else st.queue_b).appendleft(pair[1 - blamed])
                if pair[blamed] is message:
                    raise  # dropped, logged and counted by _run_input
                self._drop(pair[blamed], exc)
                continue
            self._layouts = [_layout(pair[0]), _layout(pair[1])]
            materialize(out.data)  # lazy backends compute before the message leaves
            outs.append(out)
        return outs

    def _changed(self, side: int, message: AxisArray) -> bool:
        last = self._layouts[side]
        return last is not None and _layout(message) != last

    @ez.subscriber(INPUT_SIGNAL_A)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_a(self, message: AxisArray) -> typing.AsyncGenerator:
        for out in self._push(0, message):
            yield self.OUTPUT_SIGNAL, out

    @ez.subscriber(INPUT_SIGNAL_B)
    @ez.publisher(OUTPUT_SIGNAL)
    async def on_b(self, message: AxisArray) -> typing.AsyncGenerator:
        for out in self._push(1, message):
            yield self.OUTPUT_SIGNAL, out


def _layout(message: AxisArray) -> tuple:
    """What a pair's compatibility depends on: dims, shape, array type and dtype."""
    data = message.data
    return tuple(message.dims), tuple(data.shape), type(data), data.dtype
