import asyncio
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.math.add import (
    Add,
    AddProcessor,
    AddState,
    ConstAdd,
    ConstAddSettings,
    ConstAddTransformer,
)
from ezmsg_sigproc_units.testing import Backend, assert_close
from ezmsg_sigproc_units.testing.graph import free_port
from tests.helpers.elementwise_checks import (
    PAIR_CHECKS,
    check_empty,
    check_int_input,
    check_pair_values,
    check_transformer,
    make_msg,
    pair_check_id,
)


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
    empty input, pickled state, and the async path (see tests.helpers.elementwise_checks)."""
    check(backend, AddProcessor, _add)


def test_add_state_holds_two_deques():
    p = AddProcessor()
    assert isinstance(p.state, AddState)
    assert len(p.state.queue_a) == 0 and len(p.state.queue_b) == 0


# ---- a real ezmsg graph -------------------------------------------------------------


class _PairSourceSettings(ez.Settings):
    backend: str = "numpy"
    n: int = 3


class _PairSource(ez.Unit):
    """Publishes ``n`` messages on A and on B (A = i, B = 10 i)."""

    SETTINGS = _PairSourceSettings
    OUTPUT_A = ez.OutputStream(AxisArray)
    OUTPUT_B = ez.OutputStream(AxisArray)

    @ez.publisher(OUTPUT_A)
    async def send_a(self):
        b = Backend(self.SETTINGS.backend)
        for i in range(self.SETTINGS.n):
            yield self.OUTPUT_A, make_msg(b, np.full((4, 2), float(i)), key="A")
            await asyncio.sleep(0.01)
        raise ez.Complete

    @ez.publisher(OUTPUT_B)
    async def send_b(self):
        b = Backend(self.SETTINGS.backend)
        for i in range(self.SETTINGS.n):
            await asyncio.sleep(0.005)
            yield self.OUTPUT_B, make_msg(b, np.full((4, 2), 10.0 * i), key="B")
        raise ez.Complete


_RECEIVED: list = []


class _SinkSettings(ez.Settings):
    n: int = 3


class _Sink(ez.Unit):
    SETTINGS = _SinkSettings
    INPUT = ez.InputStream(AxisArray)

    @ez.subscriber(INPUT)
    async def on_message(self, msg: AxisArray) -> None:
        _RECEIVED.append(msg)
        if len(_RECEIVED) >= self.SETTINGS.n:
            raise ez.NormalTermination

    @ez.task
    async def watchdog(self) -> None:
        await asyncio.sleep(20.0)
        raise ez.NormalTermination


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.TORCH], ids=lambda b: b.value)
def test_add_unit_in_graph(backend):
    """A real single-process ezmsg graph (ez.run forks nothing, so JAX threads are safe)."""
    if backend.unavailable_reason():
        pytest.skip(backend.unavailable_reason())
    _RECEIVED.clear()
    src, add, sink = _PairSource(backend=backend.value), Add(), _Sink()
    ez.run(components={"SRC": src, "ADD": add, "SINK": sink},
           connections=((src.OUTPUT_A, add.INPUT_SIGNAL_A), (src.OUTPUT_B, add.INPUT_SIGNAL_B),
                        (add.OUTPUT_SIGNAL, sink.INPUT)),
           root_name=f"add_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    assert len(_RECEIVED) >= 3, "the graph ended (watchdog) before three sums arrived"
    for i, out in enumerate(_RECEIVED[:3]):
        assert_close(out.data, np.full((4, 2), 11.0 * i), xp=backend.xp, device=backend.device,
                     dtype="float64")
        assert out.key == "A" and out.dims == ["time", "ch"]
