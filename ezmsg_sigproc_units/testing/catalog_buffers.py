"""Catalog entries of the buffers and small modules: util.buffer, util.axisarray_buffer,
util.sparse.

None: these modules hold no processors (no Settings, no ``__call__`` on messages), so the
catalog's processor checks (reset rule, read-only axes, backend matrix) do not apply. Their
backend matrix is in tests/test_util_buffer.py and tests/test_util_axisarray_buffer.py."""

from __future__ import annotations

from .catalog_base import Config


def configs() -> list[Config]:
    return []
