"""The layer stack both MLPs of the learn family are built from (``model.mlp``,
``model.mlp_old``; ezmsg-learn's and torchvision's layout, so layer indices and checkpoints
match)."""

from __future__ import annotations

from collections.abc import Callable

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn (torch models) needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc


def check_sizes(sizes: list, what: str) -> list[int]:
    """``sizes`` as a non-empty list of ints; ``ValueError`` naming ``what`` otherwise."""
    sizes = list(sizes)
    if not sizes:
        raise ValueError(f"{what}: needs at least one size")
    if not all(isinstance(s, int) for s in sizes):
        raise ValueError(f"{what}: sizes must be ints, got {sizes}")
    return sizes


def mlp_layers(width: int, sizes: list[int], norm: Callable | None, act: Callable | None,
               inplace: bool | None, bias: bool, dropout: float) -> list[torch.nn.Module]:
    """For every size but the last: ``Linear``, ``norm(size)`` (if any), ``act()`` (if any,
    with ``inplace`` when given), ``Dropout``; then a ``Linear`` to the last size."""
    opts = {} if inplace is None else {"inplace": inplace}
    layers: list[torch.nn.Module] = []
    for size in sizes[:-1]:
        layers.append(torch.nn.Linear(width, size, bias=bias))
        if norm is not None:
            layers.append(norm(size))
        if act is not None:
            layers.append(act(**opts))
        layers.append(torch.nn.Dropout(dropout, **opts))
        width = size
    layers.append(torch.nn.Linear(width, sizes[-1], bias=bias))
    return layers
