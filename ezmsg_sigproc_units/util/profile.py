"""Profiling helpers, under the peer's module path. They live in ezmsg-baseproc; new code
should import them from ``ezmsg.baseproc.util.profile``."""

from ezmsg.baseproc.util.profile import (
    HEADER,
    _setup_logger,
    get_logger_path,
    logger,
    profile_method,
    profile_subpub,
)

__all__ = [
    "HEADER",
    "_setup_logger",
    "get_logger_path",
    "logger",
    "profile_method",
    "profile_subpub",
]
