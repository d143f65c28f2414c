"""Catalog entries of the adaptive line-noise cancellation family (see ``catalog.configs``):
adaptive_lattice_notch, adaptive_lnc."""

from __future__ import annotations

from .catalog_base import Config, _p

_LAT = ("adaptive_lattice_notch", "AdaptiveLatticeNotchFilterTransformer",
        "AdaptiveLatticeNotchFilterSettings")
_LNC = ("adaptive_lnc", "AdaptiveLNCTransformer", "AdaptiveLNCSettings")


def configs() -> list[Config]:
    lat = [
        Config("adaptive_lattice_notch", "per-sample", _p(*_LAT)),
        Config("adaptive_lattice_notch", "chunkwise", _p(*_LAT, chunkwise=True)),
        Config("adaptive_lattice_notch", "no freq axis", _p(*_LAT, emit_freq=False)),
    ]
    return lat + [
        Config("adaptive_lnc", "notch tracking", _p(*_LNC, line_freq=10.0)),
        Config("adaptive_lnc", "notch fixed 3 harmonics",
               _p(*_LNC, line_freq=10.0, num_harmonics=3, freq_time_constant=None)),
        Config("adaptive_lnc", "subtract", _p(*_LNC, line_freq=10.0, num_harmonics=2,
                                              cancel_method="subtract")),
        Config("adaptive_lnc", "passthrough", _p(*_LNC, cancel_method="passthrough")),
    ]
