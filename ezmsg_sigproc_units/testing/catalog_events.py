"""Catalog entries of the events and binning:
sampler, signalinjector, binned_aggregate."""

from __future__ import annotations

from typing import Any

from .catalog_base import Config, _p


def _sampler(**kw: Any):
    """A SamplerTransformer that, per data message, asks for one epoch inside it (a trigger
    at the message's start + 0.03 s, period (-0.02, 0.05)) and returns that epoch: the
    catalog's checks expect one message out per message in."""

    def make() -> Any:
        from ..sampler import SamplerSettings, SamplerTransformer
        from ..util.message import SampleTriggerMessage

        class _OneEpoch(SamplerTransformer):
            def __call__(self, message: Any) -> Any:
                out = super().__call__(message)
                t0 = float(message.axes["time"].value(0))
                out += super().__call__(SampleTriggerMessage(timestamp=t0 + 0.03))
                return out[-1]

        return _OneEpoch(SamplerSettings(period=(-0.02, 0.05), **kw))

    return make


def _binned(label: str, **kw: Any) -> Config:
    return Config("binned_aggregate", label, _p("binned_aggregate", "BinnedAggregateTransformer",
                                                "BinnedAggregateSettings", **kw))


def configs() -> list[Config]:
    from ..aggregate import AggregationFunction as A

    return [
        Config("sampler", "estimate_alignment", _sampler(buffer_dur=1.0)),
        Config("sampler", "on_demand", _sampler(buffer_dur=0.5,
                                                buffer_update_strategy="on_demand")),
        Config("signalinjector", "f=7 Hz", _p("signalinjector", "SignalInjectorTransformer",
                                              "SignalInjectorSettings", frequency=7.0,
                                              amplitude=0.5, mixing_seed=0)),
        Config("signalinjector", "off", _p("signalinjector", "SignalInjectorTransformer",
                                           "SignalInjectorSettings")),
        _binned("mean, equal bins", bin_duration=0.02),
        _binned("mean, fractional", bin_duration=0.025),
        _binned("(min, max)", bin_duration=0.03, operation=(A.MIN, A.MAX)),
        _binned("argmax, fixed", bin_duration=0.025, operation=A.ARGMAX, fractional=False),
        _binned("trapezoid", bin_duration=0.02, operation=A.TRAPEZOID),
    ]
