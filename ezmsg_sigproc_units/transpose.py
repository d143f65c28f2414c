"""Reorder a message's dims (and optionally its memory layout)."""

from __future__ import annotations

from types import EllipsisType

import ezmsg.core as ez
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import array_namespace
from ._backend.layout import as_contiguous
from ._messages import axis_index, replace_data, replace_fields
from ._processors import StreamAxisMixin
from ._units import TransformerUnit


class TransposeSettings(ez.Settings):
    axes: tuple[int | str | EllipsisType, ...] | None = None
    """The new dim order: dim names, dim indices (negative count from the end) and at most
    one ``...`` standing for the remaining dims in their current order. Dims left out are
    appended at the end in their current order (as if ``...`` ended the tuple). None (default)
    keeps the current order."""

    order: str | None = None
    """Memory layout of the output: "C" (last dim fastest), "F" (first dim fastest) or None
    (default: whatever the permutation gives, usually a strided view). Honoured on NumPy,
    CuPy and torch; other backends manage layout themselves and ignore it."""

    def __post_init__(self) -> None:
        if self.order not in (None, "C", "F"):
            raise ValueError(f"order: must be None, 'C' or 'F', got {self.order!r}")
        if self.axes is None:
            return
        if isinstance(self.axes, (str, bytes)) or not isinstance(self.axes, (tuple, list)):
            raise ValueError(f"axes: must be a tuple of dim names, ints and ..., got {self.axes!r}")
        seen = set()
        for a in self.axes:
            if a is not Ellipsis and (isinstance(a, bool) or not isinstance(a, (int, str))):
                raise ValueError(f"axes: entries must be dim names, ints or ..., got {a!r}")
            if a in seen:
                what = "more than one Ellipsis" if a is Ellipsis else f"{a!r} appears twice"
                raise ValueError(f"axes: {what} in {tuple(self.axes)!r}")
            seen.add(a)


@processor_state
class TransposeState:
    axes_ints: tuple[int, ...] | None = None
    """The permutation as dim indices; None when it is the identity."""


def _permutation(msg: AxisArray, axes) -> tuple[int, ...]:
    """Dim indices for ``axes`` on ``msg`` (``...`` and missing dims filled in order)."""
    ndim = len(msg.dims)
    before: list[int] = []
    after: list[int] = []
    target = before
    for a in axes:
        if a is Ellipsis:
            target = after
            continue
        if isinstance(a, str):
            ix = axis_index(msg, a, field="axes")
        elif -ndim <= a < ndim:
            ix = a % ndim
        else:
            raise ValueError(f"axes: index {a} is out of range for dims {list(msg.dims)}")
        if ix in before or ix in after:
            raise ValueError(f"axes: dim {msg.dims[ix]!r} is named twice in {tuple(axes)!r}")
        target.append(ix)
    rest = [i for i in range(ndim) if i not in before and i not in after]
    return tuple(before + rest + after)


class TransposeTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[TransposeSettings, AxisArray, AxisArray, TransposeState],
):
    """Permute dims (data, ``dims``; ``axes`` are keyed by name so they carry over). With
    nothing to permute and no ``order`` requested, the input message itself is returned.

    The state (the permutation) depends on the dim names only, but it follows the shared
    reset rule (``StreamAxisMixin``) like every stateful processor: a reset on any other
    change (lengths, labels, dtype, namespace, device) rebuilds the same permutation, so the
    output never depends on it, and it costs nothing while the layout holds."""

    NONRESET_SETTINGS_FIELDS = frozenset({"order"})

    def _reset_state(self, message: AxisArray) -> None:
        axes = self.settings.axes
        perm = None if axes is None else _permutation(message, axes)
        identity = perm is None or perm == tuple(range(len(message.dims)))
        self._state.axes_ints = None if identity else perm

    def _process(self, message: AxisArray) -> AxisArray:
        perm = self._state.axes_ints
        order = self.settings.order
        if perm is None:
            if order is None:
                return message
            return replace_data(message, as_contiguous(message.data, order))
        xp = array_namespace(message.data)
        data = xp.permute_dims(message.data, perm)
        if order is not None:
            data = as_contiguous(data, order)
        dims = [message.dims[i] for i in perm]
        return replace_fields(message, data=data, dims=dims, axes=dict(message.axes))


class Transpose(TransformerUnit[TransposeSettings, AxisArray, AxisArray, TransposeTransformer]):
    SETTINGS = TransposeSettings


def transpose(axes: tuple | None = None, order: str | None = None) -> TransposeTransformer:
    """A ``TransposeTransformer`` reordering dims to ``axes`` with memory ``order``."""
    return TransposeTransformer(TransposeSettings(axes=axes, order=order))
