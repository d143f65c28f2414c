"""Any ``torch.nn.Module`` as a streaming decoder, fed from any array backend.

ezmsg-learn's ``process.torch`` (same names, settings and defaults). The model is built at the
first message from its class path and keyword arguments (``ModelInitMixin``: settings, config
file, checkpoint); each message's data, ``(time, ch)`` or ``(batch, time, ch)`` with the
features last, goes through it and every output head becomes one message (``key`` = the
head's name when the model returns a dict), with a ``ch`` axis labelled ``"{head}_ch{i}"``.

Backends: the data enters torch through ``_backend.torch_bridge`` (no copy from NumPy, JAX,
CuPy, MLX or array-api-strict's default device; see its table) on the model's device, and the
outputs leave in the input's namespace, on its device, in its float dtype. ``device`` None
puts the model where the first message's data lives (a CuPy or JAX-on-GPU front end gives a
CUDA model; NumPy gives the CPU).

``TorchModelProcessor.partial_fit(sample)`` is one optimiser step (AdamW, then the
exponential learning-rate schedule) on a sample message whose ``attrs["trigger"].value`` is
the target (an array, or a dict of them per head). A step whose loss is not finite (NaN or
infinite input or target) is skipped, with one warning: the weights never take NaNs.
Inference on NaN input gives what the model computes (NaN outputs for the usual layers).
"""

from __future__ import annotations

import typing

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import (
    BaseAdaptiveTransformer,
    BaseStatefulTransformer,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray

from ..._processors import SettingsByValueMixin
from ..._units import AdaptiveUnit, TransformerUnit
from ..._validate import check_real
from .._torch_host import (
    TorchProcessorMixin,
    check_model_kwargs,
    import_model_class,
)
from .base import ModelInitMixin

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.process.torch needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

__all__ = [
    "TorchModelProcessor", "TorchModelSettings", "TorchModelState", "TorchModelUnit",
    "TorchProcessorMixin", "TorchSimpleProcessor", "TorchSimpleSettings", "TorchSimpleState",
    "TorchSimpleUnit",
]


class TorchSimpleSettings(ez.Settings):
    model_class: str
    """The model's class path, "package.module.Class": a ``torch.nn.Module`` subclass. Paths
    into ezmsg-learn (``ezmsg.learn.model...``) name this package's model of that name. A path
    that does not import is a ``ValueError`` when the settings are made."""

    checkpoint_path: str | None = None
    """A checkpoint to load (``torch.save`` of a dict with ``"model_state_dict"``, optionally
    ``"config"``; ezmsg-learn's layout): its config and the sizes inferred from its weights
    override the other sources of model arguments (a warning per changed value). None: the
    model starts from torch's random initialisation."""

    config_path: str | None = None
    """A JSON file of model arguments (an object, or one with a ``"model_params"`` object),
    overriding ``model_kwargs`` (a warning per changed value) and overridden by the
    checkpoint. Arguments the model does not take are ignored with a warning."""

    single_precision: bool = True
    """True: the model computes in float32; False: in float64 (the model is converted).
    Outputs come back in the input's float dtype either way."""

    device: str | None = None
    """The torch device of the model ("cpu", "cuda", "cuda:1", "mps"). None: the device the
    first message's data lives on (ezmsg-learn picks CUDA, then MPS, then the CPU)."""

    model_kwargs: dict[str, typing.Any] | None = None
    """Keyword arguments of the model's constructor. ``input_size`` is filled from the data's
    feature count when absent (and must equal it when given). A name the constructor does not
    take is a ``ValueError`` when the settings are made."""

    def __post_init__(self) -> None:
        cls = import_model_class(self.model_class)
        check_model_kwargs(cls, self.model_kwargs)
        for name in ("checkpoint_path", "config_path", "device"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name}: expected a non-empty string or None, got {value!r}")
        if self.device is not None:
            try:
                torch.device(self.device)
            except RuntimeError as exc:
                raise ValueError(f"device: {exc}") from None
        if not isinstance(self.single_precision, (bool, np.bool_)):
            raise ValueError(f"single_precision: expected a bool, got {self.single_precision!r}")


class TorchModelSettings(TorchSimpleSettings):
    learning_rate: float = 0.001
    """AdamW's learning rate (``partial_fit``)."""

    weight_decay: float = 0.0001
    """AdamW's weight decay."""

    loss_fn: torch.nn.Module | dict[str, torch.nn.Module] | None = None
    """The training loss: a loss module or function ``loss(pred, target)``, or a dict of them
    by output head (every head the model returns needs one). Required for ``partial_fit``. A
    ``CrossEntropyLoss`` gets the class dim moved to where torch wants it and integer
    targets."""

    loss_weights: dict[str, float] | None = None
    """Per-head factors of the summed loss; heads not named weigh 1."""

    scheduler_gamma: float = 0.999
    """The learning rate is multiplied by this after every training step (``ExponentialLR``);
    0 disables the schedule."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("learning_rate", "weight_decay", "scheduler_gamma"):
            check_real(name, getattr(self, name), minimum=0.0)
        loss = self.loss_fn
        fns = loss.values() if isinstance(loss, dict) else [] if loss is None else [loss]
        if not all(callable(f) for f in fns):
            raise ValueError("loss_fn: expected a loss module or function, a dict of them by "
                             "head, or None")
        if self.loss_weights is not None and not isinstance(self.loss_weights, dict):
            raise ValueError(f"loss_weights: expected a dict by head or None, got "
                             f"{type(self.loss_weights).__name__}")


@processor_state
class TorchSimpleState:
    model: torch.nn.Module | None = None
    """The model (in eval mode between training steps)."""

    device: torch.device | None = None
    """The model's device."""

    chan_ax: dict[str, AxisArray.CoordinateAxis] | None = None
    """The output ``ch`` axis of every head."""

    dtype: torch.dtype | None = None
    """The model's float dtype (``single_precision``)."""

    n_input: int | None = None
    """The feature count the model takes."""

    input_fixed: bool = False
    """True when ``n_input`` came from the settings, config or checkpoint (a message of
    another size is an error); False when it was taken from the first message (a change
    rebuilds the model, with a log line)."""

    model_kwargs: dict | None = None
    """The constructor arguments the model was built with (saved in checkpoints)."""


class TorchModelState(TorchSimpleState):
    optimizer: torch.optim.Optimizer | None = None
    """AdamW over the model's parameters."""

    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    """The exponential learning-rate schedule (None when ``scheduler_gamma`` is 0)."""


class TorchSimpleProcessor(
    SettingsByValueMixin,
    BaseStatefulTransformer[TorchSimpleSettings, AxisArray, AxisArray, TorchSimpleState],
    TorchProcessorMixin,
    ModelInitMixin,
):
    """Inference only: a list of output messages (one per head) for every message."""

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # the model outlives layout changes; the feature count is checked per message

    def _reset_state(self, message: AxisArray) -> None:
        self._common_reset_state(message, dict(self.settings.model_kwargs or {}))

    def _process(self, message: AxisArray) -> list[AxisArray]:
        return self._common_process(message)


class TorchModelProcessor(
    SettingsByValueMixin,
    BaseAdaptiveTransformer[TorchModelSettings, AxisArray, AxisArray, TorchModelState],
    TorchProcessorMixin,
    ModelInitMixin,
):
    """Inference as ``TorchSimpleProcessor``; ``partial_fit(sample)`` trains (one step)."""

    _hash_message = TorchSimpleProcessor._hash_message
    _process = TorchSimpleProcessor._process

    def _reset_state(self, message: AxisArray) -> None:
        TorchSimpleProcessor._reset_state(self, message)
        self._init_optimizer()
        self._validate_loss_keys(list(self._state.chan_ax))

    def partial_fit(self, message: AxisArray) -> None:
        self._ensure_model(message)
        st = self._state
        x, batched = self._ensure_batched(self._to_tensor(message.data))
        if x.numel() == 0:
            return  # an empty sample: nothing to learn (its loss would be NaN)
        y_targ = self._targets(message, batched)
        st.model.train()
        try:
            with torch.enable_grad():
                loss = self._loss(st.model(x), y_targ)
                self._step(loss)
        finally:
            st.model.eval()


class TorchSimpleUnit(
    TransformerUnit[TorchSimpleSettings, AxisArray, AxisArray, TorchSimpleProcessor],
):
    """``INPUT_SIGNAL`` -> one message per output head on ``OUTPUT_SIGNAL`` (materialised)."""

    SETTINGS = TorchSimpleSettings


class TorchModelUnit(
    AdaptiveUnit[TorchModelSettings, AxisArray, AxisArray, TorchModelProcessor],
):
    """``INPUT_SIGNAL`` -> one message per output head on ``OUTPUT_SIGNAL``; a sample on
    ``INPUT_SAMPLE`` trains one step, then its outputs go to ``OUTPUT_SAMPLE``."""

    SETTINGS = TorchModelSettings
