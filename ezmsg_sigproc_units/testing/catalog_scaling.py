"""Catalog entries of the smoothing and scaling family (see ``catalog.configs``):
ewma, ewmfilter, scaler, rollingscaler, detrend, activation."""

from __future__ import annotations

from .catalog import Config


def configs() -> list[Config]:
    return []
