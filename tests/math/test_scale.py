import pytest

from ezmsg_sigproc_units.math.scale import Scale, ScaleSettings, ScaleTransformer, scale
from tests.helpers.elementwise_checks import check_empty, check_int_input, check_transformer


@pytest.mark.parametrize("factor", [1.0, -2.5, 0.0, 3])
def test_scale_matches_numpy(backend, float_dtype, factor):
    # NaN * anything and inf * 0 give NaN, as NumPy
    check_transformer(backend, float_dtype, scale(factor), lambda x: x * factor)


def test_empty_chunk(backend):
    check_empty(backend, ScaleTransformer(ScaleSettings(scale=2.0)))


def test_integer_input_gives_default_float(backend):
    check_int_input(backend, scale(0.5), lambda x: x * 0.5)


@pytest.mark.parametrize("bad", [float("nan"), "2", None, True])
def test_bad_scale(bad):
    with pytest.raises(ValueError, match="^scale"):
        ScaleSettings(scale=bad)


def test_api_defaults():
    assert ScaleSettings().scale == 1.0
    assert scale().settings == ScaleSettings()
    assert scale(4.0).settings.scale == 4.0
    assert Scale.SETTINGS is ScaleSettings
