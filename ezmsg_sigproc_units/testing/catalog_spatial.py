"""Catalog entries of the spatial family (see ``catalog.configs``):
affinetransform (AffineTransform, CommonRereference)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .catalog_base import Config, _p

_GROUPS = [[0, 1, 2], [4, 5, 6, 7]]  # channel 3 in no group


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    blocks = np.zeros((8, 8))
    blocks[:3, :2] = rng.standard_normal((3, 2))
    blocks[3:, 2:] = rng.standard_normal((5, 6))
    perm = rng.permutation(8)
    return {"dense": rng.standard_normal((8, 5)), "offset": rng.standard_normal((9, 8)),
            "blocks": blocks, "permuted": blocks[perm][:, perm[::-1]]}


def _entry(label: str, kind: str, **kw: Any) -> Config:
    return Config("affinetransform", label,
                  _p("affinetransform", f"{kind}Transformer", f"{kind}Settings", **kw))


def _affine(label: str, **kw: Any) -> Config:
    return _entry(label, "AffineTransform", **kw)


def _car(label: str, **kw: Any) -> Config:
    return _entry(label, "CommonRereference", **kw)


def configs() -> list[Config]:
    w = _weights()
    c = [
        _affine("dense", weights=w["dense"]),
        _affine("offset row", weights=w["offset"]),
        _affine("transposed", weights=w["dense"].T.copy(), right_multiply=False),
        _affine("car groups", weights="car", channel_groups=_GROUPS),
        _affine("blocks", weights=w["blocks"], kernel="blocks"),
        _affine("permuted blocks", weights=w["permuted"], kernel="blocks"),
    ]
    for mode in ("mean", "median"):
        c += [
            _car(f"CAR {mode}", mode=mode),
            _car(f"CAR {mode} leave-one-out", mode=mode, include_current=False),
            _car(f"CAR {mode} groups leave-one-out", mode=mode, include_current=False,
                 channel_groups=_GROUPS),
        ]
    c.append(_car("CAR mean groups", channel_groups=_GROUPS))
    return c
