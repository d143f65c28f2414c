"""Catalog entries of the smoothing and scaling family (see ``catalog.configs``):
ewma, ewmfilter, scaler, rollingscaler, detrend, activation."""

from __future__ import annotations

from .catalog import Config, _p


def configs() -> list[Config]:
    e = ("ewma", "EWMATransformer", "EWMASettings")
    c = [
        Config("ewma", "tau=0.1", _p(*e, time_constant=0.1)),
        Config("ewma", "tau=0.05 frozen", _p(*e, time_constant=0.05, accumulate=False)),
    ]
    return c
