"""Catalog entries of the smoothing and scaling family (see ``catalog.configs``):
ewma, ewmfilter, scaler, rollingscaler, detrend, activation."""

from __future__ import annotations

from .catalog_base import Config, _p


def configs() -> list[Config]:
    e = ("ewma", "EWMATransformer", "EWMASettings")
    c = [
        Config("ewma", "tau=0.1", _p(*e, time_constant=0.1)),
        Config("ewma", "tau=0.05 frozen", _p(*e, time_constant=0.05, accumulate=False)),
        Config("detrend", "tau=0.1", _p("detrend", "DetrendTransformer", "EWMASettings",
                                        time_constant=0.1)),
        Config("scaler", "adaptive", _p("scaler", "AdaptiveStandardScalerTransformer",
                                        "AdaptiveStandardScalerSettings", time_constant=0.1)),
        Config("scaler", "adaptive frozen", _p("scaler", "AdaptiveStandardScalerTransformer",
                                               "AdaptiveStandardScalerSettings",
                                               time_constant=0.1, accumulate=False)),
        Config("scaler", "river", _p("scaler", "RiverAdaptiveStandardScalerTransformer",
                                     "RiverAdaptiveStandardScalerSettings", time_constant=0.1)),
    ]
    r = ("rollingscaler", "RollingScalerProcessor", "RollingScalerSettings")
    c += [
        Config("rollingscaler", "update k=5", _p(*r, update_with_signal=True, k_samples=5)),
        Config("rollingscaler", "gated unbounded", _p(*r, update_with_signal=True,
                                                      k_samples=None, artifact_z_thresh=3.0)),
        Config("rollingscaler", "window_size", _p(*r, update_with_signal=True,
                                                  window_size=0.1, min_seconds=0.05)),
    ]
    for fn in ("none", "sigmoid", "logit", "log_expit"):
        c.append(Config("activation", fn, _p("activation", "ActivationTransformer",
                                             "ActivationSettings", function=fn)))
    return c
