import socket

import numpy as np
import pytest
from _elementwise_checks import (
    PAIR_CHECKS,
    check_empty,
    check_int_input,
    check_pair_values,
    check_transformer,
    make_msg,
    pair_check_id,
)

from ezmsg_sigproc_units.math.add import (
    Add,
    AddProcessor,
    AddState,
    ConstAdd,
    ConstAddSettings,
    ConstAddTransformer,
)
from ezmsg_sigproc_units.testing import Backend, assert_close


def _add(a, b):
    return a + b


@pytest.mark.parametrize("value", [0.0, 2.5, -1e3])
def test_const_add_matches_numpy(backend, float_dtype, value):
    check_transformer(backend, float_dtype, ConstAddTransformer(value=value), lambda x: x + value)


def test_const_add_empty_and_int(backend):
    check_empty(backend, ConstAddTransformer(value=1.0))
    check_int_input(backend, ConstAddTransformer(value=0.5), lambda x: x + 0.5)


@pytest.mark.parametrize("bad", [float("nan"), "1", None])
def test_const_add_bad_value(bad):
    with pytest.raises(ValueError, match="^value"):
        ConstAddSettings(value=bad)


def test_const_add_api():
    assert ConstAddSettings().value == 0.0
    assert ConstAdd.SETTINGS is ConstAddSettings


def test_add_values(backend, float_dtype):
    check_pair_values(backend, float_dtype, AddProcessor, _add)


@pytest.mark.parametrize("check", PAIR_CHECKS, ids=pair_check_id)
def test_add_pair_contract(backend, check):
    """Pairing order, None when a side is empty, shape/namespace mismatch errors, integer and
    empty input, pickled state, and the async path (see _elementwise_checks)."""
    check(backend, AddProcessor, _add)


def test_add_state_holds_two_deques():
    p = AddProcessor()
    assert isinstance(p.state, AddState)
    assert len(p.state.queue_a) == 0 and len(p.state.queue_b) == 0


# ---- a real ezmsg graph -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.TORCH], ids=lambda b: b.value)
def test_add_unit_in_graph(backend):
    import ezmsg.core as ez

    if backend.unavailable_reason():
        pytest.skip(backend.unavailable_reason())

    addr = ("127.0.0.1", _free_port())
    root = "add_unit_test"
    runner = ez.GraphRunner(components={"ADD": Add()}, root_name=root, graph_address=addr,
                            auto_start=True)
    runner.start()
    try:
        with ez.sync.init(addr, auto_start=False) as ctx:
            sub = ctx.subscriber(f"{root}/ADD/OUTPUT_SIGNAL")
            pub_a = ctx.publisher(f"{root}/ADD/INPUT_SIGNAL_A")
            pub_b = ctx.publisher(f"{root}/ADD/INPUT_SIGNAL_B")
            got = []
            for i in range(3):
                a = make_msg(backend, np.full((4, 2), float(i)), key="A")
                b = make_msg(backend, np.full((4, 2), 10.0 * i), key="B")
                pub_a.publish(a, timeout=5)
                pub_b.publish(b, timeout=5)
                got.append(sub.recv(timeout=10))
    finally:
        runner.stop()
    for i, out in enumerate(got):
        assert_close(out.data, np.full((4, 2), 11.0 * i), xp=backend.xp, device=backend.device,
                     dtype="float64")
        assert out.key == "A" and out.dims == ["time", "ch"]
