import asyncio
import pickle
from types import MappingProxyType

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.concat import ConcatProcessor, ConcatSettings, ConcatState
from ezmsg_sigproc_units.testing import Backend, assert_close

FS = 100.0


def _msg(backend, host, labels=None, attrs=None, key="k", fs=FS, offset=1.0, coords=None):
    if coords is None:
        labels = labels if labels is not None else [f"c{i}" for i in range(host.shape[1])]
        coords = np.asarray(labels)
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=fs, offset=offset),
                           "ch": AxisArray.CoordinateAxis(coords, dims=["ch"])},
                     attrs=dict(attrs or {}), key=key)


def _host(n, ch, seed=0, dtype="float32"):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def test_existing_axis_every_backend(backend, float_dtype):
    ha, hb = _host(12, 3, 0, float_dtype), _host(12, 2, 1, float_dtype)
    a, b = _msg(backend, ha), _msg(backend, hb, labels=["x", "y"], key="kb")
    proc = ConcatProcessor(ConcatSettings())
    proc.push_a(a)
    assert proc() is None
    proc.push_b(b)
    out = proc()
    xp, dev = backend.xp, backend.device
    assert_close(out.data, np.concatenate([ha, hb], axis=1), xp=xp, device=dev,
                 dtype=float_dtype)
    assert out.dims == ["time", "ch"] and out.key == "k"
    assert list(out.axes["ch"].data) == ["c0_a", "c1_a", "c2_a", "x_b", "y_b"]
    assert out.axes["time"].offset == 1.0 and out.axes["time"].gain == 1 / FS


def test_new_axis_every_backend(backend):
    ha, hb = _host(7, 3, 0), _host(7, 3, 1)
    proc = ConcatProcessor(ConcatSettings(axis="feature", label_a="spk", label_b="sbp"))
    out = proc._concat(_msg(backend, ha), _msg(backend, hb))
    assert out.dims == ["time", "ch", "feature"]
    assert_close(out.data, np.stack([ha, hb], axis=-1), xp=backend.xp,
                 device=backend.device, dtype="float32")
    assert list(out.axes["feature"].data) == ["spk", "sbp"]
    assert list(out.axes["ch"].data) == ["c0", "c1", "c2"]


def test_relabel_off_and_new_key():
    out = ConcatProcessor(ConcatSettings(relabel_axis=False, new_key="joined"))._concat(
        _msg(Backend.NUMPY, _host(4, 2)), _msg(Backend.NUMPY, _host(4, 1), labels=["z"]))
    assert list(out.axes["ch"].data) == ["c0", "c1", "z"] and out.key == "joined"


def test_struct_coordinates_keep_every_field():
    ra = np.zeros(2, dtype=[("label", "U3"), ("bank", "i4")])
    ra["label"], ra["bank"] = ["a", "b"], [1, 2]
    rb = np.zeros(1, dtype=[("x", "f8")])
    rb["x"] = 0.5
    out = ConcatProcessor(ConcatSettings())._concat(
        _msg(Backend.NUMPY, _host(3, 2), coords=ra), _msg(Backend.NUMPY, _host(3, 1), coords=rb))
    d = out.axes["ch"].data
    assert list(d["label"]) == ["a_a", "b_a", "0_b"]
    assert list(d["bank"]) == [1, 2, 0] and list(d["x"]) == [0.0, 0.0, 0.5]


def test_attrs_equal_kept_others_promoted():
    a = _msg(Backend.NUMPY, _host(4, 2), attrs={"u": 1, "s": "A"})
    b = _msg(Backend.NUMPY, _host(4, 3), attrs={"u": 1, "s": "BB", "f": 2.5})
    out = ConcatProcessor(ConcatSettings())._concat(a, b)
    assert out.attrs == {"u": 1}
    d = out.axes["ch"].data
    assert list(d["label"]) == ["c0_a", "c1_a", "c0_b", "c1_b", "c2_b"]
    assert list(d["s"]) == ["A", "A", "BB", "BB", "BB"]
    assert np.isnan(d["f"][:2]).all() and list(d["f"][2:]) == [2.5] * 3
    with pytest.raises(TypeError, match="attrs"):
        ConcatProcessor(ConcatSettings())._concat(
            _msg(Backend.NUMPY, _host(4, 2), attrs={"m": [1, 2]}), b)


def test_metadata_follows_changes_midstream():
    proc = ConcatProcessor(ConcatSettings())
    a, b = _msg(Backend.NUMPY, _host(4, 2)), _msg(Backend.NUMPY, _host(4, 1), labels=["z"])
    assert list(proc._concat(a, b).axes["ch"].data)[-1] == "z_b"
    b2 = _msg(Backend.NUMPY, _host(4, 1), labels=["w"])
    assert list(proc._concat(a, b2).axes["ch"].data)[-1] == "w_b"
    b3 = _msg(Backend.NUMPY, _host(4, 2), labels=["p", "q"])
    out = proc._concat(a, b3)
    assert out.data.shape == (4, 4) and list(out.axes["ch"].data)[-2:] == ["p_b", "q_b"]


def test_time_offset_read_live():
    proc = ConcatProcessor(ConcatSettings())
    for k in range(3):
        out = proc._concat(_msg(Backend.NUMPY, _host(4, 2), offset=k * 0.04),
                           _msg(Backend.NUMPY, _host(4, 1), offset=k * 0.04 + 0.001))
        assert out.axes["time"].offset == k * 0.04


def test_different_rates_raise_naming_both():
    with pytest.raises(ValueError, match=r"100 Hz.*250 Hz"):
        ConcatProcessor(ConcatSettings())._concat(_msg(Backend.NUMPY, _host(4, 2)),
                                                  _msg(Backend.NUMPY, _host(4, 2), fs=250.0))


def test_bad_shapes_and_axes_raise():
    proc = ConcatProcessor(ConcatSettings())
    with pytest.raises(ValueError, match="^axis: cannot join"):
        proc._concat(_msg(Backend.NUMPY, _host(4, 2)), _msg(Backend.NUMPY, _host(5, 2)))
    with pytest.raises(ValueError, match="^axis: cannot stack"):
        ConcatProcessor(ConcatSettings(axis="f"))._concat(_msg(Backend.NUMPY, _host(4, 2)),
                                                           _msg(Backend.NUMPY, _host(4, 3)))
    lone = AxisArray(np.zeros((4, 2), np.float32), dims=["time", "x"],
                     axes={"time": AxisArray.TimeAxis(fs=FS)})
    with pytest.raises(ValueError, match="^axis: 'ch' is a dim of input A only"):
        proc._concat(_msg(Backend.NUMPY, _host(4, 2)), lone)


def test_assert_identical_shared_axes():
    a = AxisArray(np.zeros((4, 2, 3), np.float32), dims=["time", "ch", "freq"],
                  axes={"time": AxisArray.TimeAxis(fs=FS),
                        "freq": AxisArray.LinearAxis(gain=1.0, offset=0.0)})
    b = AxisArray(np.zeros((4, 1, 3), np.float32), dims=["time", "ch", "freq"],
                  axes={"time": AxisArray.TimeAxis(fs=FS),
                        "freq": AxisArray.LinearAxis(gain=1.0, offset=70.0)})
    assert ConcatProcessor(ConcatSettings())._concat(a, b).data.shape == (4, 3, 3)
    with pytest.raises(ValueError, match="^assert_identical_shared_axes: axis 'freq'"):
        ConcatProcessor(ConcatSettings(assert_identical_shared_axes=True))._concat(a, b)


def test_backend_mismatch():
    if Backend.TORCH.unavailable_reason() is not None:
        pytest.skip("torch not installed")
    a = _msg(Backend.NUMPY, _host(4, 2))
    b = _msg(Backend.TORCH, _host(4, 1))
    with pytest.raises(TypeError, match="different array libraries"):
        ConcatProcessor(ConcatSettings())._concat(a, b)
    out = ConcatProcessor(ConcatSettings(auto_coerce_backend=True))._concat(b, a)
    assert_close(out.data, np.concatenate([_host(4, 1), _host(4, 2)], 1),
                 xp=Backend.TORCH.xp, device=Backend.TORCH.device, dtype="float32")


def test_device_mismatch():
    dev1 = Backend.ARRAY_API_STRICT_DEVICE1
    a, b = _msg(Backend.ARRAY_API_STRICT, _host(4, 2)), _msg(dev1, _host(4, 1))
    with pytest.raises(ValueError, match="different devices"):
        ConcatProcessor(ConcatSettings())._concat(a, b)
    out = ConcatProcessor(ConcatSettings(auto_coerce_backend=True))._concat(b, a)
    assert_close(out.data, np.concatenate([_host(4, 1), _host(4, 2)], 1),
                 xp=dev1.xp, device=dev1.device, dtype="float32")


def test_fifo_pairing_pickles_and_awaits():
    proc = ConcatProcessor(ConcatSettings())
    msgs_a = [_msg(Backend.NUMPY, _host(3, 2, s)) for s in range(3)]
    msgs_b = [_msg(Backend.NUMPY, _host(3, 1, 10 + s), labels=["z"]) for s in range(3)]
    for m in msgs_a:
        proc.push_a(m)
    proc.push_b(msgs_b[0])
    first = proc()
    assert proc() is None
    restored = ConcatProcessor(ConcatSettings())
    restored.state = pickle.dumps(proc.state)
    assert isinstance(restored.state, ConcatState)
    for p in (proc, restored):
        p.push_b(msgs_b[1])
        p.push_b(msgs_b[2])
    outs = [[proc(), proc()], [restored(), restored()]]
    for k in range(2):
        ref = np.concatenate([msgs_a[k + 1].data, msgs_b[k + 1].data], 1)
        np.testing.assert_array_equal(outs[0][k].data, ref)
        np.testing.assert_array_equal(outs[1][k].data, ref)
    np.testing.assert_array_equal(first.data, np.concatenate([msgs_a[0].data, msgs_b[0].data], 1))

    async def run():
        p = ConcatProcessor(ConcatSettings())
        task = asyncio.ensure_future(p.__acall__())
        await asyncio.sleep(0)
        p.push_a(msgs_a[0])
        await asyncio.sleep(0)
        assert not task.done()
        p.push_b(msgs_b[0])
        return await asyncio.wait_for(task, 1.0)

    assert asyncio.run(run()).data.shape == (3, 3)


def test_inputs_untouched_and_read_only_axes():
    a, b = _msg(Backend.NUMPY, _host(4, 2)), _msg(Backend.NUMPY, _host(4, 1))
    a = AxisArray(a.data, dims=a.dims, axes=MappingProxyType(dict(a.axes)), key="k")
    before = (a.data.copy(), dict(a.axes), b.data.copy())
    out = ConcatProcessor(ConcatSettings())._concat(a, b)
    out.data[:] = 0
    np.testing.assert_array_equal(a.data, before[0])
    np.testing.assert_array_equal(b.data, before[2])
    assert dict(a.axes) == before[1] and out.axes["ch"] is not a.axes["ch"]


@pytest.mark.parametrize("field,value", [("axis", ""), ("axis", 3), ("label_a", None),
                                         ("align_axis", ""), ("new_key", 5)])
def test_bad_settings(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        ConcatSettings(**{field: value})


def test_repeated_metadata_objects():
    """A source that reuses its channel axis object (the identity shortcut): the time axis is
    still read live, data always joined fresh, and changes of labels, attrs, lengths or
    dtype still noticed."""
    ch_a = AxisArray.CoordinateAxis(np.asarray(["x", "y"]), dims=["ch"])
    ch_b = AxisArray.CoordinateAxis(np.asarray(["z"]), dims=["ch"])

    def m(host, ch, offset, attrs=None):
        return AxisArray(host, dims=["time", "ch"],
                         axes={"time": AxisArray.TimeAxis(fs=FS, offset=offset), "ch": ch},
                         attrs=attrs or {}, key="k")

    proc = ConcatProcessor(ConcatSettings())
    for k in range(4):
        ha, hb = _host(5, 2, k), _host(5, 1, 10 + k)
        out = proc._concat(m(ha, ch_a, k * 0.05), m(hb, ch_b, k * 0.05))
        np.testing.assert_array_equal(out.data, np.concatenate([ha, hb], 1))
        assert out.axes["time"].offset == k * 0.05
        assert list(out.axes["ch"].data) == ["x_a", "y_a", "z_b"]
    out = proc._concat(m(_host(5, 2), ch_a, 1.0, {"s": "A"}), m(_host(5, 1), ch_b, 1.0))
    assert list(out.axes["ch"].data["s"]) == ["A", "A", ""]
    ch_w = AxisArray.CoordinateAxis(np.asarray(["w"]), dims=["ch"])
    out = proc._concat(m(_host(5, 2), ch_a, 1.0), m(_host(5, 1), ch_w, 1.0))
    assert list(out.axes["ch"].data) == ["x_a", "y_a", "w_b"] and out.attrs == {}
    out = proc._concat(m(_host(5, 2), ch_a, 1.0), m(_host(5, 1, dtype="float64"), ch_w, 1.0))
    assert out.data.dtype == np.float64
    with pytest.raises(ValueError, match="^axis: cannot join"):
        proc._concat(m(_host(5, 2), ch_a, 1.0), m(_host(6, 1), ch_w, 1.0))


def test_any_interleaving_same_pairs():
    msgs_a = [_msg(Backend.NUMPY, _host(n, 2, s)) for s, n in enumerate([3, 0, 1, 5, 2])]
    msgs_b = [_msg(Backend.NUMPY, _host(n, 1, 9 + s), labels=["z"])
              for s, n in enumerate([3, 0, 1, 5, 2])]
    ref = [np.concatenate([a.data, b.data], 1) for a, b in zip(msgs_a, msgs_b, strict=True)]
    rng = np.random.default_rng(0)
    for _ in range(5):
        order = np.array([0] * 5 + [1] * 5)
        rng.shuffle(order)
        proc, ia, ib, outs = ConcatProcessor(ConcatSettings()), 0, 0, []
        for side in order:
            if side == 0:
                proc.push_a(msgs_a[ia])
                ia += 1
            else:
                proc.push_b(msgs_b[ib])
                ib += 1
            while (out := proc()) is not None:
                outs.append(out.data)
        assert len(outs) == 5
        for got, want in zip(outs, ref, strict=True):
            np.testing.assert_array_equal(got, want)
