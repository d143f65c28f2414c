"""Checks the filter-design tests share: a design streams like SciPy on the whole signal, and
a passthrough returns its input while an out-of-band design is refused at the first message."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    backend_partitions,
    time_signal,
)


def assert_streams_like_scipy(make, backend, float_dtype, *, fs, b=None, sos=None) -> None:
    """Any chunking of 48 random samples gives ``lfilter(b, [1])`` (or ``sosfilt(sos)``) of the
    whole signal, the filter starting at rest."""
    host, msg = time_signal(backend, dtype=float_dtype, fs=fs, offset=0.5)
    x = host.astype(np.float64)
    ref = (scipy.signal.sosfilt(sos, x, axis=0) if sos is not None
           else scipy.signal.lfilter(b, [1.0], x, axis=0))
    assert_chunked_equals_whole(make, msg, reference=ref,
                                partitions=backend_partitions(backend, 48, count=5, seed=1))


def assert_passthrough_then_out_of_band(passthrough, designed, *, fs, field, slow_fs=None):
    """``passthrough()`` returns the data unchanged; ``designed()`` raises ``ValueError``
    naming ``field`` and fs/2 on a stream at ``slow_fs`` (default: ``fs``)."""
    host, msg = time_signal(Backend.NUMPY, fs=fs, offset=0.5, seed=3)
    np.testing.assert_array_equal(passthrough()(msg).data, host)
    if slow_fs is not None:
        msg = time_signal(Backend.NUMPY, fs=slow_fs, offset=0.5, seed=3)[1]
    with pytest.raises(ValueError, match=rf"^{field}.*fs/2"):
        designed()(msg)
