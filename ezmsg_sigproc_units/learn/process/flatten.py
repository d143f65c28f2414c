"""ezmsg-learn's Flatten: windowed features ``(win, time, ch[, ...])`` -> ``(win, ch)`` with a
lag-labelled merged axis, for decoders that take one feature vector per window.

It is this package's general ``ezmsg_sigproc_units.flatten`` with one addition. When the
input carries the kept dim (typically ``"win"``), a ``"time"`` dim inside each window (the
lags) and a labelled feature axis (``feature_axis``, with coordinates), the ``time`` dim gets a
structured axis with an integer ``lag`` field (the oldest sample of a window has the largest
lag, the newest lag 0) and a ``label`` field ``"t-<lag>"``. Every dim but the kept one is then
merged in input order, so the merged axis reads ``"t-2/c0"``, ``"t-2/c1"``, ... ,
``"t-0/c1"`` and carries ``lag`` plus the feature axes' fields. Outside that case it is the
general flatten (every other dim merged into ``feature_axis``).

The data is only permuted (when needed) and reshaped in its own namespace, on its device;
the labels are host metadata built once per layout.
"""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ..._messages import axis_index, replace_fields
from ..._processors import StreamAxisMixin, stream_axis
from ..._units import TransformerUnit
from ...flatten import FlattenSettings as _GeneralSettings
from ...flatten import FlattenTransformer as _GeneralFlatten
from ..util import with_fingerprint

__all__ = ["Flatten", "FlattenSettings", "FlattenTransformer", "LagFlattenState"]

_LAG_DIM = "time"


class FlattenSettings(ez.Settings):
    preserve_axis: str | None = None
    """The dim kept first on the output (typically "win"). None (default): the message's
    ``stream_dim``, else "win" when present, else the first dim."""

    sample_axis: str | None = None
    """The kept dim's name on the output (e.g. "time", so a decoder sees samples). None
    (default): ``preserve_axis``'s own name."""

    feature_axis: str = "ch"
    """Name of the merged axis; in the lag case also the labelled feature dim that must be
    present (with coordinates) for the lag axis to be attached. Default "ch"."""

    def __post_init__(self) -> None:
        for name, may_be_none in (("preserve_axis", True), ("sample_axis", True),
                                  ("feature_axis", False)):
            value = getattr(self, name)
            if not ((value is None and may_be_none) or (isinstance(value, str) and value)):
                raise ValueError(f"{name}: must be a dim name{' or None' * may_be_none}, "
                                 f"got {value!r}")
        kept = self.sample_axis or self.preserve_axis
        if kept is not None and kept == self.feature_axis:
            raise ValueError(f"feature_axis: {self.feature_axis!r} is also the kept dim's "
                             f"output name; sample_axis and feature_axis must differ")


@processor_state
class LagFlattenState:
    inner_settings: Any = None
    """Settings of the general flatten doing the work (``ezmsg_sigproc_units.flatten``)."""

    inner: Any = None
    """That flatten's state (its permutation, shapes and merged axis)."""

    lag_axis: CoordinateAxis | None = None
    """The structured ``lag``/``label`` axis put on the ``time`` dim; None outside the lag
    case."""


def _is_lag_case(message: AxisArray, keep: str, feature_axis: str) -> bool:
    """The kept dim, a ``time`` lag dim and a labelled ``feature_axis`` are all present."""
    return (keep != _LAG_DIM and feature_axis != _LAG_DIM and keep in message.dims
            and _LAG_DIM in message.dims and feature_axis in message.dims
            and getattr(message.axes.get(feature_axis), "data", None) is not None)


def lag_axis(n: int, dim: str = _LAG_DIM) -> CoordinateAxis:
    """The structured axis of ``n`` lags: position 0 (oldest) has lag ``n - 1``, the last
    (newest) lag 0; fields ``lag`` (int32) and ``label`` (``"t-<lag>"``)."""
    lags = np.arange(n - 1, -1, -1, dtype=np.int32)
    labels = np.array([f"t-{k}" for k in lags]) if n else np.zeros(0, dtype="U1")
    data = np.empty(n, dtype=[("lag", np.int32), ("label", labels.dtype)])
    data["lag"], data["label"] = lags, labels
    return with_fingerprint(CoordinateAxis(data=data, dims=[dim]))


class FlattenTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[FlattenSettings, AxisArray, AxisArray, LagFlattenState],
):
    """``(keep, *others)`` -> ``(keep, merged, ...)`` as the general flatten, with the lag axis
    attached in the windowed case (module docstring). The state (the merged labels) is
    rebuilt by the shared reset rule: any change of the other dims' lengths or labels, the
    namespace, device or dtype; the kept dim's length may vary freely."""

    STREAMING_DIMS = ("win",)
    """Without a declared ``stream_dim`` the kept dim defaults to "win" (the windows grow
    between messages; ``time`` is the lag inside each window)."""

    def _axis(self, message: AxisArray) -> str:
        return stream_axis(self, message, self.settings.preserve_axis)

    def _reset_state(self, message: AxisArray) -> None:
        s = self.settings
        keep = self._axis(message)
        axis_index(message, keep, field="preserve_axis")
        sample = s.sample_axis or keep
        if sample == s.feature_axis:
            raise ValueError(f"feature_axis: {s.feature_axis!r} is also the kept dim's output "
                             f"name; sample_axis and feature_axis must differ")
        lag = None
        merge = None
        if _is_lag_case(message, keep, s.feature_axis):
            lag = lag_axis(message.data.shape[message.dims.index(_LAG_DIM)])
            merge = tuple(d for d in message.dims if d != keep)
        self._state.lag_axis = lag
        self._state.inner_settings = _GeneralSettings(
            preserve_axis=keep, sample_axis=sample, flatten_axes=merge,
            output_axis=s.feature_axis)
        inner = self._general()
        inner._reset_state(self._with_lag(message))
        self._state.inner = inner.state

    def _general(self) -> _GeneralFlatten:
        """The general flatten on this state (rebuilt after unpickling: only its state and
        settings are kept). Its own reset rule is not consulted: this processor's covers it
        (the same dims, lengths and labels, the lag axis being a function of a length)."""
        inner = self.__dict__.get("_inner")
        if inner is None or inner.settings is not self._state.inner_settings:
            inner = self._inner = _GeneralFlatten(self._state.inner_settings)
        if self._state.inner is not None:
            inner._state = self._state.inner
        return inner

    def _with_lag(self, message: AxisArray) -> AxisArray:
        lag = self._state.lag_axis
        if lag is None:
            return message
        return replace_fields(message, axes={**message.axes, _LAG_DIM: lag})

    def _process(self, message: AxisArray) -> AxisArray:
        return self._general()._process(self._with_lag(message))


class Flatten(TransformerUnit[FlattenSettings, AxisArray, AxisArray, FlattenTransformer]):
    SETTINGS = FlattenSettings
