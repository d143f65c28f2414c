"""Catalog entries of the events and binning:
sampler, signalinjector, binned_aggregate."""

from __future__ import annotations

from .catalog_base import Config


def configs() -> list[Config]:
    return []
