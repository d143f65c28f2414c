"""Catalog entries of the routing:
concat, merge, align, resampleconcat."""

from __future__ import annotations

from .catalog_base import Config


def configs() -> list[Config]:
    return []
