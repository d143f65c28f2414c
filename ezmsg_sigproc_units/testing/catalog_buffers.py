"""Catalog entries of the buffers and small modules:
util.buffer, util.axisarray_buffer, util.sparse."""

from __future__ import annotations

from .catalog_base import Config


def configs() -> list[Config]:
    return []
