import dataclasses

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.util.deprecation import AXIS_REMOVAL_VERSION, warn_axis_deprecated
from ezmsg_sigproc_units.util.message import (
    has_samples_along,
    is_empty_along,
    is_sample_message,
    with_fingerprint,
)


def _msg(shape=(0, 3), dims=("time", "ch")):
    return AxisArray(np.zeros(shape), dims=list(dims), axes={})


def test_with_fingerprint_caches_on_the_same_axis():
    ax = AxisArray.CoordinateAxis(data=np.array(["a", "b"]), dims=["ch"])
    assert "_fingerprint" not in vars(ax)  # ezmsg's cache of the property
    out = with_fingerprint(ax)
    assert out is ax
    assert vars(ax)["_fingerprint"] is not None
    assert ax.fingerprint == AxisArray.CoordinateAxis(data=np.array(["a", "b"]),
                                                      dims=["ch"]).fingerprint


def test_is_empty_along_only_looks_at_dims_the_message_has():
    assert is_empty_along(_msg(), ["time"])
    assert not is_empty_along(_msg(), ["ch"])
    assert not is_empty_along(_msg(), ["freq"])  # absent dims are ignored
    assert is_empty_along(_msg(), ["freq", "time"])
    assert not is_empty_along(_msg((2, 3)), ["time", "ch"])


def test_has_samples_along():
    assert not has_samples_along(_msg(), "time")
    assert has_samples_along(_msg(), "ch")
    assert not has_samples_along(_msg((2, 3)), "win")  # no such dim: no samples
    assert has_samples_along(_msg((2, 3)), "time")


def test_is_sample_message_is_baseprocs():
    assert not is_sample_message(_msg())


@dataclasses.dataclass(frozen=True)
class _Settings:
    axis: str | None = None
    other: str | None = None


def test_warn_axis_deprecated_only_when_set():
    match = f"_Settings.axis .*ezmsg-sigproc {AXIS_REMOVAL_VERSION}"
    with pytest.warns(FutureWarning, match=match):
        warn_axis_deprecated(_Settings(axis="time"))
    with pytest.warns(FutureWarning, match="_Settings.other"):
        warn_axis_deprecated(_Settings(other="x"), "other")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_axis_deprecated(_Settings())
