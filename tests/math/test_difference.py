import pytest

from ezmsg_sigproc_units.math.add import Add
from ezmsg_sigproc_units.math.difference import (
    ConstDifference,
    ConstDifferenceSettings,
    ConstDifferenceTransformer,
    Difference,
    DifferenceProcessor,
    DifferenceState,
    const_difference,
)
from tests.helpers.elementwise_checks import (
    PAIR_CHECKS,
    check_empty,
    check_int_input,
    check_pair_values,
    check_transformer,
    pair_check_id,
)


def _sub(a, b):
    return a - b


@pytest.mark.parametrize("value", [0.0, 2.5, -7.0])
@pytest.mark.parametrize("subtrahend", [True, False])
def test_const_difference_matches_numpy(backend, float_dtype, value, subtrahend):
    ref = (lambda x: x - value) if subtrahend else (lambda x: value - x)
    check_transformer(backend, float_dtype, const_difference(value, subtrahend), ref)


def test_const_difference_empty_and_int(backend):
    check_empty(backend, const_difference(1.0, False))
    check_int_input(backend, const_difference(0.5, False), lambda x: 0.5 - x)


def test_const_difference_bad_settings():
    with pytest.raises(ValueError, match="^value"):
        ConstDifferenceSettings(value=float("nan"))
    with pytest.raises(ValueError, match="^subtrahend"):
        ConstDifferenceSettings(subtrahend="yes")


def test_const_difference_api():
    assert ConstDifferenceSettings() == ConstDifferenceSettings(value=0.0, subtrahend=True)
    assert const_difference().settings == ConstDifferenceSettings()
    assert ConstDifference.SETTINGS is ConstDifferenceSettings
    assert isinstance(ConstDifferenceTransformer(), ConstDifferenceTransformer)


def test_difference_values(backend, float_dtype):
    check_pair_values(backend, float_dtype, DifferenceProcessor, _sub)


@pytest.mark.parametrize("check", PAIR_CHECKS, ids=pair_check_id)
def test_difference_pair_contract(backend, check):
    """Pairing order, None when a side is empty, shape/namespace mismatch errors, integer and
    empty input, pickled state, and the async path (see tests.helpers.elementwise_checks)."""
    check(backend, DifferenceProcessor, _sub)


def test_difference_state_type():
    assert isinstance(DifferenceProcessor().state, DifferenceState)


def test_difference_unit_streams_match_add():
    for name in ("INPUT_SIGNAL_A", "INPUT_SIGNAL_B", "OUTPUT_SIGNAL"):
        assert name in Difference.__streams__ and name in Add.__streams__
    assert set(Difference.__tasks__) == {"on_a", "on_b"}
