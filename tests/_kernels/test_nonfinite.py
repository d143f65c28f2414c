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


@pytest.mark.parametrize("portable", [False, True], ids=["kernel", "portable"])
@pytest.mark.parametrize("T", [0, 1, 7, 40, 300])
def test_iir_checked_reports_the_new_state(backend, portable, T):
    """``iir_checked`` gives the kernel's very ``(y, z)`` and whether ``z`` is all finite,
    whichever route it takes (the check compiled into the kernel's call on JAX)."""
    import scipy.signal as ss

    from ezmsg_sigproc_units._kernels import iir

    sos = ss.butter(4, (0.1, 0.3), btype="band", output="sos")
    plan = iir.iir_plan(backend.xp, sos, dtype=backend.xp.float32, device=backend.device)
    host = np.random.default_rng(T).standard_normal((T, 3)).astype(np.float32)
    z0 = iir.iir_zero_state(backend.xp, plan, 3)
    kernel = iir.filter_portable if portable else iir.iir_filter
    want_y, want_z = kernel(backend.xp, plan, backend.asarray(host), z0)
    y, z, finite = nf.iir_checked(backend.xp, plan, backend.asarray(host), z0, portable)
    assert finite is True
    np.testing.assert_array_equal(to_host(y), to_host(want_y))
    np.testing.assert_array_equal(to_host(z), to_host(want_z))
    if T:
        host[T // 2, 1] = np.nan
        _, z, finite = nf.iir_checked(backend.xp, plan, backend.asarray(host), z0, portable)
        assert finite is False and not np.isfinite(to_host(z)[:, 1]).any()
