"""Masks of the outputs a non-finite input reaches, against direct loops."""

from __future__ import annotations

import numpy as np
import pytest

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import nonfinite as nf


def _bad(backend, seed=0, shape=(23, 4), p=0.08):
    host = np.random.default_rng(seed).random(shape) < p
    host[:, 0] = False  # a channel without any
    return host, backend.asarray(host.astype(np.float32)) > 0.5


def test_from_first(backend):
    host, bad = _bad(backend)
    want = np.zeros_like(host)
    for c in range(host.shape[1]):
        hits = np.flatnonzero(host[:, c])
        if hits.size:
            want[hits[0]:, c] = True
    np.testing.assert_array_equal(to_host(nf.from_first(backend.xp, bad)), want)


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 9, 23])
def test_within(backend, width):
    host, bad = _bad(backend, seed=width)
    want = np.array([host[n:n + width].any(axis=0) for n in range(host.shape[0] - width + 1)])
    np.testing.assert_array_equal(to_host(nf.within(backend.xp, bad, width)), want)


def test_all_finite(backend):
    x = backend.asarray(np.ones((3, 5), np.float32))
    assert nf.all_finite(backend.xp, x)
    for bad in (np.nan, np.inf, -np.inf):
        host = np.ones((3, 5), np.float32)
        host[2, 4] = bad
        assert not nf.all_finite(backend.xp, backend.asarray(host))
