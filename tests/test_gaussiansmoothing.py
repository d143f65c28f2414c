import numpy as np
import pytest

from ezmsg_sigproc_units.gaussiansmoothing import (
    GaussianSmoothingFilter,
    GaussianSmoothingFilterTransformer,
    GaussianSmoothingSettings,
    gaussian_smoothing_filter_design,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_pickle_resumes,
    time_signal,
)
from tests.helpers.filter_checks import assert_streams_like_scipy

# ---------------------------------------------------------------- design function


def test_design_reference_values():
    """Value returned by ezmsg-sigproc 3.11.1's gaussian_smoothing_filter_design."""
    b, a = gaussian_smoothing_filter_design(1.5, 2, None, True)
    np.testing.assert_allclose(b, [0.4260422633680631, 0.3411479755021416,
                                   0.17515121074611084, 0.057658550383684365], rtol=1e-14)
    np.testing.assert_array_equal(a, [1.0])


@pytest.mark.filterwarnings("ignore::UserWarning")  # truncated and one-tap kernels
@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("width", [1, 4])
@pytest.mark.parametrize("kernel_size", [None, 1, 6])
@pytest.mark.parametrize("causal", [False, True])
def test_design_is_a_normalised_gaussian(sigma, width, kernel_size, causal):
    b, _ = gaussian_smoothing_filter_design(sigma, width, kernel_size, causal)
    n = kernel_size or (int((1 if causal else 2) * width * sigma) + 1)
    assert b.shape == (n,)
    x = np.arange(n) if causal else np.arange(n) - (n - 1) / 2
    ref = np.exp(-0.5 * (x / sigma) ** 2)
    np.testing.assert_allclose(b, ref / ref.sum(), rtol=1e-13, atol=1e-300)
    assert abs(b.sum() - 1.0) < 1e-12


@pytest.mark.parametrize("kwargs,field", [
    (dict(sigma=0.0), "sigma"),
    (dict(sigma=None), "sigma"),
    (dict(width=0), "width"),
    (dict(width=None), "width"),
    (dict(kernel_size=0), "kernel_size"),
])
def test_design_rejects(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        gaussian_smoothing_filter_design(**kwargs)


def test_sigma_is_in_seconds():
    design = GaussianSmoothingFilterTransformer(
        GaussianSmoothingSettings(sigma=0.02, width=3)).get_design_function()
    b, _ = design(250.0)  # 5 samples
    np.testing.assert_array_equal(b, gaussian_smoothing_filter_design(5.0, 3)[0])
    assert b.shape == (31,)
    assert GaussianSmoothingFilterTransformer(
        GaussianSmoothingSettings(sigma=None)).get_design_function()(250.0) is None


# ---------------------------------------------------------------- settings


def test_settings_defaults():
    s = GaussianSmoothingSettings()
    assert (s.sigma, s.width, s.kernel_size, s.causal, s.coef_type) == (0.01, 4, None, False,
                                                                        "ba")
    assert GaussianSmoothingFilter.SETTINGS is GaussianSmoothingSettings


@pytest.mark.parametrize("kwargs,field", [
    (dict(sigma=-1.0), "sigma"),
    (dict(sigma=float("nan")), "sigma"),
    (dict(sigma=float("inf")), "sigma"),
    (dict(width=float("nan")), "width"),
    (dict(width="4"), "width"),
    (dict(kernel_size=2.5), "kernel_size"),
    (dict(kernel_size=True), "kernel_size"),
    (dict(causal="yes"), "causal"),
    (dict(coef_type="fir"), "coef_type"),
])
def test_settings_reject(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        GaussianSmoothingSettings(**kwargs)


# ---------------------------------------------------------------- processor

FS = 200.0


def _make(**kw):
    return lambda: GaussianSmoothingFilterTransformer(
        GaussianSmoothingSettings(axis="time", initial_state="zero", **kw))


def test_chunked_equals_lfilter(backend, float_dtype):
    _check_lfilter(backend, float_dtype, causal=True)


def test_symmetric_chunked_equals_lfilter_numpy():
    _check_lfilter(Backend.NUMPY, "float64", causal=False)


def _check_lfilter(backend, float_dtype, causal):
    b, _ = gaussian_smoothing_filter_design(0.02 * FS, 3, 31, causal)
    assert_streams_like_scipy(_make(sigma=0.02, width=3, kernel_size=31, causal=causal), backend,
                              float_dtype, fs=FS, b=b)


def test_pickle_resumes():
    assert_pickle_resumes(_make(), time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=2)[1],
                          split_at=13)


def test_passthrough():
    host, msg = time_signal(Backend.NUMPY, fs=FS, offset=0.5, seed=3)
    np.testing.assert_array_equal(_make(sigma=None)()(msg).data, host)
