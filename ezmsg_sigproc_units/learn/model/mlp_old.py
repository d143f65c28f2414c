"""ezmsg-learn's older MLP: a plain ``Sequential`` (torchvision's MLP layout).

``MLP(in_channels, hidden_channels, ...)``: for every hidden size but the last, ``Linear``,
the norm layer (if any), the activation (if any) and ``Dropout``; then a ``Linear`` to the
last size. The layers are indexed as ezmsg-learn's, so checkpoints load in either package.
Used by ``process.mlp_old``.
"""

from __future__ import annotations

from collections.abc import Callable

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.model.mlp_old needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

from .._torch_layers import check_sizes, mlp_layers


class MLP(torch.nn.Sequential):
    """``(..., in_channels) -> (..., hidden_channels[-1])``."""

    def __init__(
        self,
        in_channels: int,
        hidden_channels: list[int],
        norm_layer: Callable[..., torch.nn.Module] | None = None,
        activation_layer: Callable[..., torch.nn.Module] | None = torch.nn.ReLU,
        inplace: bool | None = None,
        bias: bool = True,
        dropout: float = 0.0,
    ):
        """
        Args:
            in_channels: features per sample.
            hidden_channels: the layers' sizes; the last is the output size.
            norm_layer: called with a layer's size to make its norm (None: no norm).
            activation_layer: called (with ``inplace`` when given) to make each activation
                (None: none).
            inplace: passed to the activation and dropout layers when not None.
            bias: whether the ``Linear`` layers have biases.
            dropout: the dropout probability after each activation.
        """
        sizes = check_sizes(hidden_channels, "hidden_channels")
        layers = mlp_layers(in_channels, sizes, norm_layer, activation_layer, inplace, bias,
                            dropout)
        super().__init__(*layers)
