"""A recurrent decoder (``learn.model.rnn.RNNModel`` or any model with its interface) hosted
as an adaptive processor: the hidden state is carried from message to message, and training
samples update the weights online.

ezmsg-learn's ``process.rnn`` (same names, settings and defaults), built on
``learn.process.torch``. Layout: a message is one sequence ``(time, ch)`` or a batch of
windows ``(win, time, ch)``; the features are the last dim. The input may be an array of
any backend (NumPy, array-api-strict, torch, JAX, MLX, CuPy): it is handed to torch without
a copy where the libraries allow it (``_backend.torch_bridge``), and each output comes back
in the input's namespace, on its device, in its float dtype.

**Outputs.** A list with one message per output head, in the head order of the model: the
input's dims with ``ch`` replaced by the head's ``"<head>_ch<i>"`` axis, ``key`` the head's
name (``"output"`` for a single head).

**Hidden state.** A sequence continues the previous message's sequence: the state left by
one message is the initial state of the next, so feeding a signal in chunks of any length
(empty ones included) gives the same outputs as feeding it whole. A batch of windows is
decoded as consecutive pieces of one sequence when ``preserve_state_across_windows`` says so
(``"auto"``: when the ``win`` axis's stride is at least the window's duration, i.e. the
windows do not overlap), else each window from a zero state. ``partial_fit`` resets the
state after training when ``reset_hidden_on_fit`` (default). ``reset_hidden(batch)`` zeroes
it at any time.

**Training** (``partial_fit(sample)``): the sample's ``attrs["trigger"].value`` is the target
sequence, one row per time step (``(time, out)``, ``(win, time, out)`` for a batch; an
AxisArray, an array of any backend, or a dict of those keyed by head name; class indices
``(time,)`` for ``CrossEntropyLoss``). One optimiser step (AdamW, learning-rate decay by
``scheduler_gamma`` per step) per sequence: per window, in order, with the state carried,
for non-overlapping windows; one step on the whole batch from zero states otherwise.
Gradients do not flow back into earlier messages (the carried state is detached:
truncated back-propagation through time). ``state.last_loss`` holds the loss of the latest
step, ``state.n_steps`` the steps taken.

**Non-finite input.** A training step whose loss is not finite (NaN or infinite features or
targets) is skipped (one warning): the weights are never poisoned. In decoding, outputs
follow the input (a NaN sample gives NaN outputs from there to the end of its message), and
the non-finite values of the carried state are zeroed (one elementwise op per message, no
host sync): a NaN reaches every unit of its sequence's state, so that sequence starts again
from the zero state at the next message instead of decoding NaN for good.
"""

from __future__ import annotations

import typing

import ezmsg.core as ez
from ezmsg.baseproc import BaseAdaptiveTransformer
from ezmsg.util.messages.axisarray import AxisArray

from ..._processors import SettingsByValueMixin
from ..._units import AdaptiveUnit
from .._torch_sequence import empty_outputs, record_step, sample_tensors
from .base import ModelInitMixin
from .torch import TorchModelSettings, TorchModelState, TorchProcessorMixin

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.process.rnn needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

_PRESERVE = (True, False, "auto")


class RNNSettings(TorchModelSettings):
    model_class: str = "ezmsg.learn.model.rnn.RNNModel"
    """Class path of the recurrent model. The default, ezmsg-learn's path, names this
    package's ``RNNModel`` (``"ezmsg_sigproc_units.learn.model.rnn.RNNModel"``). The model's
    ``forward(x, hx=...)`` must return ``(outputs, hx_out)`` and it must have
    ``init_hidden(batch_size, device)``."""

    reset_hidden_on_fit: bool = True
    """Zero the hidden state after each ``partial_fit`` (default True); False keeps the state
    the training sequence left."""

    preserve_state_across_windows: bool | typing.Literal["auto"] = "auto"
    """How the windows of a ``(win, time, ch)`` message relate: True, consecutive pieces of
    one sequence (the state is carried from window to window and across messages); False,
    independent sequences (each from a zero state); ``"auto"`` (default), True when the
    ``win`` axis's gain is at least the window's duration (``time`` length x gain; no overlap)
    and False otherwise or when those axes are missing. A single sequence ``(time, ch)`` is
    always carried."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.preserve_state_across_windows not in _PRESERVE or not isinstance(
                self.preserve_state_across_windows, (bool, str)):
            raise ValueError(f"preserve_state_across_windows: True, False or 'auto', got "
                             f"{self.preserve_state_across_windows!r}")


class RNNState(TorchModelState):
    hx: typing.Any = None
    """The carried hidden state ``(num_layers, batch, hidden)`` (a pair for LSTM), detached."""

    last_loss: float | None = None
    """The total loss of the latest training step (before that step's update); None before
    the first."""

    n_steps: int = 0
    """Optimiser steps taken since the model was built."""


def _batch_of(hx: typing.Any) -> int:
    return (hx[0] if isinstance(hx, tuple) else hx).shape[1]


def _finite_state(hx: typing.Any, in_place: bool = False) -> typing.Any:
    """``hx`` with NaN and infinite values zeroed (one elementwise op, no host sync; in place
    for a state the model has just returned outside autograd). A NaN input spreads to every
    unit of its sequence's state, so after such a message that sequence starts again from
    the zero state instead of staying NaN for good."""
    if isinstance(hx, tuple):
        return tuple(_finite_state(h, in_place) for h in hx)
    if in_place:
        return hx.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
    return torch.nan_to_num(hx, nan=0.0, posinf=0.0, neginf=0.0)


def _detach(hx: typing.Any) -> typing.Any:
    return tuple(h.detach() for h in hx) if isinstance(hx, tuple) else hx.detach()


class RNNProcessor(
    SettingsByValueMixin,
    BaseAdaptiveTransformer[RNNSettings, AxisArray, list[AxisArray], RNNState],
    TorchProcessorMixin,
    ModelInitMixin,
):
    """Decode with a recurrent model, carrying its hidden state; train it from samples.
    See the module docstring for the layouts, the state rules and the training step."""

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # the model and its state outlive layout changes (features are checked)

    def _reset_state(self, message: AxisArray) -> None:
        self._common_reset_state(message, dict(self.settings.model_kwargs or {}))
        self._init_optimizer()
        self._validate_loss_keys(list(self._state.chan_ax))
        self._state.last_loss, self._state.n_steps = None, 0
        self.reset_hidden(1 if message.data.ndim < 3 else message.data.shape[0])

    def reset_hidden(self, batch_size: int) -> None:
        """Zero the carried hidden state, for ``batch_size`` sequences."""
        self._state.hx = self._state.model.init_hidden(batch_size, self._state.device)

    def _preserve(self, message: AxisArray, batch_size: int) -> bool:
        """Whether the windows of ``message`` continue one sequence (the settings' rule);
        the carried state is reset to fit the answer."""
        keep = self.settings.preserve_state_across_windows
        if keep == "auto":
            keep = batch_size < 2 or _windows_do_not_overlap(self, message)
        if not keep:
            self.reset_hidden(batch_size)
        elif _batch_of(self._state.hx) != 1:
            self.reset_hidden(1)
        return keep

    def _run(self, x: torch.Tensor, carry: bool) -> dict[str, torch.Tensor]:
        """Model outputs for ``x`` ``(batch, time, features)``; the hidden state goes on from
        the carried one (window after window when ``carry`` and there are several)."""
        st = self._state
        if x.shape[1] == 0 or x.shape[0] == 0:
            return empty_outputs(self, x)
        if not carry or x.shape[0] == 1:
            y, hx = st.model(x, hx=st.hx)
            st.hx = _finite_state(hx, in_place=True)  # under no_grad: nothing saved it
            return y if isinstance(y, dict) else {"output": y}
        pieces = [self._run(x[i:i + 1], True) for i in range(x.shape[0])]
        return {k: torch.cat([p[k] for p in pieces]) for k in pieces[0]}

    def _input(self, message: AxisArray) -> tuple[torch.Tensor, bool]:
        """The message's data as ``(batch, time, features)`` on the model's device (the
        model is built at the first message, rebuilt when an inferred feature count changes;
        a fixed one that differs is a ``ValueError`` naming both sizes)."""
        self._ensure_model(message)
        return self._ensure_batched(self._to_tensor(message.data))

    def _process(self, message: AxisArray) -> list[AxisArray]:
        x, added = self._input(message)
        carry = self._preserve(message, x.shape[0])
        with torch.no_grad():
            outputs = self._run(x, carry)
        return self._outputs(message, outputs, added)

    def _train_step(self, x: torch.Tensor, targets: dict[str, torch.Tensor]) -> None:
        """One optimiser step on ``x`` from the carried state, which goes on (detached, its
        non-finite values zeroed)."""
        st = self._state
        y, hx = st.model(x, hx=st.hx)
        st.hx = _finite_state(_detach(hx))
        record_step(self, self._loss(y, targets))

    def partial_fit(self, message: AxisArray) -> None:
        sample = sample_tensors(self, message)
        if sample is None:
            return
        x, _, targets = sample
        carry = self._preserve(message, x.shape[0])
        model = self._state.model
        model.train()
        try:
            with torch.enable_grad():
                if carry and x.shape[0] > 1:
                    for i in range(x.shape[0]):
                        self._train_step(x[i:i + 1], {k: t[i:i + 1] for k, t in targets.items()})
                else:
                    self._train_step(x, targets)
        finally:
            model.eval()
        if self.settings.reset_hidden_on_fit:
            self.reset_hidden(x.shape[0])


def _windows_do_not_overlap(owner: typing.Any, message: AxisArray) -> bool:
    """The ``"auto"`` rule: the ``win`` stride covers a window's duration. Without those axes
    the windows count as independent (logged once per ``owner``)."""
    axes = message.axes
    if "win" not in axes or "time" not in axes or "time" not in message.dims:
        if not owner.__dict__.get("_auto_windows_warned"):
            owner._auto_windows_warned = True
            ez.logger.warning("RNN: preserve_state_across_windows='auto' needs 'win' and "
                              "'time' axes to tell whether windows overlap; treating them as "
                              "independent")
        return False
    n = message.data.shape[message.dims.index("time")]
    return axes["win"].gain >= n * getattr(axes["time"], "gain", 1.0)


class RNNUnit(AdaptiveUnit[RNNSettings, AxisArray, AxisArray, RNNProcessor]):
    """``INPUT_SIGNAL`` -> one message per output head on ``OUTPUT_SIGNAL``; sample messages
    on ``INPUT_SAMPLE`` train the model."""

    SETTINGS = RNNSettings
