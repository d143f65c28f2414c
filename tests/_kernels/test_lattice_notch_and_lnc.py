"""Kernel-level tests of the line-noise family: the LNC window block matrices against
scipy's sosfilt, the phase wrap, and the lattice pieces used by the compiled backends."""

import math

import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units._kernels import lattice_notch, lnc
from ezmsg_sigproc_units.testing import assert_close


def _sos(omega, mu, K):
    k = np.arange(1, K + 1)
    c = np.cos(k * omega)
    one = np.ones(K)
    return np.stack([one, -2 * c, one, one, -(2 - mu) * c, (1 - mu) * one], axis=1)


@pytest.mark.parametrize("K, r", [(1, 17), (3, 17), (2, 5), (1, 1)])
def test_notch_segment_equals_sosfilt(backend, K, r):
    """A segment through the block matrices built on the device from omega equals scipy's
    cascade from the same transposed-direct-form-II state."""
    xp, dev = backend.xp, backend.device
    dt = "float64" if backend.supports_float64() else "float32"
    L, omega, mu = 17, 0.37, 0.04
    rng = np.random.default_rng(K * 10 + r)
    x = rng.standard_normal((r, 4))
    zi = rng.standard_normal((K, 2, 4))
    want, zi_want = scipy.signal.sosfilt(_sos(omega, mu, K), x, axis=0, zi=zi)
    dtype = getattr(xp, dt)
    consts = lnc.constants(xp, L, K, dtype=dtype, device=dev)
    mats = lnc.window_mats(xp, backend.asarray(np.array(omega), dt),
                           backend.asarray(np.array(mu), dt), consts)
    y, z = lnc.notch_segment(xp, backend.asarray(x, dt), backend.asarray(zi, dt), mats, consts)
    tol = {"rtol": 1e-5} if backend.value == "mlx" else {}  # MLX CPU float64 products
    assert_close(y, want, xp=xp, device=dev, dtype=dtype, **tol)
    assert_close(z, zi_want, xp=xp, device=dev, dtype=dtype, **tol)


def test_advance_phase_wraps(backend):
    xp = backend.xp
    dt = "float64" if backend.supports_float64() else "float32"
    scal = backend.asarray(np.array([0.9, 6.0]), dt)
    out = lnc.advance_phase(xp, scal, 10)
    want = (6.0 + 9.0) % (2 * math.pi)
    assert_close(out, np.array([0.9, want]), xp=xp, device=backend.device,
                 dtype=getattr(xp, dt))


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 47])
def test_pieces_cover_the_chunk_in_order(n):
    x = np.arange(2 * n, dtype=float).reshape(n, 2)
    parts = lattice_notch._pieces(np, x)
    assert all(p.shape[0] in (16, 8, 4, 2, 1) for p in parts)
    got = np.concatenate(parts) if parts else x[:0]
    np.testing.assert_array_equal(got, x)


def test_fll_clips_and_holds_on_zero_cross():
    gains = np.array([0.05, 0.5, 0.30, 0.40, 0.1, 2 / 17, 17.0])
    scal = np.array([0.35, 1.0])
    prev = np.array([[1.0, 0.0], [0.0, 0.0]])
    # rotated by +90 degrees: omega += 0.5 * (pi / 2) / 17, inside the bounds
    out = lnc.fll(np, scal, prev, np.array([0.0, 0.0]), np.array([1.0, 0.0]), gains, False)
    np.testing.assert_allclose(out[0], 0.35 + 0.5 * (math.pi / 2) / 17)
    big = gains.copy()
    big[1] = 50.0
    out = lnc.fll(np, scal, prev, np.array([0.0, 0.0]), np.array([1.0, 0.0]), big, False)
    assert out[0] == 0.40  # clipped to omega_max
    out = lnc.fll(np, scal, prev, np.zeros(2), np.zeros(2), big, False)
    assert out[0] == 0.35  # no cross product: unchanged
    assert lnc.fll(np, scal, prev, np.ones(2), np.ones(2), big, True) is scal  # first window
