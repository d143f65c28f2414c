import numpy as np
import pytest

from ezmsg_sigproc_units.math.anscombe import (
    Anscombe,
    AnscombeSettings,
    AnscombeTransformer,
    InverseAnscombe,
    InverseAnscombeSettings,
    InverseAnscombeTransformer,
    InverseMethod,
)
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.elementwise_checks import (
    check_empty,
    check_int_input,
    check_transformer,
    make_msg,
)


def _fwd(x):
    return 2.0 * np.sqrt(x + 0.375)


def test_anscombe_matches_numpy(backend, float_dtype):
    # below -3/8 -> NaN, NaN -> NaN, inf -> inf
    check_transformer(backend, float_dtype, AnscombeTransformer(), _fwd)


def test_anscombe_of_counts(backend):
    check_int_input(backend, AnscombeTransformer(), _fwd,
                    np.arange(0, 12, dtype="int32").reshape(6, 2))


# ezmsg-sigproc 3.11.1 outputs for y = [1, 2, 3, 10] (rounded to 4 decimals)
PEER = {
    "exact": [0.0, 0.78, 2.1026, 24.8926],
    "asymptotic": [0.125, 0.875, 2.125, 24.875],
    "algebraic": [-0.125, 0.625, 1.875, 24.625],
}


@pytest.mark.parametrize("method", list(PEER))
def test_inverse_peer_values(backend, float_dtype, method):
    y = np.array([[1.0], [2.0], [3.0], [10.0], [np.nan]], dtype=float_dtype)
    out = InverseAnscombeTransformer(InverseAnscombeSettings(method=method))(make_msg(backend, y))
    ref = np.array(PEER[method] + [np.nan], dtype=float_dtype)[:, None]
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=float_dtype,
                 atol=1e-4)


@pytest.mark.parametrize("method,offset", [("algebraic", 0.375), ("asymptotic", 0.125)])
def test_inverse_closed_forms_match_numpy(backend, float_dtype, method, offset):
    proc = InverseAnscombeTransformer(method=InverseMethod(method))
    check_transformer(backend, float_dtype, proc, lambda y: y * y / 4.0 - offset)


def test_algebraic_inverse_undoes_forward(backend, float_dtype):
    x = np.abs(np.random.default_rng(0).standard_normal((30, 2)) * 20).astype(float_dtype)
    y = AnscombeTransformer()(make_msg(backend, x))
    back = InverseAnscombeTransformer(method="algebraic")(y)
    assert_close(back.data, x, xp=backend.xp, device=backend.device, dtype=float_dtype,
                 rtol=1e-4 if float_dtype == "float32" else 1e-10)


def test_exact_inverse_is_unbiased_for_poisson(backend, float_dtype):
    """exact(E[anscombe(K)]) ~= lam for K ~ Poisson(lam), better than asymptotic at low lam."""
    from scipy.stats import poisson

    lams = np.array([1.0, 2.0, 5.0, 20.0, 100.0])
    k = np.arange(0, 3000)
    ey = np.array([(_fwd(k) * poisson.pmf(k, lam)).sum() for lam in lams])[:, None]
    msg = make_msg(backend, ey.astype(float_dtype))
    from ezmsg_sigproc_units._backend import to_host

    exact = to_host(InverseAnscombeTransformer()(msg).data)[:, 0]
    asym = to_host(InverseAnscombeTransformer(method="asymptotic")(msg).data)[:, 0]
    assert np.all(np.abs(exact - lams) < 0.01 + 1e-3 * lams), exact
    assert np.all(np.abs(exact - lams)[:2] < np.abs(asym - lams)[:2])


def test_exact_inverse_below_anscombe_of_zero_is_zero(backend):
    """y <= anscombe(0) = sqrt(3/2) means no counts; the closed form explodes there."""
    y = np.array([[0.0], [0.1], [0.5], [1.0], [1.2]])
    with np.errstate(all="ignore"):
        out = InverseAnscombeTransformer()(make_msg(backend, y.astype("float32")))
    assert_close(out.data, np.zeros((5, 1), "float32"), xp=backend.xp, device=backend.device,
                 dtype="float32", atol=1e-6)


@pytest.mark.parametrize("method", list(InverseMethod))
def test_inverse_empty_and_int(backend, method):
    proc = InverseAnscombeTransformer(method=method)
    check_empty(backend, proc)
    assert proc(make_msg(backend, np.arange(2, 8, dtype="int32"))).data.dtype == (
        backend.xp.float64 if backend.supports_float64() else backend.xp.float32
    )


def test_anscombe_empty(backend):
    check_empty(backend, AnscombeTransformer())


def test_method_accepts_strings_and_enum():
    assert InverseAnscombeSettings().method is InverseMethod.EXACT
    for m in InverseMethod:
        assert InverseAnscombeSettings(method=m.value).method is m
        assert InverseAnscombeSettings(method=m).method is m
    assert [m.value for m in InverseMethod] == ["exact", "asymptotic", "algebraic"]
    assert InverseMethod.EXACT == "exact"


@pytest.mark.parametrize("bad", ["EXACT", "nope", None, 3])
def test_bad_method(bad):
    with pytest.raises(ValueError, match="^method"):
        InverseAnscombeSettings(method=bad)


def test_units():
    assert Anscombe.SETTINGS is AnscombeSettings
    assert InverseAnscombe.SETTINGS is InverseAnscombeSettings
