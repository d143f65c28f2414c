"""Unit bases for your own processors, as the suite's Units use them.

``TransformerUnit`` (one input stream, one output stream), ``AdaptiveUnit`` (a decoder that
also trains from ``INPUT_SAMPLE``) and ``WindowedUnit`` (publishes only outputs that carry at
least one window) are ezmsg-baseproc's Unit bases with the suite's behaviour added: outputs
are materialised before they are published (so lazy MLX graphs cannot pile up), a list of
messages is published one by one, a malformed message is dropped with one WARNING line (and
counted) with the processor's state kept, and an invalid live settings update is rejected
without disturbing the running state (see docs/robustness.md). Subclass one and name your
processor class in the generic parameters, as ``ezmsg_sigproc_units.diff.DiffUnit`` does.
"""

from ._units import AdaptiveUnit, TransformerUnit, WindowedUnit

__all__ = ["AdaptiveUnit", "TransformerUnit", "WindowedUnit"]
