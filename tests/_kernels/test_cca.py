import numpy as np

from ezmsg_sigproc_units._kernels import cca
from ezmsg_sigproc_units.testing import assert_close


def _definition(x, y):
    """Top singular value of Ux^T Qy, Ux an orthonormal basis of the centred channels'
    span (from the SVD, rank by a tolerance: flat or collinear channels add nothing)."""
    u, sv, _ = np.linalg.svd(x - x.mean(0), full_matrices=False)
    qx = u[:, sv > 1e-9 * sv[0]]
    return np.linalg.svd(qx.T @ y, compute_uv=False)[0]


def test_rho_max_every_backend(backend, float_dtype):
    rng = np.random.default_rng(0)
    t = np.arange(120) / 100.0
    x = rng.standard_normal((4, 120, 3))
    x[1, :, 0] = 0.0  # a flat channel
    x[2, :, 2] = 2 * x[2, :, 1]  # collinear channels
    x[3] += np.sin(2 * np.pi * 10 * t)[:, None]
    zy = cca.reference_bases(t, [10.0, 13.0], 2)
    ref = np.array([[_definition(x[b], zy[f]) for f in range(2)] for b in range(4)])
    got = cca.rho_max(backend.xp, backend.asarray(x.astype(float_dtype)),
                      backend.asarray(zy.astype(float_dtype)))
    rtol = 1e-4 if float_dtype == "float32" or backend.value == "mlx" else 1e-9
    assert_close(got, ref, xp=backend.xp, device=backend.device, dtype=float_dtype, rtol=rtol)


def test_more_channels_than_samples(backend):
    rng = np.random.default_rng(1)
    t = np.arange(12) / 100.0
    x = rng.standard_normal((2, 12, 3)) @ rng.standard_normal((3, 20))  # rank 3 < T < c
    zy = cca.reference_bases(t, [10.0, 20.0], 1)
    ref = np.array([[_definition(x[b], zy[f]) for f in range(2)] for b in range(2)])
    got = cca.rho_max(backend.xp, backend.asarray(x), backend.asarray(zy))
    assert_close(got, ref, xp=backend.xp, device=backend.device, dtype=x.dtype,
                 rtol=1e-4 if backend.value == "mlx" else 1e-9)


def test_reference_bases_orthonormal_and_drop_zero_columns():
    t = np.arange(8) / 8.0
    zy = cca.reference_bases(t, [2.0], 2)  # 4 Hz at fs 8: sin(2*pi*4*t) == 0
    q = zy[0]
    np.testing.assert_allclose(q.T @ q, np.diag([1.0, 1.0, 1.0, 0.0]), atol=1e-12)
    np.testing.assert_allclose(q.sum(0), 0.0, atol=1e-12)  # centred


def test_softmax_shift():
    cv = np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]])
    np.testing.assert_allclose(cca.softmax(np, cv, axis=1), [[0.5, 0.5], [0.25, 0.75]])
