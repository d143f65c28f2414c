"""Catalog entries of the channel selection and quantisation family (see ``catalog.configs``):
slicer, extract_axis, flatten, quantize, digitize, denormalize."""

from __future__ import annotations

from .catalog import Config


def configs() -> list[Config]:
    return []
