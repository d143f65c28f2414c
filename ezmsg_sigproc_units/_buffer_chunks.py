"""Sample storage of :class:`~ezmsg_sigproc_units.util.buffer.HybridBuffer`: a list of
chunks addressed by absolute sample index, consolidated lazily.

Nothing is written in place, so the same code runs on mutable backends (NumPy, torch,
array-api-strict) and immutable ones (JAX, MLX's value semantics): a write stores the block
(a copy where the caller could mutate it later), a read slices one chunk (a view, or the chunk
itself) or concatenates the chunks it spans and keeps the result in their place, so a stream
of small writes costs one concatenation per read, not one per later read.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import importlib
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

from ._backend import backend_name, dtype_from_name, dtype_name, is_numpy_namespace

__all__ = ["MAX_CHUNKS", "Chunks", "clone_axis", "copier", "grown_capacity", "itemsize",
           "load_namespace", "namespace_name", "portable_state", "restored_state"]

MAX_CHUNKS = 64  # more than this many stored blocks are merged into one on the next write


def itemsize(xp: Any, dtype: Any) -> int:
    """Bytes per element of ``dtype`` without NumPy (works for every backend's dtypes)."""
    try:
        return xp.finfo(dtype).bits // 8 * (2 if "complex" in str(dtype) else 1)
    except (TypeError, ValueError):
        pass
    try:
        return xp.iinfo(dtype).bits // 8
    except (TypeError, ValueError):
        return 1  # bool


def _same(x: Any) -> Any:
    return x


def _mlx_copy(x: Any) -> Any:
    return x[...]  # a new value: writing into the source later leaves it as it is


def copier(xp: Any) -> Callable[[Any], Any]:
    """A function returning its argument as an array nobody else can change: JAX arrays are
    immutable; an MLX slice is a new value; the others are copied."""
    if is_numpy_namespace(xp):
        return np.ndarray.copy
    name = backend_name(xp)
    if name == "jax":
        return _same
    if name == "mlx":
        return _mlx_copy
    return functools.partial(xp.asarray, copy=True)


_FIELDS: dict[type, tuple[str, ...]] = {}


def clone_axis(axis: Any, **changes: Any) -> Any:
    """A copy of an axis dataclass with ``changes`` (``dataclasses.replace`` without its
    per-call field walk; caches such as a fingerprint are not carried)."""
    cls = type(axis)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    kw = {n: getattr(axis, n) for n in names}
    kw.update(changes)
    return cls(**kw)


def grown_capacity(capacity: int, min_capacity: int, bytes_per_sample: int,
                   max_size: int) -> int:
    """The "grow" overflow strategy: double (or more, to ``min_capacity``) within
    ``max_size`` bytes; OverflowError when ``min_capacity`` does not fit."""
    if bytes_per_sample == 0:
        return max(2 * capacity, min_capacity)
    max_capacity = max_size // bytes_per_sample
    if min_capacity > max_capacity:
        raise OverflowError(f"Cannot grow buffer to {min_capacity} samples, maximum capacity "
                            f"is {max_capacity} samples ({max_size} bytes).")
    return min(max_capacity, max(2 * capacity, min_capacity))


def namespace_name(xp: Any) -> str | None:
    """A module namespace by its import name (pickles carry the name, not the module)."""
    return None if xp is None else xp.__name__


def load_namespace(name: str | None) -> Any:
    return None if name is None else importlib.import_module(name)


def portable_state(state: dict) -> dict:
    """A ``HybridBuffer``'s ``__dict__`` ready to pickle: the namespace by module name, the
    dtype by name (MLX dtypes do not pickle), the device only where it pickles (JAX's does
    not: the default device after unpickling), the copy function found again on the next
    write."""
    state = dict(state, xp=namespace_name(state["xp"]), _copy=None, _dtype_seen=None)
    if not _pickles(state["_dtype"]):
        state["_dtype"] = ("__dtype__", dtype_name(state["_dtype"]))
    if not _pickles(state["_device"]):
        state["_device"] = None
    return state


def _pickles(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # noqa: BLE001 - any object that refuses
        return False
    return True


def restored_state(state: dict) -> dict:
    xp = load_namespace(state["xp"])
    dtype = state["_dtype"]
    if isinstance(dtype, tuple) and dtype[:1] == ("__dtype__",):
        dtype = dtype_from_name(xp, dtype[1])
    return dict(state, xp=xp, _dtype=dtype)


class Chunks:
    """Samples ``[start, end)`` of a stream along ``axis``, in stored blocks."""

    __slots__ = ("axis", "ndim", "chunks", "starts", "end", "xp")

    def __init__(self, axis: int, ndim: int) -> None:
        self.axis = axis
        self.ndim = ndim
        self.chunks: list[Any] = []
        self.starts: list[int] = []
        self.end = 0
        self.xp: Any = None

    def __getstate__(self) -> dict:
        state = {k: getattr(self, k) for k in self.__slots__}
        state["xp"] = namespace_name(self.xp)
        return state

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)
        self.xp = load_namespace(self.xp)

    def index(self, a: int, b: int) -> tuple:
        return (slice(None),) * self.axis + (slice(a, b),) + (slice(None),) * (
            self.ndim - 1 - self.axis)

    def merge_all(self) -> None:
        self._merge(0, len(self.chunks))

    def _merge(self, i: int, j: int) -> None:
        """Replace chunks ``i..j-1`` by their concatenation."""
        merged = self.xp.concat(self.chunks[i:j], axis=self.axis)
        self.chunks[i:j] = [merged]
        del self.starts[i + 1:j]

    def get(self, a: int, b: int) -> Any:
        """Samples ``[a, b)`` (``start <= a < b <= end``): the chunk itself, a slice of it,
        or (spanning several) a slice of their merge."""
        starts = self.starts
        s = starts[-1]
        if a >= s:  # the newest chunk: the common streaming read
            i, e = len(starts) - 1, self.end
        else:
            i = bisect.bisect_right(starts, a) - 1
            s = starts[i]
            e = starts[i + 1]
        if b > e:
            j = bisect.bisect_left(starts, b, lo=i)
            self._merge(i, j)
            e = starts[i + 1] if i + 1 < len(starts) else self.end
        c = self.chunks[i]
        if a == s and b == e:
            return c
        return c[self.index(a - s, b - s)]

    def drop_before(self, a: int) -> None:
        """Forget whole chunks that end at or before sample ``a``."""
        starts = self.starts
        k = bisect.bisect_right(starts, a) - 1
        if k > 0:
            del self.chunks[:k]
            del starts[:k]
        if self.chunks and self.end <= a:
            self.chunks.clear()
            starts.clear()

    def drop_after(self, b: int) -> None:
        """Forget samples at or after ``b`` (the newest)."""
        starts = self.starts
        while starts and starts[-1] >= b:
            starts.pop()
            self.chunks.pop()
        if starts and self.end > b:
            self.chunks[-1] = self.chunks[-1][self.index(0, b - starts[-1])]
        self.end = b
