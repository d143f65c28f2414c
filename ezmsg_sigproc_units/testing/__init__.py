"""Reusable test kit for ezmsg-sigproc-units and plugins built on it.

``Backend`` (every library/device we support), ``assert_close`` (namespace, device, dtype,
shape, then values) and the streaming helpers. The pytest fixtures live in
``ezmsg_sigproc_units.testing.plugin`` and load automatically; pytest is imported only there.
"""

from .assertions import assert_close, default_rtol
from .backends import CPU_BACKENDS, Backend
from .streaming import (
    assert_chunked_equals_whole,
    assert_pickle_resumes,
    backend_partitions,
    concat_outputs,
    random_partitions,
    split_message,
    time_signal,
)

__all__ = [
    "CPU_BACKENDS",
    "Backend",
    "assert_chunked_equals_whole",
    "assert_close",
    "assert_pickle_resumes",
    "backend_partitions",
    "concat_outputs",
    "default_rtol",
    "random_partitions",
    "split_message",
    "time_signal",
]
