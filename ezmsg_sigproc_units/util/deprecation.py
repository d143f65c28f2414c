"""The deprecated per-processor ``axis`` settings, under the peer's names.

ezmsg-sigproc deprecates the ``axis`` field of its stateful processors in favour of the
message's declared ``stream_dim`` and plans to drop it in 4.0. This package keeps honouring
``axis`` (a drop-in graph keeps working) and does not warn from its own processors; the helper
is here for plugins written against the peer's module.
"""

from __future__ import annotations

import typing

from ezmsg.baseproc import warn_axis_deprecated as _baseproc_warn

__all__ = ["AXIS_REMOVAL_VERSION", "warn_axis_deprecated"]

AXIS_REMOVAL_VERSION = "4.0"
"""The peer's release that drops the deprecated ``axis`` settings."""


def warn_axis_deprecated(settings: typing.Any, field: str = "axis") -> None:
    """``FutureWarning`` when ``settings.<field>`` is set (ezmsg-baseproc's rule), naming
    ezmsg-sigproc and its removal release."""
    _baseproc_warn(settings, field, package="ezmsg-sigproc", removal=AXIS_REMOVAL_VERSION)
