"""pytest plugin: ``backend``, ``xp`` and ``device`` fixtures over every backend.

Loaded automatically (entry point ``pytest11``) wherever ezmsg-sigproc-units is installed, so
downstream plugin authors get the same fixtures. Backends that are not installed, and GPU
backends without a GPU, skip themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from .backends import Backend


def _params(members) -> list:
    marks = {True: [pytest.mark.gpu], False: []}
    return [pytest.param(b, id=b.value, marks=marks[b.is_gpu]) for b in members]


@pytest.fixture(params=_params(Backend))
def backend(request) -> Backend:
    """Every backend (GPU ones skip themselves where there is no GPU)."""
    b: Backend = request.param
    reason = b.unavailable_reason()
    if reason is not None:
        pytest.skip(f"{b.value}: {reason}")
    return b


@pytest.fixture
def xp(backend: Backend) -> Any:
    """The array namespace of ``backend``."""
    return backend.xp


@pytest.fixture
def device(backend: Backend) -> Any:
    """The device of ``backend`` (deliberately non-default for ``strict-device1``)."""
    return backend.device


@pytest.fixture(params=["float32", "float64"])
def float_dtype(request, backend: Backend) -> str:
    """float32 and float64 (float64 skipped where the backend's device lacks it)."""
    if request.param == "float64" and not backend.supports_float64():
        pytest.skip(f"{backend.value} has no float64 here")
    return request.param
