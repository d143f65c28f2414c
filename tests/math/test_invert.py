import numpy as np

from ezmsg_sigproc_units.math.invert import Invert, InvertSettings, InvertTransformer, invert
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.elementwise_checks import (
    check_empty,
    check_int_input,
    check_transformer,
    make_msg,
)


def test_invert_matches_numpy(backend, float_dtype):
    # 0 -> inf, -0 -> -inf, inf -> 0, NaN -> NaN
    check_transformer(backend, float_dtype, InvertTransformer(), lambda x: 1.0 / x)


def test_zero_gives_inf(backend):
    with np.errstate(divide="ignore"):
        out = invert()(make_msg(backend, np.array([[0.0], [2.0]], dtype="float32")))
    assert_close(out.data, np.array([[np.inf], [0.5]], "float32"), xp=backend.xp,
                 device=backend.device, dtype="float32")


def test_empty_chunk(backend):
    check_empty(backend, invert())


def test_integer_input_gives_default_float(backend):
    check_int_input(backend, invert(), lambda x: 1.0 / x)


def test_api():
    assert invert().settings == InvertSettings()
    assert Invert.SETTINGS is InvertSettings
