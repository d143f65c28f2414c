"""A decoding collection around one regressor that adapts online from labelled samples.

``build_sample_adapt_regressor(settings)`` returns an ``ez.Collection`` with inputs
``INPUT_SIGNAL`` (features), ``INPUT_LABELS`` (targets, any rate), ``INPUT_TRIGGER``
(``SampleTriggerMessage``: which windows to learn from) and output ``OUTPUT_SIGNAL`` (the
decoded ``(time, ch)`` stream, keyed ``<input key>_pred``). ``model_type`` picks the regressor:

* ``"linear"``, ``"logistic"``, ``"sgd"``, ``"par"`` (an ``AdaptiveLinearRegressor``):
  ``learn.process.adaptive_linear_regressor``, trained online. The labels are resampled onto
  the signal's timestamps (``Resample`` in reference mode), paired with the signal by
  ``SeqSeqSampler`` for each trigger, and fed to the regressor's ``INPUT_SAMPLE``.
* ``"kalman"``: ``learn.process.refit_kalman`` (fitted from a checkpoint or its own
  calibration), its output normalised by ``DecodeOutputAdapter``.
* ``"mlp"``: a torch model hosted by ``learn.process.torch`` (``TorchModelUnit``; torch is an
  optional extra, imported when the collection is built), ``model_class`` (ezmsg-learn's
  ``ezmsg.learn.model.mlp.MLP`` names this package's MLP) with ``model_kwargs``, its output
  normalised by ``DecodeOutputAdapter``.

With ``decode_window_dur`` set, the signal is first cut into windows (``Window``) and each
window flattened into one feature vector (``learn.process.flatten``: lag-labelled features).
The collection class is made per call, so it holds exactly the units its engine uses. The
regressor modules are imported when the collection is built, not with this module.
"""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import (
    BaseStatefulTransformer,
    processor_state,
    suppress_axis_deprecation,
    warn_axis_deprecated,
)
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ..._backend import array_namespace, float_dtype_for
from ..._messages import replace_fields
from ..._processors import StreamAxisMixin
from ..._units import TransformerUnit
from ...resample import ResampleSettings, ResampleUnit
from ...util.message import SampleTriggerMessage
from ...window import Window, WindowSettings
from ..process.flatten import Flatten, FlattenSettings
from ..process.seqseqsampler import SeqSeqSamplerSettings, SeqSeqSamplerUnit
from ..util import AdaptiveLinearRegressor, with_fingerprint

__all__ = ["DEFAULT_TORCH_MODEL_CLASS", "DecodeOutputAdapter", "DecodeOutputAdapterProcessor",
           "DecodeOutputAdapterSettings", "DecodeOutputAdapterState",
           "SampleAdaptRegressorSettings", "build_sample_adapt_regressor"]

DEFAULT_TORCH_MODEL_CLASS = "ezmsg.learn.model.mlp.MLP"
"""ezmsg-learn's default torch model for ``model_type="mlp"`` (kept for configurations)."""

_TORCH, _KALMAN, _LINEAR = "torch", "kalman", "linear"


def _model_backend(model_type: Any) -> str:
    """The engine of ``model_type``: ``"torch"`` (mlp), ``"kalman"`` or ``"linear"``."""
    token = (model_type.value if isinstance(model_type, AdaptiveLinearRegressor)
             else str(model_type).strip().lower())
    return {"mlp": _TORCH, "kalman": _KALMAN}.get(token, _LINEAR)


class DecodeOutputAdapterSettings(ez.Settings):
    output_labels: list | None = None
    """Labels of the decoded channels; the output is reshaped to ``(-1, len(output_labels))``.
    None (default): ``"ch0"``, ``"ch1"``, ... for the flattened non-leading dims."""

    def __post_init__(self) -> None:
        if self.output_labels is not None and (isinstance(self.output_labels, str)
                                               or np.ndim(self.output_labels) != 1
                                               or len(self.output_labels) == 0):
            raise ValueError(f"output_labels: a non-empty list of labels or None, got "
                             f"{self.output_labels!r}")


@processor_state
class DecodeOutputAdapterState:
    ch_axis: CoordinateAxis | None = None
    """The output's channel axis (built once per layout)."""

    n_out: int = 0
    """Output channels (columns of the ``(time, ch)`` result)."""


class DecodeOutputAdapterProcessor(
    StreamAxisMixin,
    BaseStatefulTransformer[DecodeOutputAdapterSettings, AxisArray, AxisArray,
                            DecodeOutputAdapterState],
):
    """Any decoder output -> ``(time, ch)`` in the input's namespace, on its device, in its
    float dtype (one reshape), keyed ``<key>_pred``, with the decoder's ``time`` axis (its
    absence raises ``ValueError``: the upstream layout changed). Empty outputs give None."""

    def _reset_state(self, message: AxisArray) -> None:
        self._state.n_out, self._state.ch_axis = 0, None

    def _channels(self, shape: tuple[int, ...]) -> int:
        """Output channels for data of ``shape``; the label axis is rebuilt when they change
        (a 1-D output is one sample of all its values, so its length counts)."""
        labels = self.settings.output_labels
        n = len(labels) if labels is not None else (
            math.prod(shape[1:]) if len(shape) > 1 else math.prod(shape))
        st = self._state
        if st.ch_axis is None or n != st.n_out:
            names = labels if labels is not None else [f"ch{i}" for i in range(n)]
            st.n_out = n
            st.ch_axis = with_fingerprint(CoordinateAxis(data=np.asarray(names), dims=["ch"]))
        return n

    def _process(self, message: AxisArray) -> AxisArray | None:
        x = message.data
        if math.prod(x.shape) == 0:
            return None
        if "time" not in message.axes:
            raise ValueError(f"DecodeOutputAdapter expected a 'time' axis on the decoder output "
                             f"(got dims={message.dims}, axes={list(message.axes)}); the "
                             f"upstream windowing/regressor layout changed.")
        xp = array_namespace(x)
        n = self._channels(tuple(x.shape))
        if math.prod(x.shape) % n:
            raise ValueError(f"output_labels: {n} labels do not divide the decoder output of "
                             f"shape {tuple(x.shape)}")
        y = xp.reshape(x, (math.prod(x.shape) // n, n))
        dtype = float_dtype_for(xp, x.dtype)
        if y.dtype != dtype:
            y = xp.astype(y, dtype)
        return replace_fields(message, y, dims=["time", "ch"],
                              axes={"ch": self._state.ch_axis, "time": message.axes["time"]},
                              stream_dim="time", key=f"{message.key}_pred")


class DecodeOutputAdapter(TransformerUnit[DecodeOutputAdapterSettings, AxisArray, AxisArray,
                                          DecodeOutputAdapterProcessor]):
    SETTINGS = DecodeOutputAdapterSettings


class SampleAdaptRegressorSettings(ez.Settings):
    model_type: AdaptiveLinearRegressor | str = AdaptiveLinearRegressor.LINEAR
    """The regressor: an ``AdaptiveLinearRegressor`` (or its value), ``"kalman"`` or
    ``"mlp"``. Default ``"linear"``."""

    model_path: str | None = None
    """A checkpoint for the regressor (its own format: the adaptive regressor's settings
    file, the Kalman filter's pickled matrices). Default None."""

    model_kwargs: dict = field(default_factory=dict)
    """Keyword arguments of the regressor's model. Default ``{}``."""

    model_class: str = DEFAULT_TORCH_MODEL_CLASS
    """The torch model class of ``model_type="mlp"``."""

    device: str | None = None
    """The torch device of ``model_type="mlp"``; None: automatic."""

    steady_state: bool = True
    """``model_type="kalman"``: use the steady-state gain. Default True."""

    output_labels: list | None = None
    """Channel labels of the decoded output (Kalman and mlp engines); None: ``ch0``, ...."""

    resample_axis: str | None = None
    """Deprecated (ezmsg-learn 1.6): the labels are resampled along their ``stream_dim``."""

    resample_buffer_duration: float = 2.0
    """Seconds of labels the resampler keeps for signal timestamps still to come."""

    sampler_max_buffer_dur: float = 5.0
    """Seconds of signal and labels ``SeqSeqSampler`` keeps for triggers still to come."""

    decode_window_dur: float | None = None
    """Seconds of signal per decoded feature window; None (default): no windowing."""

    decode_window_shift: float | None = None
    """Seconds between feature windows; None: one window per message."""

    def __post_init__(self) -> None:
        warn_axis_deprecated(self, "resample_axis", package="ezmsg-learn", removal="2.0")
        if not isinstance(self.model_type, str):
            raise ValueError(f"model_type: an AdaptiveLinearRegressor, 'kalman' or 'mlp', got "
                             f"{self.model_type!r}")
        if self.model_kwargs is None:  # unused by the Kalman engine; ezmsg-learn accepts it
            object.__setattr__(self, "model_kwargs", {})
        if not isinstance(self.model_kwargs, dict):
            raise ValueError(f"model_kwargs: a dict, got {self.model_kwargs!r}")
        for name in ("resample_buffer_duration", "sampler_max_buffer_dur", "decode_window_dur",
                     "decode_window_shift"):
            v = getattr(self, name)
            if v is None and name.startswith("decode"):
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name}: seconds > 0, got {v!r}")


def _regressor(settings: SampleAdaptRegressorSettings) -> tuple[Any, Any, str]:
    """``(unit, its settings, engine)`` for ``settings.model_type`` (imported now)."""
    engine = _model_backend(settings.model_type)
    if engine == _TORCH:
        from ..process.torch import TorchModelSettings, TorchModelUnit

        return TorchModelUnit(), TorchModelSettings(
            model_class=settings.model_class, checkpoint_path=settings.model_path,
            model_kwargs=dict(settings.model_kwargs), device=settings.device), engine
    if engine == _KALMAN:
        from ..process.refit_kalman import RefitKalmanFilterSettings, RefitKalmanFilterUnit

        return RefitKalmanFilterUnit(), RefitKalmanFilterSettings(
            checkpoint_path=settings.model_path, steady_state=settings.steady_state), engine
    from ..process.adaptive_linear_regressor import (
        AdaptiveLinearRegressorSettings,
        AdaptiveLinearRegressorUnit,
    )

    return AdaptiveLinearRegressorUnit(), AdaptiveLinearRegressorSettings(
        model_type=settings.model_type, settings_path=settings.model_path,
        model_kwargs=settings.model_kwargs), engine


def build_sample_adapt_regressor(settings: SampleAdaptRegressorSettings) -> ez.Collection:
    """The collection for ``settings`` (module docstring)."""
    regressor, regressor_settings, engine = _regressor(settings)
    use_window = settings.decode_window_dur is not None
    use_samples = engine == _LINEAR  # online adaptation from triggered samples
    use_adapter = engine != _LINEAR  # the Kalman output is normalised to (time, ch)

    class SampleAdaptRegressor(ez.Collection):
        SETTINGS = SampleAdaptRegressorSettings

        INPUT_LABELS = ez.InputTopic(AxisArray)
        INPUT_SIGNAL = ez.InputTopic(AxisArray)
        INPUT_TRIGGER = ez.InputTopic(SampleTriggerMessage)
        OUTPUT_SIGNAL = ez.OutputTopic(AxisArray)

        REGRESSOR = regressor
        if use_window:
            WINDOW = Window()
            FLATTEN = Flatten()
        if use_samples:
            RESAMPLE = ResampleUnit()
            SEQSEQSAMPLER = SeqSeqSamplerUnit()
        if use_adapter:
            ADAPTER = DecodeOutputAdapter()

        def configure(self) -> None:
            s = self.SETTINGS
            self.REGRESSOR.apply_settings(regressor_settings)
            if use_window:
                self.WINDOW.apply_settings(WindowSettings(
                    newaxis="win", window_dur=s.decode_window_dur,
                    window_shift=s.decode_window_shift,
                    zero_pad_until="none" if s.decode_window_shift is not None else "input"))
                self.FLATTEN.apply_settings(FlattenSettings(preserve_axis="win",
                                                            sample_axis="time",
                                                            feature_axis="ch"))
            if use_samples:
                with suppress_axis_deprecation():  # already warned for our own field
                    self.RESAMPLE.apply_settings(ResampleSettings(
                        axis=s.resample_axis, max_chunk_delay=float("inf"),
                        fill_value="extrapolate", buffer_duration=s.resample_buffer_duration))
                self.SEQSEQSAMPLER.apply_settings(
                    SeqSeqSamplerSettings(max_buffer_dur=s.sampler_max_buffer_dur))
            if use_adapter:
                self.ADAPTER.apply_settings(
                    DecodeOutputAdapterSettings(output_labels=s.output_labels))

        def network(self) -> ez.NetworkDefinition:
            net = []
            if use_samples:
                net += [(self.INPUT_LABELS, self.RESAMPLE.INPUT_SIGNAL),
                        (self.INPUT_SIGNAL, self.RESAMPLE.INPUT_REFERENCE),
                        (self.RESAMPLE.OUTPUT_SIGNAL, self.SEQSEQSAMPLER.INPUT_VALUE),
                        (self.INPUT_SIGNAL, self.SEQSEQSAMPLER.INPUT_SIGNAL),
                        (self.INPUT_TRIGGER, self.SEQSEQSAMPLER.INPUT_TRIGGER),
                        (self.SEQSEQSAMPLER.OUTPUT_SAMPLE, self.REGRESSOR.INPUT_SAMPLE)]
            if use_window:
                net += [(self.INPUT_SIGNAL, self.WINDOW.INPUT_SIGNAL),
                        (self.WINDOW.OUTPUT_SIGNAL, self.FLATTEN.INPUT_SIGNAL),
                        (self.FLATTEN.OUTPUT_SIGNAL, self.REGRESSOR.INPUT_SIGNAL)]
            else:
                net.append((self.INPUT_SIGNAL, self.REGRESSOR.INPUT_SIGNAL))
            if use_adapter:
                net += [(self.REGRESSOR.OUTPUT_SIGNAL, self.ADAPTER.INPUT_SIGNAL),
                        (self.ADAPTER.OUTPUT_SIGNAL, self.OUTPUT_SIGNAL)]
            else:
                net.append((self.REGRESSOR.OUTPUT_SIGNAL, self.OUTPUT_SIGNAL))
            return tuple(net)

    return SampleAdaptRegressor(settings=settings)
