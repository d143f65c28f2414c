"""``HybridBuffer``: a FIFO of samples with a bounded history, on any Array API backend.

Writes queue blocks; a flush (when the update strategy says so) moves the queued samples into
the "ring" of ``capacity`` samples, applying the overflow strategy; reads return the oldest
unread samples and advance the read head; samples already read stay readable by seeking
backwards until newer ones push them out of the ring. The ring is virtual: samples live in the
blocks they were written in (see ``_buffer_chunks``), so a flush copies nothing and the same
code runs on JAX, whose arrays cannot be written in place. See docs/buffers.md.
"""

from __future__ import annotations

import math
import typing

from .._backend import array_namespace, zeros
from .._buffer_chunks import (
    MAX_CHUNKS,
    Chunks,
    copier,
    itemsize,
    portable_state,
    restored_state,
)
from .._buffer_policy import OverflowPolicy

__all__ = ["HybridBuffer", "OverflowStrategy", "UpdateStrategy"]

Array = typing.TypeVar("Array")
UpdateStrategy = typing.Literal["immediate", "threshold", "on_demand"]
OverflowStrategy = typing.Literal["grow", "raise", "drop", "warn-overwrite"]
_UPDATE = typing.get_args(UpdateStrategy)
_OVERFLOW = typing.get_args(OverflowStrategy)


class HybridBuffer(OverflowPolicy):
    """FIFO sample buffer (the peer's ``HybridBuffer`` API).

    Args:
        array_namespace: The array library of the samples (used only to make an empty result
            before anything was written; data keep the namespace and device they arrive in).
        capacity: Samples the ring holds (unread plus already-read history).
        other_shape: The shape of one sample, without the sample axis.
        dtype: The stored dtype; blocks of another dtype are cast on write.
        sample_axis: Where the sample axis sits in stored and returned arrays.
        update_strategy: When queued blocks enter the ring: ``"immediate"`` (every write),
            ``"threshold"`` (once ``threshold`` samples are queued) or ``"on_demand"`` (when a
            read, peek or seek needs them).
        threshold: See ``update_strategy``.
        overflow_strategy: When the ring cannot take the queued samples: ``"grow"`` the
            capacity (up to ``max_size`` bytes), ``"raise"`` OverflowError, ``"drop"`` the
            newest samples, or ``"warn-overwrite"`` (warn, drop the oldest unread samples).
        max_size: Upper bound in bytes of the ring (and of the queue).
        warn_once: Warn only on the first overwrite.
        device: (keyword only, ours) Where an empty result is made before the first write
            (default: the namespace's default device). Written data stay where they are.
    """

    def __init__(
        self,
        array_namespace: typing.Any,
        capacity: int,
        other_shape: tuple[int, ...],
        dtype: typing.Any,
        sample_axis: int = 0,
        update_strategy: UpdateStrategy = "on_demand",
        threshold: int = 0,
        overflow_strategy: OverflowStrategy = "grow",
        max_size: int = 1024**3,
        warn_once: bool = True,
        *,
        device: typing.Any = None,
    ):
        if update_strategy not in _UPDATE:
            raise ValueError(f"update_strategy must be one of {_UPDATE}, got {update_strategy!r}")
        if overflow_strategy not in _OVERFLOW:
            raise ValueError(
                f"overflow_strategy must be one of {_OVERFLOW}, got {overflow_strategy!r}")
        if int(capacity) != capacity or capacity < 0:
            raise ValueError(f"capacity must be a non-negative integer, got {capacity!r}")
        self.xp = array_namespace
        self._capacity = int(capacity)
        self._other_shape = tuple(int(d) for d in other_shape)
        self._sample_axis = sample_axis % (len(self._other_shape) + 1)
        self._dtype = dtype
        self._device = device
        self._update_strategy = update_strategy
        self._threshold = threshold
        self._overflow_strategy = overflow_strategy
        self._max_size = max_size
        self._warn_once = warn_once
        self._warned = False
        # queued samples that trigger a flush on write
        self._flush_at = {"immediate": 0, "threshold": threshold if threshold > 0 else math.inf,
                          "on_demand": math.inf}[update_strategy]
        self._copy: typing.Callable | None = None
        self._dtype_seen: typing.Any = None
        self._tidy_at = 8  # stored blocks that make a write tidy up (see _tidy)
        self._last_overflow = 0
        self._bps = itemsize(array_namespace, dtype) * math.prod(self._other_shape)
        self._set_capacity(self._capacity)
        self._store = Chunks(self._sample_axis, len(self._other_shape) + 1)
        self._pos = 0  # absolute index of the read head
        self._unread = 0  # unread samples in the ring
        self._valid = 0  # samples in the ring (unread + read history), <= capacity
        self._deque_len = 0  # queued samples (after the ring's)

    def __getstate__(self) -> dict:
        """Pickles: namespace, dtype and device travel by name (see ``_buffer_chunks``)."""
        return portable_state(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(restored_state(state))

    @property
    def sample_axis(self) -> int:
        """Position of the sample axis in stored and returned arrays."""
        return self._sample_axis

    @property
    def capacity(self) -> int:
        """Samples the ring holds."""
        return self._capacity

    def available(self) -> int:
        """Unread samples, in the ring and queued."""
        return self._unread + self._deque_len

    def is_empty(self) -> bool:
        return self._unread + self._deque_len == 0

    def is_full(self) -> bool:
        """Whether the ring holds ``capacity`` unread samples."""
        return self._unread == self._capacity

    def tell(self) -> int:
        """Samples already read that are still in the ring (how far ``seek`` can go back)."""
        return self._valid - self._unread

    def write(self, block: Array) -> None:
        """Queue a block of samples (copied: later changes to ``block`` do not reach here)."""
        ax = self._sample_axis
        shape = block.shape
        if (shape[1:] if ax == 0 else shape[:ax] + shape[ax + 1:]) != self._other_shape:
            if len(shape) == 1 and self._other_shape == (1,):
                xp = self._store.xp or array_namespace(block)
                return self.write(xp.expand_dims(block, axis=1 - ax))
            raise ValueError(f"Block shape {shape[:ax] + shape[ax + 1:]} does not match the "
                             f"buffer's other_shape {self._other_shape}")
        n = shape[ax]
        queued = self._deque_len + n
        if queued > self._room:
            self._check_room(queued)
        if n:
            store = self._store
            dtype = block.dtype
            if dtype is self._dtype_seen or dtype == self._dtype:
                block = (self._copy or self._copier(block))(block)
            else:
                block = (store.xp or array_namespace(block)).astype(block, self._dtype)
            chunks = store.chunks
            chunks.append(block)
            store.starts.append(store.end)
            store.end += n
            if len(chunks) > self._tidy_at or n >= self._capacity:
                self._tidy()
            self._deque_len = queued
            if queued > self._capacity:
                self._bound_queue()
                queued = self._deque_len
        if queued >= self._flush_at:
            self.flush()

    def _copier(self, block: Array) -> typing.Callable:
        self._store.xp = xp = array_namespace(block)
        self._copy = copier(xp)
        self._dtype_seen = block.dtype  # the same dtype object on later writes: one `is`
        return self._copy

    def _tidy(self) -> None:
        """Every few writes: forget blocks that fell out of the ring's history; merge the
        blocks into one when there are many (small writes)."""
        self._trim()
        store = self._store
        if len(store.chunks) > MAX_CHUNKS:
            store.merge_all()
        self._tidy_at = max(8, len(store.chunks) + 4)

    def flush(self) -> None:
        """Move the queued samples into the ring, applying the overflow strategy."""
        self._flush()
        self._trim()

    def _trim(self) -> None:
        """Forget the blocks that hold only samples before the ring's history."""
        self._store.drop_before(self._pos - self._valid + self._unread)

    def _flush_if_needed(self, n_samples: int | None = None) -> None:
        if self._deque_len and (n_samples is None or n_samples > self._unread):
            self.flush()

    def _empty(self) -> Array:
        store = self._store
        if store.chunks:
            return store.chunks[-1][store.index(0, 0)]
        shape = list(self._other_shape)
        shape.insert(self._sample_axis, 0)
        return zeros(self.xp, tuple(shape), dtype=self._dtype, device=self._device)

    def peek(self, n_samples: int | None = None, out: Array | None = None) -> Array:
        """The oldest ``n_samples`` unread samples (all if None), without advancing.

        Queued samples are flushed when the ring alone cannot answer (whatever the update
        strategy). Under "warn-overwrite" that flush may overwrite unread samples; then fewer
        samples than asked may remain and fewer are returned. ``out`` (mutable backends):
        the samples are copied into it and it is returned."""
        avail = self._unread + self._deque_len
        if n_samples is None:
            n_samples = avail
        elif n_samples > avail:
            raise ValueError(f"Requested to peek {n_samples} samples, but only {avail} are "
                             "available.")
        if out is not None and out.shape[self._sample_axis] < n_samples:
            raise ValueError(f"Output array shape {out.shape} is smaller than requested "
                             f"{n_samples} samples.")
        if n_samples <= 0:
            return self._empty()
        if self._deque_len and n_samples > self._unread:
            self.flush()
            n_samples = min(n_samples, self._unread)
        data = self._store.get(self._pos, self._pos + n_samples)
        if out is None:
            return data
        out[self._store.index(0, n_samples)] = data
        return out

    def read(self, n_samples: int | None = None) -> Array:
        """The oldest ``n_samples`` unread samples (all if None); advances the read head."""
        unread = self._unread
        queued = self._deque_len
        avail = unread + queued
        if n_samples is None:
            n_samples = avail
        elif n_samples > avail:
            raise ValueError(f"Requested {n_samples} samples, but only {avail} are available.")
        if queued and n_samples > unread:
            cap = self._capacity
            if avail > cap:
                if unread:
                    return self._read_through(n_samples)
                self._flush()
                unread = self._unread
            else:  # the queued samples fit: no overflow strategy to apply
                self._unread = unread = avail
                valid = self._valid + queued
                self._valid = valid if valid < cap else cap
                self._deque_len = 0
        n = n_samples if n_samples < unread else unread
        if n <= 0:
            return self._empty()
        start = self._pos
        self._pos = end = start + n
        self._unread = unread - n
        store = self._store
        last = store.starts[-1]
        if start == last and end == store.end:  # the newest block, whole: the common read
            return store.chunks[-1]
        return store.get(start, end)

    def peek_at(self, idx: int, allow_flush: bool = False) -> Array:
        """The unread sample ``idx`` (0: the oldest) as a length-1 slice, without advancing.
        With ``allow_flush``, queued samples are flushed first when ``idx`` lies among them."""
        if idx < 0 or idx >= self.available():
            raise IndexError(f"Index {idx} out of bounds for unread samples.")
        if allow_flush:
            self._flush_if_needed(idx + 1)
            if idx >= self.available():
                raise IndexError(f"Index {idx} was overwritten by the flush.")
        return self._store.get(self._pos + idx, self._pos + idx + 1)

    def peek_last(self) -> Array:
        """The newest unread sample as a length-1 slice."""
        if self._unread + self._deque_len == 0:
            raise IndexError("Cannot peek last from an empty buffer.")
        end = self._store.end
        return self._store.get(end - 1, end)

    def seek(self, n_samples: int) -> int:
        """Advance the read head by ``n_samples`` (back if negative, at most ``tell()``
        samples); returns the samples actually skipped."""
        self._flush_if_needed(n_samples)
        k = max(min(n_samples, self._unread), self._unread - self._valid)
        self._pos += k
        self._unread -= k
        return k
