"""The overflow half of :class:`~ezmsg_sigproc_units.util.buffer.HybridBuffer`: what a write,
a flush or a read does when the ring of ``capacity`` samples cannot take the queued ones
(the strategies "grow", "raise", "drop" and "warn-overwrite"). Counters only: the samples
themselves stay in the buffer's ``Chunks`` store."""

from __future__ import annotations

import math
import typing
import warnings

from ._buffer_chunks import grown_capacity

__all__ = ["OverflowPolicy"]


class OverflowPolicy:
    """Mixin of ``HybridBuffer`` (which sets every attribute used here)."""

    _capacity: int
    _overflow_strategy: str
    _store: typing.Any

    def _set_capacity(self, capacity: int) -> None:
        self._capacity = capacity
        # queued samples beyond which a write has checks to make (capacity, max_size)
        self._room = min(capacity, self._max_size // self._bps if self._bps else math.inf)

    def _check_room(self, queued: int) -> None:
        if queued > self._capacity and self._overflow_strategy == "raise":
            raise OverflowError(f"Buffer overflow: {queued} samples queued exceed the capacity "
                                f"{self._capacity}; read more often or enlarge the buffer.")
        if queued * self._bps > self._max_size:
            raise OverflowError(f"Queued samples would exceed max_size ({self._max_size} bytes) "
                                "on the next flush; are samples read often enough?")

    def _bound_queue(self) -> None:
        """The queue never holds more than a flush could keep (``capacity`` samples) under
        "drop" and "warn-overwrite": the surplus is dropped (or overwritten) now."""
        if self._deque_len <= self._capacity:
            return
        if self._overflow_strategy == "drop":
            cut = self._deque_len - self._capacity
            self._store.drop_after(self._store.end - cut)
            self._deque_len -= cut
            self._last_overflow = cut
        elif self._overflow_strategy == "warn-overwrite":
            self.flush()

    def _warn(self, n_new: int, n_free: int, n_over: int) -> None:
        if not self._warn_once or not self._warned:
            self._warned = True
            warnings.warn(f"Buffer overflow: {n_new} samples received, but only {n_free} "
                          f"available. Overwriting {n_over} previous samples.", RuntimeWarning,
                          stacklevel=3)

    def _flush(self) -> None:
        n_new = self._deque_len
        if not n_new:
            return
        cap = self._capacity
        n_free = cap - self._unread
        n_over = n_new - n_free
        strategy = self._overflow_strategy
        if n_over > 0:
            if strategy == "raise":
                raise OverflowError(f"Buffer overflow: {n_new} samples received, but only "
                                    f"{n_free} available.")
            if strategy == "warn-overwrite":
                self._warn(n_new, n_free, n_over)
                if n_new >= cap:  # the ring holds only the newest `cap` samples
                    self._pos = self._store.end - cap
                    self._unread = cap - n_new
                else:
                    self._pos += n_over
                    self._unread -= n_over
            elif strategy == "drop":
                self._store.drop_after(self._store.end - n_over)
                n_new -= n_over
            else:
                self._set_capacity(grown_capacity(cap, cap + n_new, self._bps, self._max_size))
            self._last_overflow = 0 if strategy == "grow" else n_over
        self._unread += n_new
        self._valid = min(self._valid + n_new, self._capacity)
        self._deque_len = 0

    def _read_through(self, n_samples: int) -> typing.Any:
        """Read the ring's samples first, so the flush finds room for the queued ones."""
        first = self._unread
        start = self._pos
        self._pos += first
        self._unread = 0
        self._flush()
        k = min(n_samples - first, self._unread)
        self._pos += k
        self._unread -= k
        data = self._store.get(start, start + first + k)
        self._trim()
        return data
