import numpy as np
import pytest

from ezmsg_sigproc_units.math.pow import Pow, PowSettings, PowTransformer, pow
from tests.helpers.elementwise_checks import check_empty, check_int_input, check_transformer


@pytest.mark.parametrize("exponent", [2.0, 3.0, 0.5, -1.0, 0.0, 2.5])
def test_pow_matches_numpy(backend, float_dtype, exponent):
    # (-inf) ** 0.5 is +inf in C99 pow (JAX/MLX) but NaN in NumPy: the kernel uses sqrt.
    # negative ** non-integer -> NaN; NaN ** 0 -> 1; 0 ** -1 -> inf, as NumPy
    check_transformer(backend, float_dtype, pow(exponent), lambda x: np.power(x, exponent))


def test_empty_chunk(backend):
    check_empty(backend, PowTransformer(PowSettings(exponent=3.0)))


@pytest.mark.parametrize("exponent", [2.0, 0.5])
def test_integer_input_gives_default_float(backend, exponent):
    check_int_input(backend, pow(exponent), lambda x: np.power(x, exponent))


@pytest.mark.parametrize("bad", [float("nan"), "2", None])
def test_bad_exponent(bad):
    with pytest.raises(ValueError, match="^exponent"):
        PowSettings(exponent=bad)


def test_api_defaults():
    assert PowSettings().exponent == 2.0
    assert pow().settings == PowSettings()
    assert pow(3.0).settings.exponent == 3.0
    assert Pow.SETTINGS is PowSettings
