import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend.layout import as_contiguous, is_contiguous
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)
from ezmsg_sigproc_units.transpose import (
    TransposeSettings,
    TransposeState,
    TransposeTransformer,
    transpose,
)

DIMS = ["time", "ch", "freq"]


def _host(shape=(5, 3, 4), dtype="float64"):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def _msg(backend, host, dims=DIMS):
    axes = {"time": AxisArray.TimeAxis(fs=10.0),
            "ch": AxisArray.CoordinateAxis(data=np.array(["a", "b", "c"]), dims=["ch"]),
            "freq": AxisArray.LinearAxis(gain=2.0, offset=1.0)}
    return AxisArray(backend.asarray(host), dims=list(dims),
                     axes={k: v for k, v in axes.items() if k in dims}, key="k")


@pytest.mark.parametrize("axes,perm", [
    (("freq", "time", "ch"), (2, 0, 1)),
    ((2, 0, 1), (2, 0, 1)),
    (("freq", ...), (2, 0, 1)),
    ((..., "time"), (1, 2, 0)),
    (("ch", ..., 0), (1, 2, 0)),
    ((-1, "time"), (2, 0, 1)),
    (("ch",), (1, 0, 2)),  # dims left out follow in their current order
])
def test_permutes_data_and_dims(backend, float_dtype, axes, perm):
    host = _host(dtype=float_dtype)
    msg = _msg(backend, host)
    proc = transpose(axes=axes)
    out = proc(msg)
    assert_close(out.data, np.transpose(host, perm), xp=backend.xp, device=backend.device,
                 dtype=host.dtype)
    assert out.dims == [DIMS[i] for i in perm]
    assert out.axes == msg.axes and out.axes is not msg.axes
    assert out.key == "k"
    assert proc.state.axes_ints == perm


@pytest.mark.parametrize("axes", [None, ("time", "ch", "freq"), (...,), ("time",), ()])
def test_identity_returns_the_input_message(backend, axes):
    msg = _msg(backend, _host())
    proc = transpose(axes=axes)
    assert proc(msg) is msg
    assert proc.state.axes_ints is None


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("axes", [None, ("freq", ...)])
def test_order(backend, order, axes):
    host = _host()
    out = transpose(axes=axes, order=order)(_msg(backend, host))
    ref = host if axes is None else np.transpose(host, (2, 0, 1))
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)
    if backend.library in ("numpy", "torch", "cupy"):
        assert is_contiguous(out.data, order) is True
    else:
        assert is_contiguous(out.data, order) is None


def test_order_without_permutation_is_a_new_message():
    msg = AxisArray(_host(), dims=DIMS)
    out = transpose(order="F")(msg)
    assert out is not msg and out.data.flags["F_CONTIGUOUS"]
    assert out.dims == DIMS


def test_empty_chunk_keeps_shape(backend):
    out = transpose(axes=("ch", ...))(_msg(backend, _host(shape=(0, 3, 4))))
    assert tuple(out.data.shape) == (3, 0, 4)
    assert out.dims == ["ch", "time", "freq"]


def test_chunked_equals_whole(backend, float_dtype):
    host = _host(shape=(12, 3, 4), dtype=float_dtype)
    assert_chunked_equals_whole(lambda: transpose(axes=("freq", "ch", "time"), order="C"),
                                _msg(backend, host), reference=np.transpose(host, (2, 1, 0)))
    assert_pickle_resumes(lambda: transpose(axes=("freq", ...)), _msg(backend, host),
                          split_at=5)


def test_input_not_mutated(backend):
    host = _host()
    msg = _msg(backend, host)
    axes_before = dict(msg.axes)
    transpose(axes=("freq", ...), order="F")(msg)
    assert msg.dims == DIMS and msg.axes == axes_before
    assert_close(msg.data, host, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_dims_change_recomputes_permutation(backend):
    proc = transpose(axes=("ch", ...))
    assert proc(_msg(backend, _host())).dims == ["ch", "time", "freq"]
    out = proc(_msg(backend, _host(shape=(5, 3)), dims=["time", "ch"]))
    assert out.dims == ["ch", "time"]
    assert proc.state.axes_ints == (1, 0)


def test_update_settings_order_keeps_state_axes_resets():
    proc = transpose(axes=("ch", ...))
    msg = AxisArray(_host(), dims=DIMS)
    proc(msg)
    proc.update_settings(TransposeSettings(axes=("ch", ...), order="F"))
    assert proc._hash != -1  # no reset requested: "order" is a non-reset field
    assert proc(msg).data.flags["F_CONTIGUOUS"]
    proc.update_settings(TransposeSettings(axes=("freq", ...), order="F"))
    assert proc(msg).dims == ["freq", "time", "ch"]


@pytest.mark.parametrize("kwargs,match", [
    ({"order": "X"}, "^order"),
    ({"axes": (..., "ch", ...)}, "^axes: more than one Ellipsis"),
    ({"axes": ("ch", "ch")}, "^axes: 'ch' appears twice"),
    ({"axes": ("ch", 1.5)}, "^axes"),
    ({"axes": ("ch", True)}, "^axes"),
    ({"axes": "ch"}, "^axes"),
])
def test_settings_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TransposeSettings(**kwargs)


@pytest.mark.parametrize("axes,match", [
    (("nope", ...), r"axes: .*'nope'.*\['time', 'ch', 'freq'\]"),
    (("ch", 1), r"axes: dim 'ch' is named twice"),
    ((3, ...), r"axes: index 3 is out of range for dims \['time', 'ch', 'freq'\]"),
    ((-4,), r"axes: index -4"),
])
def test_bad_axes_for_the_message(backend, axes, match):
    with pytest.raises(ValueError, match=match):
        transpose(axes=axes)(_msg(backend, _host()))


def test_defaults_and_api():
    s = TransposeSettings()
    assert (s.axes, s.order) == (None, None)
    assert TransposeState().axes_ints is None
    assert TransposeTransformer.NONRESET_SETTINGS_FIELDS == frozenset({"order"})


@pytest.mark.parametrize("order", ["C", "F"])
def test_as_contiguous(backend, order):
    xp = backend.xp
    x = xp.permute_dims(backend.asarray(_host()), (2, 0, 1))
    y = as_contiguous(x, order)
    assert_close(y, np.transpose(_host(), (2, 0, 1)), xp=xp, device=backend.device,
                 dtype="float64" if backend.supports_float64() else None)
    if backend.library in ("numpy", "torch", "cupy"):
        assert is_contiguous(y, order) and not is_contiguous(x, order)
        assert as_contiguous(y, order) is y or backend.library == "torch"
    else:
        assert y is x
    with pytest.raises(ValueError, match="^order"):
        as_contiguous(x, "K")
