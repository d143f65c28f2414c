"""What the sequence decoders (``learn.process.rnn`` and ``learn.process.transformer``) share
on top of ``TorchProcessorMixin``: a training sample's tensors, one optimiser step with its
loss recorded in the state (``last_loss``, ``n_steps``), and the outputs of an empty
message."""

from __future__ import annotations

from typing import Any

from ezmsg.util.messages.axisarray import AxisArray

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn (torch models) needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc


def sample_tensors(proc: Any, message: AxisArray) -> tuple[torch.Tensor, bool, dict] | None:
    """``(x, added, targets)`` of a training sample: ``x`` ``(batch, time, features)`` on
    the model's device, whether the batch dim was added, the targets by head (batched like
    ``x``; a single value per sequence, such as a class index, is repeated over its time
    steps). None when the sample has no time steps. ``ValueError`` when ``loss_fn`` is unset
    (before the model is built)."""
    if proc.settings.loss_fn is None:
        raise ValueError("loss_fn: must be set to train the model (partial_fit)")
    x, added = proc._input(message)
    targets = proc._targets(message, added)
    if x.shape[1] == 0 or x.shape[0] == 0:
        return None
    batch, steps = x.shape[0], x.shape[1]
    for key, t in targets.items():
        if t.ndim == 1 and t.shape[0] == batch:  # one value per sequence: every time step
            targets[key] = t[:, None].expand(batch, steps)
    return x, added, targets


def empty_outputs(proc: Any, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every head's output for ``x`` with no time steps (or no sequences): zero rows, without
    running the model (torch's recurrent layers reject empty sequences; an autoregressive
    cache must not advance)."""
    return {head: x.new_zeros((x.shape[0], x.shape[1], len(ax.data)))
            for head, ax in proc._state.chan_ax.items()}


def record_step(proc: Any, loss: torch.Tensor) -> None:
    """One optimiser step on ``loss`` (skipped with a warning when it is not finite); a step
    taken is counted and its loss kept in ``state.last_loss``."""
    if proc._step(loss):
        proc._state.last_loss = float(loss.detach())
        proc._state.n_steps += 1
