"""Catalog entries of the wavelets and SSVEP:
wavelets, filterbankdesign, fbcca."""

from __future__ import annotations

from .catalog_base import Config


def configs() -> list[Config]:
    return []
