"""Streaming signal-processing Units for ezmsg on any Array API backend.

Importing the package is cheap on purpose: it only defines the version. Import the processor
families you need, e.g. ``from ezmsg_sigproc_units.math.clip import ClipTransformer``.
"""

__version__ = "0.1.0"
