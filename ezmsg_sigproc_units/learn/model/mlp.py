"""A multi-layer perceptron with one or more linear output heads.

ezmsg-learn's ``model.mlp.MLP``: the same constructor and the same parameter names, so a
checkpoint saved by either package loads in the other, and the same outputs for the same
weights. The body is a ``Sequential`` (``feature_extractor``): for every hidden size but the
last, ``Linear``, the norm layer (if any), the activation (if any) and ``Dropout``; then a
``Linear`` to the last hidden size. Each head is a ``Linear`` from the last hidden size
(``heads[name]``). ``forward`` returns a dict of the heads' outputs.

Layer names (``norm_layer``, ``activation_layer``) are resolved as ezmsg-learn resolves them:
only a ``"torch.nn.<Name>"`` path names a layer. A bare name such as the default ``"ReLU"``
adds no layer there, so it adds none here either (with a warning), keeping the two packages'
networks and checkpoints identical; write ``"torch.nn.ReLU"`` for a ReLU.
"""

from __future__ import annotations

import warnings

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.model.mlp needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

from .._torch_layers import check_sizes, mlp_layers


def _layer_class(name: str | None, what: str) -> type | None:
    """The ``torch.nn`` class a "torch.nn.<Name>" path names; None for None or a bare name."""
    if name is None:
        return None
    if "torch.nn" not in name:
        warnings.warn(f"{what}={name!r} is not a 'torch.nn.<Name>' path: no layer is added "
                      f"(as in ezmsg-learn); write 'torch.nn.{name}' for one", stacklevel=3)
        return None
    cls = getattr(torch.nn, name.rsplit(".", 1)[1], None)
    if cls is None:
        raise ValueError(f"{what}: torch.nn has no {name.rsplit('.', 1)[1]!r}")
    return cls


def _hidden_sizes(hidden_size: int | list[int], num_layers: int | None) -> list[int]:
    if isinstance(hidden_size, int):
        if num_layers is None:
            raise ValueError("num_layers: required when hidden_size is one int")
        return [hidden_size] * num_layers
    sizes = check_sizes(hidden_size, "hidden_size")
    if num_layers is not None and num_layers != len(sizes):
        raise ValueError(f"num_layers={num_layers} differs from len(hidden_size)={len(sizes)}")
    return sizes


class MLP(torch.nn.Module):
    """``forward(x) -> {head: (..., size)}`` for ``x`` of shape ``(..., input_size)``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int | list[int],
        num_layers: int | None = None,
        output_heads: int | dict[str, int] = 2,
        norm_layer: str | None = None,
        activation_layer: str | None = "ReLU",
        inplace: bool | None = None,
        bias: bool = True,
        dropout: float = 0.0,
    ):
        """
        Args:
            input_size: features per sample (the last dim of the input).
            hidden_size: the hidden layers' sizes, or one size repeated ``num_layers`` times.
            num_layers: how many hidden layers (required with one int ``hidden_size``; must
                equal the list's length otherwise).
            output_heads: the single head's size (named ``"output"``), or sizes by head name.
            norm_layer: a ``"torch.nn.<Name>"`` norm class built with the layer's size
                (e.g. ``"torch.nn.LayerNorm"``), after each hidden ``Linear`` but the last.
            activation_layer: a ``"torch.nn.<Name>"`` activation after each norm.
            inplace: passed to the activation and dropout layers when not None.
            bias: whether the body's ``Linear`` layers have biases (heads always do).
            dropout: the dropout probability after each activation.
        """
        super().__init__()
        sizes = _hidden_sizes(hidden_size, num_layers)
        norm = _layer_class(norm_layer, "norm_layer")
        act = _layer_class(activation_layer, "activation_layer")
        layers = mlp_layers(input_size, sizes, norm, act, inplace, bias, dropout)
        self.feature_extractor = torch.nn.Sequential(*layers)
        heads = {"output": output_heads} if isinstance(output_heads, int) else output_heads
        self.heads = torch.nn.ModuleDict({name: torch.nn.Linear(sizes[-1], size)
                                          for name, size in heads.items()})

    @classmethod
    def infer_config_from_state_dict(cls, state_dict: dict) -> dict:
        """``input_size``, ``hidden_size`` (every body ``Linear``'s size) and
        ``output_heads`` from saved weights (norm layers' weights are not counted)."""
        body = [(k, v) for k, v in state_dict.items()
                if k.startswith("feature_extractor.") and k.endswith(".weight") and v.ndim == 2]
        heads = {k.split(".")[1]: int(v.shape[0]) for k, v in state_dict.items()
                 if k.startswith("heads.") and k.endswith(".weight")}
        return {"input_size": int(body[0][1].shape[1]),
                "hidden_size": [int(v.shape[0]) for _, v in body],
                "output_heads": heads}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.feature_extractor(x)
        return {name: head(features) for name, head in self.heads.items()}
