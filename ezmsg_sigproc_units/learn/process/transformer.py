"""A transformer decoder (``learn.model.transformer.TransformerModel`` or one with its
interface) hosted as an adaptive processor, with autoregressive decoding when the model has
a decoder.

ezmsg-learn's ``process.transformer`` (same names, settings and defaults), built on
``learn.process.torch``. Layout: ``(time, ch)`` or ``(batch, time, ch)``, features last; the
input may be an array of any backend and each output comes back in its namespace, on its
device, in its float dtype (``_backend.torch_bridge``). The output is a list with one
message per output head (``key`` = the head's name, ``ch`` axis ``"<head>_ch<i>"``).

**Encoder only** (``decoder_layers`` 0, the default): every message is decoded on its own
(positions from 0), one output row per input row.

**With a decoder**: each message (batch 1 only) is decoded against the target sequence
predicted so far (a cache of the autoregressive head's last prediction per message, at most
``max_cache_len`` long; the learned start token before the first). The outputs are the
decoder's, one row per cached step (1 row for the first message), and the last row of the
autoregressive head is appended to the cache (an empty message gives empty outputs and
leaves it as it is). ``reset_cache()`` empties it.

**Training** (``partial_fit(sample)``): ``attrs["trigger"].value`` holds the targets
``(time, out)`` (an AxisArray, an array of any backend, or a dict of those by head; class
indices for ``CrossEntropyLoss``). One optimiser step (AdamW, then the learning-rate decay)
per sample; with a decoder, teacher forcing: the decoder sees the autoregressive head's
targets shifted by one step (zeros first), and the cache is emptied. ``state.last_loss``
holds the latest step's loss, ``state.n_steps`` the steps taken. A sample with NaN or
infinite values is skipped (one warning); the weights never take NaN.
"""

from __future__ import annotations

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
    raise ImportError("ezmsg_sigproc_units.learn.process.transformer needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc


class TransformerSettings(TorchModelSettings):
    model_class: str = "ezmsg.learn.model.transformer.TransformerModel"
    """Class path of the model. The default, ezmsg-learn's path, names this package's
    ``TransformerModel`` (``ezmsg_sigproc_units.learn.model.transformer.TransformerModel``).
    ``forward(src, tgt=None)`` must return a dict of head outputs."""

    autoregressive_head: str | None = None
    """The output head whose predictions feed the decoder (must be one of the model's
    heads). None (default): the first head."""

    max_cache_len: int | None = 128
    """Longest target sequence kept for autoregressive decoding (older steps are dropped);
    None: unbounded."""

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.max_cache_len
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"max_cache_len: expected an int >= 1 or None, got {n!r}")
        head = self.autoregressive_head
        if head is not None and not isinstance(head, str):
            raise ValueError(f"autoregressive_head: expected a head name or None, got {head!r}")


class TransformerState(TorchModelState):
    ar_head: str | None = None
    """The head whose predictions feed the decoder (``autoregressive_head`` or the first)."""

    tgt_cache: torch.Tensor | None = None
    """``(1, steps, size)`` predictions of ``ar_head`` so far (decoder models only)."""

    last_loss: float | None = None
    """The total loss of the latest training step (before its update); None before the
    first."""

    n_steps: int = 0
    """Optimiser steps taken since the model was built."""


class TransformerProcessor(
    SettingsByValueMixin,
    BaseAdaptiveTransformer[TransformerSettings, AxisArray, list[AxisArray], TransformerState],
    TorchProcessorMixin,
    ModelInitMixin,
):
    """Decode with a transformer; train it from samples. See the module docstring."""

    @property
    def has_decoder(self) -> bool:
        """Whether the model (or, before it is built, ``model_kwargs``) has decoder layers."""
        model = self._state.model
        if model is not None:
            return getattr(model, "decoder", None) is not None
        return (self.settings.model_kwargs or {}).get("decoder_layers", 0) > 0

    def reset_cache(self) -> None:
        """Forget the autoregressive target sequence."""
        self._state.tgt_cache = None

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # the model and its cache outlive layout changes (features are checked)

    def _reset_state(self, message: AxisArray) -> None:
        self._common_reset_state(message, dict(self.settings.model_kwargs or {}))
        self._init_optimizer()
        heads = list(self._state.chan_ax)
        self._validate_loss_keys(heads)
        head = self.settings.autoregressive_head
        if head is not None and head not in heads:
            raise ValueError(f"autoregressive_head: {head!r} is not one of the model's heads "
                             f"{heads}")
        st = self._state
        st.ar_head = head if head is not None else heads[0]
        st.tgt_cache, st.last_loss, st.n_steps = None, None, 0

    def _input(self, message: AxisArray) -> tuple[torch.Tensor, bool]:
        self._ensure_model(message)
        x, added = self._ensure_batched(self._to_tensor(message.data))
        if self.has_decoder and x.shape[0] != 1:
            raise ValueError(f"a model with a decoder decodes one sequence at a time (batch "
                             f"1); the message has a batch of {x.shape[0]}")
        return x, added

    def _process(self, message: AxisArray) -> list[AxisArray]:
        x, added = self._input(message)
        st = self._state
        if x.shape[1] == 0 or x.shape[0] == 0:
            return self._outputs(message, empty_outputs(self, x), added)
        with torch.no_grad():
            if not self.has_decoder:
                return self._outputs(message, st.model(x), added)
            y = st.model(x, tgt=st.tgt_cache)
        last = y[st.ar_head][:, -1:, :]
        cache = last if st.tgt_cache is None else torch.cat([st.tgt_cache, last], dim=1)
        if self.settings.max_cache_len is not None:
            cache = cache[:, -self.settings.max_cache_len:, :]
        st.tgt_cache = cache
        return self._outputs(message, y, added)

    def partial_fit(self, message: AxisArray) -> None:
        sample = sample_tensors(self, message)
        if sample is None:
            return
        x, _, targets = sample
        st = self._state
        st.model.train()
        try:
            with torch.enable_grad():
                if self.has_decoder:
                    self.reset_cache()
                    y = st.model(x, tgt=_shifted(targets, st.ar_head, x.dtype))
                else:
                    y = st.model(x)
                record_step(self, self._loss(y, targets))
        finally:
            st.model.eval()


def _shifted(targets: dict[str, torch.Tensor], head: str, dtype: torch.dtype) -> torch.Tensor:
    """Teacher forcing: ``head``'s targets one step later, a zero row first."""
    if head not in targets:
        raise ValueError(f"autoregressive_head: the sample has no target for head {head!r} "
                         f"(it has {sorted(targets)})")
    t = targets[head].to(dtype)
    if t.ndim == 2:  # class indices are not a decoder input
        raise ValueError(f"the decoder needs (time, size) targets for head {head!r}")
    return torch.cat([torch.zeros_like(t[:, :1]), t[:, :-1]], dim=1)


class TransformerUnit(
        AdaptiveUnit[TransformerSettings, AxisArray, AxisArray, TransformerProcessor]):
    """``INPUT_SIGNAL`` -> one message per output head on ``OUTPUT_SIGNAL``; sample messages
    on ``INPUT_SAMPLE`` train the model."""

    SETTINGS = TransformerSettings
