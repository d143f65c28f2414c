"""Catalog entries of the adaptive line-noise cancellation family (see ``catalog.configs``):
adaptive_lattice_notch, adaptive_lnc."""

from __future__ import annotations

from .catalog import Config


def configs() -> list[Config]:
    return []
