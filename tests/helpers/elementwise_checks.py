"""Checks shared by the tests of the elementwise math transformers and the two-stream
processors (Add, Difference). Not a test module itself."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.testing import assert_close

# Values every elementwise test sees besides random data: zeros of both signs, a negative,
# a NaN and infinities, so NaN/inf handling is checked against NumPy too.
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 0.5])


def make_msg(backend, host: np.ndarray, key: str = "src") -> AxisArray:
    dims = ["time", "ch"][: host.ndim] if host.ndim <= 2 else [f"d{i}" for i in range(host.ndim)]
    return AxisArray(backend.asarray(host), dims=dims,
                     axes={dims[0]: AxisArray.TimeAxis(fs=100.0, offset=1.5)}, key=key)


def sample(dtype: str, seed: int = 0, shape=(24, 3)) -> np.ndarray:
    """Random normal data with ``SPECIAL`` written into column 0."""
    host = np.random.default_rng(seed).standard_normal(shape) * 3.0
    host[: SPECIAL.size, 0] = SPECIAL
    return host.astype(dtype)


def reference(fn: Callable[[np.ndarray], np.ndarray], host: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(fn(host)).astype(host.dtype)


def expected_int_dtype(backend) -> str:
    return "float64" if backend.supports_float64() else "float32"


def check_transformer(backend, dtype: str, proc, ref_fn, host: np.ndarray | None = None,
                      rtol: float | None = None) -> None:
    """Output equals the NumPy reference (namespace/device/dtype/shape/values, NaN where
    the reference has NaN); the input message and its data are untouched; metadata kept."""
    host = sample(dtype) if host is None else host.astype(dtype)
    msg = make_msg(backend, host)
    axes_before = dict(msg.axes)
    with np.errstate(all="ignore"):  # NumPy warns on the deliberate 0, -1, NaN, inf
        out = proc(msg)
    assert_close(out.data, reference(ref_fn, host), xp=backend.xp, device=backend.device,
                 dtype=dtype, rtol=rtol)
    assert out is not msg and out.dims == msg.dims and out.key == msg.key
    assert out.axes == axes_before
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype=dtype)
    assert msg.axes == axes_before


def check_empty(backend, proc) -> None:
    for shape in ((0, 3), (5, 0)):
        out = proc(make_msg(backend, np.zeros(shape, dtype="float32")))
        assert tuple(out.data.shape) == shape
        assert_close(out.data, np.zeros(shape, "float32"), xp=backend.xp,
                     device=backend.device, dtype="float32")


def check_int_input(backend, proc, ref_fn, host: np.ndarray | None = None) -> None:
    """Integer input is computed in the backend's default float."""
    host = np.arange(-4, 8, dtype="int32").reshape(6, 2) if host is None else host
    with np.errstate(all="ignore"):  # 0 and negatives are deliberate
        out = proc(make_msg(backend, host))
    dt = expected_int_dtype(backend)
    assert_close(out.data, reference(ref_fn, host.astype(dt)), xp=backend.xp,
                 device=backend.device, dtype=dt)


# ---- two-stream processors -------------------------------------------------------------


def check_pair_values(backend, dtype: str, make, op) -> None:
    """Every backend x dtype: the n-th A with the n-th B, A's metadata, inputs untouched."""
    p = make()
    hosts_a = [sample(dtype, seed=s) for s in (1, 2)]
    hosts_b = [sample(dtype, seed=s) for s in (3, 4)]
    msgs_a = [make_msg(backend, h, key="A") for h in hosts_a]
    msgs_b = [make_msg(backend, h[::-1].copy(), key="B") for h in hosts_b]
    for m in msgs_a + msgs_b:
        p.push_a(m) if m.key == "A" else p.push_b(m)
    for i in range(2):
        out = p()
        ref = reference(lambda a, hb=hosts_b[i]: op(a, hb[::-1]), hosts_a[i])
        assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=dtype)
        assert out.key == "A" and out.axes == msgs_a[i].axes and out.dims == msgs_a[i].dims
    assert p() is None
    for h, m in zip(hosts_a, msgs_a, strict=False):
        assert_close(m.data, h, xp=backend.xp, device=backend.device, dtype=dtype)


def check_pair_order(backend, make, op) -> None:
    """The n-th A pairs with the n-th B; None whenever one side is empty."""
    p = make()

    def one(v: float, key: str) -> AxisArray:
        return make_msg(backend, np.full((2, 1), float(v)), key=key)

    def first(out: AxisArray) -> float:
        return float(to_host(out.data)[0, 0])

    assert p() is None
    for v in (1, 2, 3):
        p.push_a(one(v, "A"))
    assert p() is None, "no B yet: nothing to combine"
    p.push_b(one(10, "B"))
    p.push_b(one(20, "B"))
    assert [first(p()) for _ in range(2)] == [op(1.0, 10.0), op(2.0, 20.0)]
    assert p() is None, "A has one left, B is empty"
    assert len(p.state.queue_a) == 1 and len(p.state.queue_b) == 0
    p.push_b(one(30, "B"))
    assert first(p()) == op(3.0, 30.0)
    assert p() is None


def check_pair_shape_mismatch(backend, make, op) -> None:
    p = make()
    p.push_a(make_msg(backend, np.zeros((4, 3))))
    p.push_b(make_msg(backend, np.zeros((4, 2))))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        p()
    assert p() is None, "the mismatched pair is dropped, not retried forever"


def check_pair_namespace_mismatch(backend, make, op) -> None:
    if backend.library == "numpy":
        pytest.skip("needs two different namespaces")
    p = make()
    p.push_a(make_msg(backend, np.zeros((4, 3))))
    p.push_b(AxisArray(np.zeros((4, 3)), dims=["time", "ch"]))
    with pytest.raises(TypeError, match="namespaces"):
        p()


def check_pair_int_and_empty(backend, make, op) -> None:
    p = make()
    a = np.arange(6, dtype="int32").reshape(3, 2)
    b = np.arange(6, 12, dtype="int32").reshape(3, 2)
    p.push_a(make_msg(backend, a))
    p.push_b(make_msg(backend, b))
    dt = expected_int_dtype(backend)
    assert_close(p().data, op(a, b).astype(dt), xp=backend.xp, device=backend.device, dtype=dt)
    p.push_a(make_msg(backend, np.zeros((0, 2), "float32")))
    p.push_b(make_msg(backend, np.zeros((0, 2), "float32")))
    assert tuple(p().data.shape) == (0, 2)


def check_pair_pickled_state(backend, make, op) -> None:
    """A processor whose pickled state is restored combines the queued message."""
    p = make()
    a = sample("float32", seed=5)
    b = sample("float32", seed=6)
    p.push_a(make_msg(backend, a))
    clone = make()
    clone.state = pickle.dumps(p.state)
    clone.push_b(make_msg(backend, b))
    with np.errstate(all="ignore"):  # inf - inf in SPECIAL
        out = clone()
    assert_close(out.data, reference(lambda x: op(x, b), a), xp=backend.xp,
                 device=backend.device, dtype="float32")


def check_pair_async(backend, make, op) -> None:
    asyncio.run(asyncio.wait_for(_pair_async(backend, make, op), timeout=10))


async def _pair_async(backend, make, op) -> None:
    """``await __acall__()`` waits for the missing side, which arrives later."""
    p = make()
    a, b = np.ones((3, 2), "float32"), np.full((3, 2), 4.0, "float32")
    p.push_a(make_msg(backend, a))
    loop = asyncio.get_running_loop()
    loop.call_later(0.02, p.push_b, make_msg(backend, b))
    task = asyncio.ensure_future(p.__acall__())
    await asyncio.sleep(0)
    assert not task.done(), "must wait for B"
    out = await asyncio.wait_for(task, timeout=5)
    assert_close(out.data, op(a, b), xp=backend.xp, device=backend.device, dtype="float32")
    # Both sides already there: returns at once. __anext__ is the same call.
    p.push_b(make_msg(backend, b))
    p.push_a(make_msg(backend, a))
    out2 = await asyncio.wait_for(p.__anext__(), timeout=5)
    assert_close(out2.data, op(a, b), xp=backend.xp, device=backend.device, dtype="float32")


# Contract checks with the signature (backend, make_processor, numpy_op).
PAIR_CHECKS = (
    check_pair_order,
    check_pair_shape_mismatch,
    check_pair_namespace_mismatch,
    check_pair_int_and_empty,
    check_pair_pickled_state,
    check_pair_async,
)


def pair_check_id(check) -> str:
    return check.__name__.removeprefix("check_pair_")
