"""ezmsg-learn's older MLP decoder (``process.mlp_old``): ``model.mlp_old.MLP`` trained online.

The network is built at the first message (``in_channels`` = the data's last dim, which must
be its ``ch`` dim when it has one) and trained by ``partial_fit(sample)``: one Adam step on
the mean squared error between the network's output for the sample and
``attrs["trigger"].value``, then the exponential learning-rate schedule. The output is the
network applied along the last dim, with a ``ch`` axis labelled ``"ch{i}"``, in the input's
namespace, on its device, in its float dtype (``learn.process.torch`` describes the transfer;
the model lives on the device of the first message's data).

A training step whose loss is not finite is skipped, with one warning, so NaN input never
reaches the weights. A feature count that changes rebuilds the network (one log line), unless
a checkpoint fixed it (then ``ValueError`` naming both sizes).
"""

from __future__ import annotations

import typing

import ezmsg.core as ez
from ezmsg.baseproc import BaseAdaptiveTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.process.mlp_old needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

from ..._units import AdaptiveUnit
from ..._validate import check_real
from .._torch_host import TorchProcessorMixin, channel_axis
from .._torch_init import ModelInitMixin
from ..model import mlp_old as _old_model

MLP = _old_model.MLP  # the network (``model.mlp_old.MLP``), as ezmsg-learn's module names it


class MLPSettings(ez.Settings):
    hidden_channels: list[int]
    """The layers' sizes; the last is the number of output channels."""

    norm_layer: typing.Callable[..., torch.nn.Module] | None = None
    """Called with a layer's size to make the norm after each hidden ``Linear`` (e.g.
    ``torch.nn.LayerNorm``); None: no norm."""

    activation_layer: typing.Callable[..., torch.nn.Module] | None = torch.nn.ReLU
    """Called to make the activation after each hidden layer's norm; None: none."""

    inplace: bool | None = None
    """Passed to the activation and dropout layers when not None."""

    bias: bool = True
    """Whether the ``Linear`` layers have biases."""

    dropout: float = 0.0
    """The dropout probability after each hidden activation (training only)."""

    single_precision: bool = True
    """True: the network computes in float32; False: float64."""

    learning_rate: float = 0.001
    """Adam's learning rate."""

    scheduler_gamma: float = 0.999
    """The learning rate is multiplied by this after every training step; 0 disables it."""

    checkpoint_path: str | None = None
    """A checkpoint (``save_checkpoint``'s, ezmsg-learn's layout) whose weights, and optimiser
    state when present, are loaded; None: random initialisation."""

    def __post_init__(self) -> None:
        try:
            sizes = [int(s) for s in self.hidden_channels]
        except (TypeError, ValueError):
            raise ValueError(f"hidden_channels: expected a list of ints, got "
                             f"{self.hidden_channels!r}") from None
        if not sizes or min(sizes) < 1:
            raise ValueError(f"hidden_channels: expected positive sizes, got {sizes}")
        for name in ("learning_rate", "scheduler_gamma", "dropout"):
            check_real(name, getattr(self, name), minimum=0.0)
        if self.dropout > 1:
            raise ValueError(f"dropout: a probability, got {self.dropout}")


@processor_state
class MLPState:
    model: MLP | None = None
    """The network (eval mode between training steps)."""

    optimizer: torch.optim.Optimizer | None = None
    """Adam over the network's parameters."""

    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    """The exponential schedule (None when ``scheduler_gamma`` is 0)."""

    template: AxisArray | None = None
    """Unused; kept for ezmsg-learn's state layout."""

    device: object | None = None
    """The network's torch device."""

    dtype: object | None = None
    """The network's float dtype."""

    chan_ax: dict | None = None
    """The output ``ch`` axis (under ``"output"``)."""

    n_input: int | None = None
    """The network's ``in_channels``."""

    input_fixed: bool = False
    """True when a checkpoint fixed ``n_input``."""


class MLPProcessor(BaseAdaptiveTransformer[MLPSettings, AxisArray, AxisArray, MLPState],
                   TorchProcessorMixin, ModelInitMixin):
    """``(..., ch) -> (..., hidden_channels[-1])``; ``partial_fit`` trains one step."""

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # the network outlives layout changes; the feature count is checked

    def _reset_state(self, message: AxisArray) -> None:
        st, s = self._state, self.settings
        n_input = self._feature_count(message)
        st.device = self._model_device(message)
        st.dtype = torch.float32 if s.single_precision else torch.float64
        st.model = MLP(in_channels=n_input, hidden_channels=list(s.hidden_channels),
                       norm_layer=s.norm_layer, activation_layer=s.activation_layer,
                       inplace=s.inplace, bias=s.bias, dropout=s.dropout)
        ckpt = (self._load_checkpoint(s.checkpoint_path, st.device)
                if s.checkpoint_path is not None else None)
        if ckpt is not None:
            weights = ckpt.get("model_state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
            try:
                st.model.load_state_dict(weights)
            except RuntimeError as exc:
                raise ValueError(f"checkpoint_path: its weights do not fit a network of "
                                 f"{n_input} input features: {exc}") from exc
        st.model.to(device=st.device, dtype=st.dtype).eval()
        st.optimizer = torch.optim.Adam(st.model.parameters(), lr=s.learning_rate)
        if isinstance(ckpt, dict) and "optimizer_state_dict" in ckpt:
            st.optimizer.load_state_dict(ckpt["optimizer_state_dict"])
        st.scheduler = (torch.optim.lr_scheduler.ExponentialLR(st.optimizer,
                                                               gamma=s.scheduler_gamma)
                        if s.scheduler_gamma > 0.0 else None)
        st.n_input, st.input_fixed = n_input, ckpt is not None
        st.chan_ax = {"output": channel_axis(None, s.hidden_channels[-1])}

    def _process(self, message: AxisArray) -> AxisArray:
        self._check_features(message)
        with torch.no_grad():
            out = self._state.model(self._to_tensor(message.data))
        return self._outputs(message, out, False)[0]

    def partial_fit(self, message: AxisArray) -> None:
        self._ensure_model(message)
        st = self._state
        x = self._to_tensor(message.data)
        if x.numel() == 0:
            return  # an empty sample: nothing to learn
        target = self._targets(message, False)["output"]
        st.model.train()
        try:
            with torch.enable_grad():
                self._step(torch.nn.functional.mse_loss(st.model(x), target))
        finally:
            st.model.eval()

    def save_checkpoint(self, path: str) -> None:
        """Save the network's weights and the optimiser's state to ``path``."""
        st = self._state
        if st.model is None:
            raise RuntimeError("the network is built at the first message; nothing to save")
        torch.save({"model_state_dict": st.model.state_dict(),
                    "optimizer_state_dict": st.optimizer.state_dict()}, path)


class MLPUnit(AdaptiveUnit[MLPSettings, AxisArray, AxisArray, MLPProcessor]):
    """``INPUT_SIGNAL`` -> the network's output on ``OUTPUT_SIGNAL``; samples on
    ``INPUT_SAMPLE`` train it (and their outputs go to ``OUTPUT_SAMPLE``)."""

    SETTINGS = MLPSettings
