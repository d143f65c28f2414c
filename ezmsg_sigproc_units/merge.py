"""Merge two streams: align them on time (``align``), then join them along a non-time axis
(``concat``).

``MergeProcessor``: ``__call__(msg_a)`` and ``push_b(msg_b)`` each return the next merged chunk
(the samples both inputs now cover) or None. Tolerant of different chunk sizes, of start
times that differ (the earlier input's leading samples are dropped) and of any interleaving
of the two inputs: the merged stream is the same. Inputs at different sampling rates raise
``ValueError`` naming both. ``Merge`` is the two-stage Collection (``ALIGN`` then ``CONCAT``).
"""

from __future__ import annotations

import dataclasses

import ezmsg.core as ez
from ezmsg.util.messages.axisarray import AxisArray

from ._concat_axes import renamed_errors
from .align import AlignAlongAxis, AlignAlongAxisProcessor, AlignAlongAxisSettings, OverflowStrategy
from .concat import Concat, ConcatProcessor, ConcatSettings


class MergeSettings(ez.Settings):
    axis: str = "ch"
    """Dim to join along (see ``concat.ConcatSettings.axis``). Default ``"ch"``."""

    align_axis: str | None = "time"
    """Dim to align on. None: the messages' ``stream_dim``. Default ``"time"``."""

    buffer_dur: float = 10.0
    """Seconds of each input kept while waiting for the other. Default 10.0."""

    relabel_axis: bool = True
    """Suffix the joined coordinate labels with ``label_a``/``label_b``. Default True."""

    label_a: str = "_a"
    """Input A's suffix (existing axis) or coordinate (new axis). Default ``"_a"``."""

    label_b: str = "_b"
    """Input B's suffix or coordinate. Default ``"_b"``."""

    assert_identical_shared_axes: bool = False
    """Raise when a shared axis differs between A and B. Default False."""

    new_key: str | None = None
    """The output's key. None (default): A's key."""

    overflow_strategy: OverflowStrategy = dataclasses.field(default="grow", kw_only=True)
    """Alignment buffers past ``buffer_dur`` (see ``align``). Default ``"grow"``."""

    max_size: int = dataclasses.field(default=1024**3, kw_only=True)
    """``"grow"``: most bytes one input's buffer may hold. Default 1 GiB."""

    def __post_init__(self) -> None:
        renamed_errors(self.align_settings, {"axis": "align_axis"})
        self.concat_settings()

    def align_settings(self) -> AlignAlongAxisSettings:
        return AlignAlongAxisSettings(axis=self.align_axis, buffer_dur=self.buffer_dur,
                                      overflow_strategy=self.overflow_strategy,
                                      max_size=self.max_size)

    def concat_settings(self) -> ConcatSettings:
        return ConcatSettings(axis=self.axis, align_axis=self.align_axis,
                              relabel_axis=self.relabel_axis, label_a=self.label_a,
                              label_b=self.label_b,
                              assert_identical_shared_axes=self.assert_identical_shared_axes,
                              new_key=self.new_key)


class MergeProcessor:
    """Alignment then concatenation, one call per input message."""

    def __init__(self, settings: MergeSettings | None = None, **kwargs) -> None:
        self.settings = settings if settings is not None else MergeSettings(**kwargs)
        self._align = AlignAlongAxisProcessor(self.settings.align_settings())
        self._concat = ConcatProcessor(self.settings.concat_settings())

    @property
    def align_state(self):
        """The alignment stage's state."""
        return self._align.state

    @property
    def concat_state(self):
        """The concatenation stage's state."""
        return self._concat.state

    def _join(self, pair) -> AxisArray | None:
        return None if pair is None else self._concat._concat(*pair)

    def __call__(self, msg_a: AxisArray) -> AxisArray | None:
        return self._join(self._align.push_a(msg_a))

    async def __acall__(self, msg_a: AxisArray) -> AxisArray | None:
        return self._join(self._align.push_a(msg_a))

    def push_a(self, msg_a: AxisArray) -> AxisArray | None:
        return self._join(self._align.push_a(msg_a))

    def push_b(self, msg_b: AxisArray) -> AxisArray | None:
        return self._join(self._align.push_b(msg_b))


class Merge(ez.Collection):
    """``OUTPUT_SIGNAL``: ``INPUT_SIGNAL_A`` and ``INPUT_SIGNAL_B`` aligned on time
    (``ALIGN``) and joined along the axis (``CONCAT``)."""

    SETTINGS = MergeSettings

    INPUT_SIGNAL_A = ez.InputTopic(AxisArray)
    INPUT_SIGNAL_B = ez.InputTopic(AxisArray)
    OUTPUT_SIGNAL = ez.OutputTopic(AxisArray)

    ALIGN = AlignAlongAxis()
    CONCAT = Concat()

    def configure(self) -> None:
        self.ALIGN.apply_settings(self.SETTINGS.align_settings())
        self.CONCAT.apply_settings(self.SETTINGS.concat_settings())

    def network(self) -> ez.NetworkDefinition:
        return (
            (self.INPUT_SIGNAL_A, self.ALIGN.INPUT_SIGNAL_A),
            (self.INPUT_SIGNAL_B, self.ALIGN.INPUT_SIGNAL_B),
            (self.ALIGN.OUTPUT_SIGNAL_A, self.CONCAT.INPUT_SIGNAL_A),
            (self.ALIGN.OUTPUT_SIGNAL_B, self.CONCAT.INPUT_SIGNAL_B),
            (self.CONCAT.OUTPUT_SIGNAL, self.OUTPUT_SIGNAL),
        )
