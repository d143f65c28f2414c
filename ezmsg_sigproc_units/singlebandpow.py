"""Power of one frequency band over time, two ways.

* ``RMSBandPowerTransformer``: band-pass -> square -> mean over consecutive, non-overlapping
  bins of ``bin_duration`` -> square root (optional). Bin ``k`` holds samples ``[k B, (k+1) B)``
  of the stream (``B = floor(bin_duration * fs)``); its output timestamp is that of its first
  sample and the output axis gain is ``B / fs``. A message returns the bins it completes (often
  none); the incomplete bin is carried to the next message.
* ``SquareLawBandPowerTransformer``: band-pass -> square -> low-pass -> downsample (the
  classical square-law envelope detector).

Both equal the offline computation on the whole signal (``sosfilt`` with the filters' initial
state, square, bin mean / ``sosfilt`` and ``[::q]``) for any chunking, on every backend, in the
input's float dtype.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseStatefulTransformer, CompositeProcessor, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import array_namespace, materialize
from ._kernels import axes as _axes
from ._kernels import elementwise
from ._messages import axis_index, replace_fields
from ._processors import StreamAxisMixin, stream_axis
from ._units import TransformerUnit
from ._validate import check_member, check_real
from .butterworthfilter import ButterworthFilterSettings, ButterworthFilterTransformer
from .downsample import DownsampleSettings, DownsampleTransformer
from .materialize import MaterializeMode
from .math.pow import PowSettings, PowTransformer


def _band_default() -> ButterworthFilterSettings:
    return ButterworthFilterSettings(order=4, coef_type="sos")


class RMSBandPowerSettings(ez.Settings):
    bandpass: ButterworthFilterSettings = dataclasses.field(default_factory=_band_default)
    """The band-pass stage (set ``cuton`` and ``cutoff``, Hz). Default: order 4, "sos", no
    edges (a passthrough: the power of the raw signal)."""

    bin_duration: float = 0.05
    """Bin length in seconds; each bin is ``floor(bin_duration * fs)`` samples (at least one).
    Default 0.05."""

    apply_sqrt: bool = True
    """True (default): root mean square (amplitude). False: mean square (power)."""

    materialize: MaterializeMode = MaterializeMode.ASYNC
    """How outputs of lazy backends (MLX) are materialised. Default ASYNC."""

    def __post_init__(self) -> None:
        if not isinstance(self.bandpass, ButterworthFilterSettings):
            raise ValueError(f"bandpass: must be ButterworthFilterSettings, got "
                             f"{type(self.bandpass).__name__}")
        check_real("bin_duration", self.bin_duration)
        if self.bin_duration <= 0:
            raise ValueError(f"bin_duration: must be > 0 (s), got {self.bin_duration!r}")
        if not isinstance(self.apply_sqrt, bool):
            raise ValueError(f"apply_sqrt: must be a bool, got {self.apply_sqrt!r}")
        object.__setattr__(self, "materialize",
                           check_member(MaterializeMode, "materialize", self.materialize))


@processor_state
class BinMeanState:
    axis: str = ""
    """Name of the binned dim."""

    size: int = 0
    """Samples per bin."""

    rest: Any = None
    """Squared samples of the incomplete bin, ``(r, C)`` with ``r < size``."""


class BinMeanSquareTransformer(
    StreamAxisMixin,
    BaseStatefulTransformer[RMSBandPowerSettings, AxisArray, AxisArray, BinMeanState],
):
    """Mean of the squared samples over non-overlapping bins along the streaming axis (then
    the square root when ``apply_sqrt``). Only ``bin_duration``, ``apply_sqrt`` and the
    axis of ``bandpass`` are read. State (the incomplete bin) resets by the shared rule
    (``StreamAxisMixin``)."""

    def _axis(self, message: AxisArray) -> str:  # the axis setting lives in ``bandpass``
        return stream_axis(self, message, self.settings.bandpass.axis)

    def _reset_state(self, message: AxisArray) -> None:
        st = self._state
        st.axis = self._axis(message)
        axis_index(message, st.axis)
        ax = message.axes.get(st.axis)
        if not isinstance(ax, LinearAxis) or not ax.gain > 0:
            raise ValueError(f"bin_duration: dim {st.axis!r} needs a LinearAxis with a positive "
                             f"gain to convert seconds to samples")
        size = int(math.floor(self.settings.bin_duration / ax.gain + 1e-9))
        if size < 1:
            raise ValueError(f"bin_duration: {self.settings.bin_duration} s is shorter than one "
                             f"sample ({ax.gain} s)")
        st.size, st.rest = size, None

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        xp = array_namespace(message.data)
        ix = axis_index(message, st.axis)
        x, inner = _axes.to_time_major(xp, message.data, ix)
        x = elementwise.as_float(xp, x)
        sq = x * x
        r = 0 if st.rest is None else st.rest.shape[0]
        e = sq if r == 0 else xp.concat([st.rest, sq], axis=0)
        n = e.shape[0] // st.size
        st.rest = e[n * st.size:, ...]
        y = xp.mean(xp.reshape(e[: n * st.size, ...], (n, st.size, e.shape[1])), axis=1)
        if self.settings.apply_sqrt:
            y = xp.sqrt(y)
        y = _axes.from_time_major(xp, y, inner, ix)
        ax = message.axes[st.axis]
        axes = dict(message.axes)
        axes[st.axis] = LinearAxis(gain=ax.gain * st.size, offset=ax.offset - r * ax.gain,
                                   unit=ax.unit)
        return replace_fields(message, data=y, axes=axes)


class RMSBandPowerTransformer(CompositeProcessor[RMSBandPowerSettings, AxisArray, AxisArray]):
    """Band-pass, then the (root) mean square over bins; see the module docstring."""

    @staticmethod
    def _initialize_processors(settings: RMSBandPowerSettings) -> dict[str, Any]:
        return {
            "bandpass": ButterworthFilterTransformer(settings.bandpass),
            "bins": BinMeanSquareTransformer(settings),
        }

    def _post_process(self, result: AxisArray | None) -> AxisArray | None:
        if result is not None:
            materialize(result.data, self.settings.materialize.value)
        return result


class RMSBandPower(TransformerUnit[RMSBandPowerSettings, AxisArray, AxisArray,
                                  RMSBandPowerTransformer]):
    SETTINGS = RMSBandPowerSettings


class SquareLawBandPowerSettings(ez.Settings):
    bandpass: ButterworthFilterSettings = dataclasses.field(default_factory=_band_default)
    """The band-pass stage (set ``cuton`` and ``cutoff``, Hz). Default: order 4, "sos", no
    edges (passthrough)."""

    lowpass: ButterworthFilterSettings = dataclasses.field(default_factory=_band_default)
    """The smoothing low-pass applied to the squared signal (set ``cutoff``, Hz). Default:
    order 4, "sos", no edge (passthrough)."""

    downsample: DownsampleSettings = dataclasses.field(default_factory=DownsampleSettings)
    """The final downsampling (``factor`` or ``target_rate``). Default: keep every sample."""

    def __post_init__(self) -> None:
        for name in ("bandpass", "lowpass"):
            if not isinstance(getattr(self, name), ButterworthFilterSettings):
                raise ValueError(f"{name}: must be ButterworthFilterSettings, got "
                                 f"{type(getattr(self, name)).__name__}")
        if not isinstance(self.downsample, DownsampleSettings):
            raise ValueError(f"downsample: must be DownsampleSettings, got "
                             f"{type(self.downsample).__name__}")


class SquareLawBandPowerTransformer(
    CompositeProcessor[SquareLawBandPowerSettings, AxisArray, AxisArray]
):
    """Band-pass -> square -> low-pass -> downsample."""

    @staticmethod
    def _initialize_processors(settings: SquareLawBandPowerSettings) -> dict[str, Any]:
        return {
            "bandpass": ButterworthFilterTransformer(settings.bandpass),
            "square": PowTransformer(PowSettings(exponent=2.0)),
            "lowpass": ButterworthFilterTransformer(settings.lowpass),
            "downsample": DownsampleTransformer(settings.downsample),
        }


class SquareLawBandPower(TransformerUnit[SquareLawBandPowerSettings, AxisArray, AxisArray,
                                         SquareLawBandPowerTransformer]):
    SETTINGS = SquareLawBandPowerSettings
