import math

import numpy as np
import pytest

from ezmsg_sigproc_units.math.log import Log, LogSettings, LogTransformer, log
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.elementwise_checks import (
    check_empty,
    check_int_input,
    check_transformer,
    make_msg,
)


def _np_log(base):
    return lambda x: np.log(x) / np.log(base)


@pytest.mark.parametrize("base", [10.0, 2.0, math.e, 3.5, 0.5])
def test_log_matches_numpy(backend, float_dtype, base):
    # zeros -> -inf, negatives -> NaN, NaN -> NaN, inf -> +/-inf, as NumPy
    check_transformer(backend, float_dtype, LogTransformer(LogSettings(base=base)), _np_log(base))


@pytest.mark.parametrize("base", [10.0, 2.0, 3.5])
def test_clip_zero_clips_zeros_and_negatives_to_tiny(backend, float_dtype, base):
    tiny = np.finfo(float_dtype).tiny
    ref = lambda x: _np_log(base)(np.maximum(x, tiny))  # NaN stays NaN
    check_transformer(backend, float_dtype, log(base=base, clip_zero=True), ref)


def test_clip_zero_float64_value(backend):
    if not backend.supports_float64():
        pytest.skip("float64 only")
    out = log(clip_zero=True)(make_msg(backend, np.array([0.0, -1.0, 100.0])))
    ref = np.array([math.log10(2.2250738585072014e-308)] * 2 + [2.0])
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype="float64")


def test_tiny_cached_per_dtype(backend):
    proc = log(clip_zero=True)
    for dt in ("float32", "float32", "int32"):
        proc(make_msg(backend, np.ones((3, 2), dtype=dt)))
    assert len(proc._tiny) == 2


def test_empty_chunk(backend):
    check_empty(backend, LogTransformer(LogSettings(clip_zero=True)))


def test_integer_input_gives_default_float(backend):
    host = np.arange(0, 12, dtype="int32").reshape(6, 2)
    check_int_input(backend, log(base=2.0), np.log2, host)
    tiny = np.finfo("float64" if backend.supports_float64() else "float32").tiny
    check_int_input(backend, log(clip_zero=True), lambda x: np.log10(np.maximum(x, tiny)), host)


@pytest.mark.parametrize("bad", [0.0, -2.0, 1.0, 1, float("nan"), float("inf"), "10", True])
def test_bad_base(bad):
    with pytest.raises(ValueError, match="^base"):
        LogSettings(base=bad)


def test_api_defaults():
    assert LogSettings() == LogSettings(base=10.0, clip_zero=False)
    assert log().settings == LogSettings()
    assert log(2.0, True).settings == LogSettings(base=2.0, clip_zero=True)
    assert Log.SETTINGS is LogSettings
