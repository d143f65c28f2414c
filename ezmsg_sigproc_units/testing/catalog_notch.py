"""Catalog entries of the adaptive line-noise cancellation family (see ``catalog.configs``):
adaptive_lattice_notch, adaptive_lnc."""

from __future__ import annotations

from .catalog import Config, _p

_LAT = ("adaptive_lattice_notch", "AdaptiveLatticeNotchFilterTransformer",
        "AdaptiveLatticeNotchFilterSettings")
_LNC = ("adaptive_lnc", "AdaptiveLNCTransformer", "AdaptiveLNCSettings")


def configs() -> list[Config]:
    lat = [
        Config("adaptive_lattice_notch", "per-sample", _p(*_LAT)),
        Config("adaptive_lattice_notch", "chunkwise", _p(*_LAT, chunkwise=True)),
        Config("adaptive_lattice_notch", "no freq axis", _p(*_LAT, emit_freq=False)),
    ]
    return lat
