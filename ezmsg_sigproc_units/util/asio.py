"""Sync/async bridges, under the peer's module path (deprecated there as here: importing this
module warns). They live in ezmsg-baseproc; import them from ``ezmsg.baseproc.util.asio``."""

import warnings

warnings.warn(
    "ezmsg_sigproc_units.util.asio is deprecated: import from ezmsg.baseproc.util.asio",
    DeprecationWarning,
    stacklevel=2,
)

from ezmsg.baseproc.util.asio import (  # noqa: E402
    CoroutineExecutionError,
    SyncToAsyncGeneratorWrapper,
    run_coroutine_sync,
)

__all__ = ["CoroutineExecutionError", "SyncToAsyncGeneratorWrapper", "run_coroutine_sync"]
