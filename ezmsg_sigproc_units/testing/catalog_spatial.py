"""Catalog entries of the spatial family (see ``catalog.configs``):
affinetransform (AffineTransform, CommonRereference)."""

from __future__ import annotations

from .catalog import Config


def configs() -> list[Config]:
    return []
