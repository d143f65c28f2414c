"""Buffers of ``AxisArray`` messages along one axis (the peer's ``util.axisarray_buffer``).

``HybridAxisBuffer`` buffers the axis itself: a ``LinearAxis`` as an offset and a count, a
``CoordinateAxis`` as its values in a :class:`~.buffer.HybridBuffer`. ``HybridAxisArrayBuffer``
pairs one with a ``HybridBuffer`` of the data and returns ``AxisArray`` messages: the layout
(dims order, namespace, device, dtype) of the first message is kept. See docs/buffers.md.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import typing
import warnings

from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from .._backend import array_namespace, device_of, zeros
from .._buffer_chunks import clone_axis as _clone
from .._buffer_chunks import copier
from .._messages import axis_index, replace_fields
from .buffer import HybridBuffer

__all__ = ["HybridAxisArrayBuffer", "HybridAxisBuffer"]

Array = typing.TypeVar("Array")


class HybridAxisBuffer:
    """An axis buffered along its own dimension.

    Args:
        duration: Seconds (axis units) the buffer holds; the capacity is derived from the
            first axis (its gain, or the mean step of its coordinates).
        **kwargs: ``HybridBuffer`` options (``update_strategy``, ``threshold``,
            ``overflow_strategy``, ``max_size``, ``warn_once``); ``warn_overflow=False``
            silences this buffer's own overflow warning.
    """

    def __init__(self, duration: float, **kwargs):
        self.duration = duration
        self._warn_overflow = kwargs.pop("warn_overflow", True)
        self._follow = kwargs.pop("_follow_data", False)  # counts only; the owner resyncs
        self.buffer_kwargs = kwargs
        self._overflow_strategy = kwargs.get("overflow_strategy", "grow")
        self._warn_once = kwargs.get("warn_once", True)
        self._warned = False
        self._coords_buffer: HybridBuffer | None = None
        self._coords_template: CoordinateAxis | None = None
        self._coords_gain_estimate: float | None = None
        self._linear_axis: LinearAxis | None = None
        self._linear_n_available = 0

    @property
    def capacity(self) -> int:
        if self._coords_buffer is not None:
            return self._coords_buffer.capacity
        if self._linear_axis is not None:
            return int(math.ceil(self.duration / self._linear_axis.gain))
        return 0

    def available(self) -> int:
        if self._coords_buffer is None:
            return self._linear_n_available
        return self._coords_buffer.available()

    def is_empty(self) -> bool:
        return self.available() == 0

    def is_full(self) -> bool:
        if self._coords_buffer is not None:
            return self._coords_buffer.is_full()
        return 0 < self.capacity == self.available()

    def _initialize(self, first_axis: LinearAxis | CoordinateAxis) -> None:
        if hasattr(first_axis, "data"):
            values = first_axis.data
            n = values.shape[0]
            gain = float(values[-1] - values[0]) / (n - 1) if n > 1 else 1.0
            self._coords_gain_estimate = gain
            xp = array_namespace(values)
            self._coords_buffer = HybridBuffer(xp, int(self.duration / gain), (), values.dtype,
                                               device=device_of(values), **self.buffer_kwargs)
            self._coords_template = dataclasses.replace(first_axis, data=copier(xp)(values[:0]))
        else:
            self._linear_axis = dataclasses.replace(first_axis)
            self._linear_n_available = 0

    def write(self, axis: LinearAxis | CoordinateAxis, n_samples: int) -> None:
        """Append ``n_samples`` samples of ``axis`` (the axis of one message)."""
        if self._linear_axis is None and self._coords_buffer is None:
            self._initialize(axis)
        expected = (self._coords_template if self._coords_buffer is not None
                    else self._linear_axis)
        if axis.__class__ is not expected.__class__:
            raise TypeError(f"Buffer initialized with {expected.__class__.__name__}, but "
                            f"received {axis.__class__.__name__}.")
        if self._coords_buffer is not None:
            self._coords_buffer.write(axis.data)
            return
        lin = self._linear_axis
        if axis.gain != lin.gain:
            raise ValueError(f"Buffer initialized with gain={lin.gain}, but received "
                             f"gain={axis.gain}.")
        n_over = self._linear_n_available + n_samples - self.capacity
        strategy = self._overflow_strategy
        if n_over > 0 and strategy != "grow" and not self._follow:
            if strategy == "raise":
                raise OverflowError(f"Axis buffer overflow: {self._linear_n_available + n_samples}"
                                    f" samples exceed capacity {self.capacity}.")
            if strategy == "drop":  # the newest samples go; the offset stays
                self._linear_n_available += n_samples - n_over
                return
            if self._warn_overflow and (not self._warn_once or not self._warned):
                self._warned = True
                warnings.warn(f"Axis buffer overflow: {n_samples} samples received, "
                              f"overwriting {n_over} previous samples.", RuntimeWarning,
                              stacklevel=2)
            lin.offset = axis.offset + (n_samples - self.capacity) * axis.gain
            self._linear_n_available = self.capacity
            return
        if self._follow and strategy == "drop" and self._linear_n_available:
            # the data buffer may drop some of these: the oldest sample keeps its time
            self._linear_n_available += n_samples
            return
        # the buffered samples end where this message begins
        lin.offset = axis.offset - self._linear_n_available * axis.gain
        self._linear_n_available += n_samples

    def _follow_count(self, n_available: int, drop_newest: bool) -> None:
        """LinearAxis: match the count of a data buffer that lost samples (the newest under
        "drop", the oldest otherwise)."""
        lost = self._linear_n_available - n_available
        if lost > 0 and self._linear_axis is not None:
            if not drop_newest:
                self._linear_axis.offset += lost * self._linear_axis.gain
            self._linear_n_available = n_available

    def peek(self, n_samples: int | None = None) -> LinearAxis | CoordinateAxis:
        if self._coords_buffer is not None:
            return _clone(self._coords_template, data=self._coords_buffer.peek(n_samples))
        return _clone(self._linear_axis)

    def _read(self, n_samples: int | None, n_data: int) -> LinearAxis | CoordinateAxis:
        """``peek`` and ``seek`` in one, as the owner's data buffer just read ``n_data``."""
        if self._coords_buffer is not None:
            return _clone(self._coords_template, data=self._coords_buffer.read(n_samples))
        out = _clone(self._linear_axis)
        if self.seek(n_data) != n_data:
            raise RuntimeError(f"axis buffer could not advance {n_data} samples")
        return out

    def seek(self, n_samples: int) -> int:
        if self._coords_buffer is not None:
            return self._coords_buffer.seek(n_samples)
        k = min(n_samples, self._linear_n_available)
        self._linear_n_available -= k
        self._linear_axis.offset += k * self._linear_axis.gain
        return k

    def prune(self, n_samples: int) -> int:
        """Discard all but the newest ``n_samples`` unread samples."""
        n_drop = self.available() - n_samples
        return self.seek(n_drop) if n_drop > 0 else 0

    @property
    def final_value(self) -> float | None:
        """Axis value of the newest sample (None before the first write)."""
        if self._coords_buffer is not None:
            return self._coords_buffer.peek_last()[0]
        if self._linear_axis is not None:
            return self._linear_axis.value(self._linear_n_available - 1)
        return None

    @property
    def first_value(self) -> float | None:
        """Axis value of the oldest unread sample (None when empty)."""
        if self.available() == 0:
            return None
        if self._coords_buffer is not None:
            return self._coords_buffer.peek_at(0)[0]
        return self._linear_axis.value(0)

    @property
    def gain(self) -> float | None:
        if self._coords_buffer is not None:
            return self._coords_gain_estimate
        return None if self._linear_axis is None else self._linear_axis.gain

    def searchsorted(self, values: float | Array, side: str = "left") -> int | Array:
        """Indices (from the oldest unread sample) where ``values`` would be inserted."""
        if self._coords_buffer is not None:
            buf = self._coords_buffer
            held = buf.peek(buf.available())
            xp = array_namespace(held)
            if isinstance(values, (int, float)):
                return int(xp.searchsorted(held, xp.asarray([values], dtype=held.dtype),
                                           side=side)[0])
            return xp.searchsorted(held, values, side=side)
        scalar = isinstance(values, (int, float))
        if scalar:
            f = 0.0 if self.available() == 0 else (
                (values - self._linear_axis.offset) / self._linear_axis.gain)
            k = math.ceil(f)
            return k + 1 if side == "right" and abs(f - k) <= 1e-9 else k
        xp = array_namespace(values)
        if self.available() == 0:
            return xp.zeros(values.shape, dtype=xp.int64, device=device_of(values))
        f = (values - self._linear_axis.offset) / self._linear_axis.gain
        k = xp.ceil(f)
        if side == "right":
            k = xp.where(xp.abs(f - k) <= 1e-9, k + 1, k)
        return xp.astype(k, xp.int64)


class HybridAxisArrayBuffer:
    """``AxisArray`` messages buffered along ``axis``; configured by the first message.

    Args:
        duration: Seconds (axis units) the buffer holds.
        axis: The dim to buffer along.
        **kwargs: ``HybridBuffer`` options for the data and the axis.
    """

    def __init__(self, duration: float, axis: str = "time", **kwargs):
        self.duration = duration
        self._axis = axis
        self.buffer_kwargs = kwargs
        self._axis_buffer = HybridAxisBuffer(duration=duration, warn_overflow=False,
                                             _follow_data=True, **kwargs)
        self._drop_newest = kwargs.get("overflow_strategy", "grow") == "drop"
        self._data_buffer: HybridBuffer | None = None
        self._template_msg: AxisArray | None = None
        self._sample_axis: int | None = None
        self._dims: list[str] | None = None

    @property
    def sample_axis(self) -> int | None:
        """Index of the buffered dim in stored and returned data (None before a write)."""
        return self._sample_axis

    def available(self) -> int:
        return 0 if self._data_buffer is None else self._data_buffer.available()

    def is_empty(self) -> bool:
        return self.available() == 0

    def is_full(self) -> bool:
        return self._data_buffer is not None and 0 < self._data_buffer.capacity == \
            self.available()

    @property
    def axis_first_value(self) -> float | None:
        return self._axis_buffer.first_value

    @property
    def axis_final_value(self) -> float | None:
        return self._axis_buffer.final_value

    def _initialize(self, msg: AxisArray) -> None:
        ax = self._sample_axis = axis_index(msg, self._axis)
        self._dims = list(msg.dims)
        xp, device = array_namespace(msg.data), device_of(msg.data)
        shape = tuple(msg.data.shape)
        empty = zeros(xp, shape[:ax] + (0,) + shape[ax + 1:], dtype=msg.data.dtype,
                      device=device)
        self._template_msg = replace_fields(
            msg, empty, axes={k: copy.deepcopy(v) for k, v in msg.axes.items()
                              if k != self._axis})
        self._axis_buffer._initialize(msg.axes[self._axis])
        self._data_buffer = HybridBuffer(xp, self._axis_buffer.capacity,
                                         shape[:ax] + shape[ax + 1:], msg.data.dtype,
                                         sample_axis=ax, device=device, **self.buffer_kwargs)

    def _sync(self) -> None:
        self._axis_buffer._follow_count(self._data_buffer.available(), self._drop_newest)

    def _follow_loss(self, before: int, k: int) -> None:
        """After the data buffer advanced ``k`` of ``before`` samples: samples a flush
        overwrote (or dropped) leave the axis too."""
        lost = before - k - self._data_buffer.available()
        if lost:
            self._axis_buffer._follow_count(self._axis_buffer.available() - lost,
                                            self._drop_newest)

    def write(self, msg: AxisArray) -> None:
        """Append a message (the first one sets the layout; later ones are permuted to it)."""
        if self._data_buffer is None:
            self._initialize(msg)
        elif list(msg.dims) != self._dims:
            order = tuple(axis_index(msg, d) for d in self._dims)
            msg = replace_fields(msg, array_namespace(msg.data).permute_dims(msg.data, order),
                                 dims=self._dims)
        self._data_buffer.write(msg.data)
        self._axis_buffer.write(msg.axes[self._axis], msg.data.shape[self._sample_axis])
        self._sync()

    def peek(self, n_samples: int | None = None) -> AxisArray | None:
        """The oldest unread samples as a message, without advancing (None before a write)."""
        if self._data_buffer is None:
            return None
        data = self._data_buffer.peek(n_samples)
        self._sync()
        out_axis = self._axis_buffer.peek(n_samples)
        return replace_fields(self._template_msg, data,
                              axes={**self._template_msg.axes, self._axis: out_axis})

    def peek_axis(self, n_samples: int | None = None) -> LinearAxis | CoordinateAxis | None:
        if self._data_buffer is None:
            return None
        return self._axis_buffer.peek(n_samples)

    def seek(self, n_samples: int) -> int:
        if self._data_buffer is None:
            return 0
        before = self._data_buffer.available()
        k = self._data_buffer.seek(n_samples)
        self._follow_loss(before, k)
        skipped = self._axis_buffer.seek(k)
        if skipped != k:
            raise RuntimeError(f"axis buffer skipped {skipped} samples, data buffer {k}")
        return k

    def read(self, n_samples: int | None = None) -> AxisArray | None:
        """The oldest unread samples as a message, advancing (None when there are none)."""
        buf = self._data_buffer
        before = 0 if buf is None else buf.available()
        if before == 0 or n_samples == 0:
            return None
        data = buf.read(n_samples)
        k = data.shape[self._sample_axis]
        self._follow_loss(before, k)
        out_axis = self._axis_buffer._read(n_samples, k)
        return replace_fields(self._template_msg, data,
                              axes={**self._template_msg.axes, self._axis: out_axis})

    def prune(self, n_samples: int) -> int:
        """Discard all but the newest ``n_samples`` unread samples."""
        n_drop = self.available() - n_samples
        return self.seek(n_drop) if self._data_buffer is not None and n_drop > 0 else 0

    @property
    def axis_gain(self) -> float | None:
        return self._axis_buffer.gain

    def axis_searchsorted(self, values: float | Array, side: str = "left") -> int | Array:
        return self._axis_buffer.searchsorted(values, side=side)
