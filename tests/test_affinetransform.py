import logging

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.affinetransform import (
    AffineTransformSettings,
    AffineTransformTransformer,
    CommonRereferenceSettings,
    CommonRereferenceTransformer,
    affine_transform,
    common_rereference,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)
from ezmsg_sigproc_units.util.rereference import car_matrix

N_CH = 8
BANKS = np.array(list("ABBABBAB"))
GROUPS = [[0, 1, 2], [4, 5, 6, 7]]  # channel 3 in no group


def _host(n=24, ch=N_CH, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype(dtype)


def _msg(backend, host, labels=True, dims=("time", "ch"), stream_dim=None):
    ch_len = host.shape[dims.index("ch")]
    axes = {"time": AxisArray.TimeAxis(fs=100.0)}
    if labels:
        rec = np.array([(f"c{i}", BANKS[i % len(BANKS)]) for i in range(ch_len)],
                       dtype=[("label", "U4"), ("bank", "U1")])
        axes["ch"] = AxisArray.CoordinateAxis(data=rec, dims=["ch"])
    return AxisArray(backend.asarray(host), dims=list(dims), axes=axes, stream_dim=stream_dim)


def _car_ref(host, mode, include_current, groups):
    out = host.astype(np.float64).copy()
    stat = np.mean if mode == "mean" else np.median
    for g in groups:
        for i in g:
            members = [j for j in g if include_current or j != i]
            if not members:
                continue
            out[:, i] = host[:, i] - stat(host[:, members], axis=1)
    return out


RNG = np.random.default_rng(7)
W = RNG.standard_normal((N_CH, 5))
W_STACKED = RNG.standard_normal((N_CH + 1, N_CH))
W_BLOCKS = np.zeros((N_CH, N_CH))
W_BLOCKS[:3, :2] = RNG.standard_normal((3, 2))
W_BLOCKS[3:, 2:] = RNG.standard_normal((5, 6))
PERM_IN, PERM_OUT = RNG.permutation(N_CH), RNG.permutation(N_CH)
W_PERMUTED = W_BLOCKS[PERM_IN][:, PERM_OUT]


def _ref(host, w):
    if callable(w):
        return w(host)
    if w.shape[0] == host.shape[1] + 1:
        return host @ w[:-1] + w[-1:]
    return host @ w


AFFINE_CASES = {
    "dense": (dict(weights=W), W),
    "offset row": (dict(weights=W_STACKED), W_STACKED),
    "transposed": (dict(weights=W.T.copy(), right_multiply=False), W),
    "car per bank": (dict(weights="car", channel_groups="bank"),
                     lambda h: _car_ref(h, "mean", True, [[0, 3, 6], [1, 2, 4, 5, 7]])),
    "blocks": (dict(weights=W_BLOCKS, kernel="blocks"), W_BLOCKS),
    "permuted blocks": (dict(weights=W_PERMUTED, kernel="blocks"), W_PERMUTED),
    "factory(n, groups)": (
        dict(weights=lambda n, groups: car_matrix(n, groups=groups, include_current=False),
             channel_groups=GROUPS),
        lambda h: _car_ref(h, "mean", False, GROUPS)),
    "factory(n)": (dict(weights=lambda n: np.eye(n)[:, ::-1] * 2.0), np.eye(N_CH)[:, ::-1] * 2),
}


@pytest.mark.parametrize("case", list(AFFINE_CASES))
def test_affine_chunked_equals_whole_equals_matmul(backend, float_dtype, case):
    kw, w = AFFINE_CASES[case]
    host = _host(dtype=float_dtype)
    assert_chunked_equals_whole(lambda: affine_transform(**kw), _msg(backend, host),
                                reference=_ref(host, w))


def test_affine_csv_weights(backend, tmp_path):
    path = tmp_path / "w.csv"
    np.savetxt(path, W, delimiter=",")
    host = _host(dtype="float32")
    out = affine_transform(str(path))(_msg(backend, host))
    assert_close(out.data, host @ W, xp=backend.xp, device=backend.device, dtype="float32")


@pytest.mark.parametrize("case", ["dense", "permuted blocks"])
def test_affine_pickle_resumes(backend, case):
    assert_pickle_resumes(lambda: affine_transform(**AFFINE_CASES[case][0]),
                          _msg(backend, _host(seed=3, dtype="float32")), split_at=9)


def test_blocks_plan_matches_dense_and_auto_picks_dense_for_small():
    host = _host(dtype="float32")
    proc = affine_transform(W_PERMUTED, kernel="blocks")
    proc(_msg(_numpy(), host))
    assert len(proc.state.blocks) == 2 and proc.state.in_perm is not None
    auto = affine_transform(W_BLOCKS)
    auto(_msg(_numpy(), host))
    assert auto.state.blocks is None and auto.state.weights is not None


def _numpy():
    from ezmsg_sigproc_units.testing import Backend

    return Backend.NUMPY


def test_channel_dim_first(backend):
    host = _host()
    msg = _msg(backend, np.ascontiguousarray(host.T), dims=("ch", "time"))
    out = affine_transform(W, axis="ch")(msg)
    assert out.dims == ["ch", "time"]
    assert_close(out.data, (host @ W).T, xp=backend.xp, device=backend.device, dtype="float64")
    # a declared stream_dim makes "ch" the default channel dim
    msg = _msg(backend, np.ascontiguousarray(host.T), dims=("ch", "time"), stream_dim="time")
    out = common_rereference()(msg)
    ref = host - host.mean(axis=1, keepdims=True)
    assert_close(out.data, ref.T, xp=backend.xp, device=backend.device, dtype="float64")


def test_weights_shape_mismatch_names_both_sizes():
    with pytest.raises(ValueError, match=r"^weights: .*\(5, 5\).*5 input rows.*6 channels"):
        affine_transform(np.eye(5))(_msg(_numpy(), _host(ch=6)))


def test_channel_count_change_resets_and_logs(backend, caplog):
    proc = affine_transform("car")
    proc(_msg(backend, _host(ch=8)))
    host = _host(ch=6, seed=2)
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        out = proc(_msg(backend, host))
    assert "changed from 8 to 6" in caplog.text
    assert_close(out.data, host - host.mean(1, keepdims=True), xp=backend.xp,
                 device=backend.device, dtype="float64")
    car = common_rereference()
    car(_msg(backend, _host(ch=8)))
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        car(_msg(backend, host))
    assert "CommonRereferenceTransformer: channel count on 'ch' changed from 8 to 6" in caplog.text


def test_output_labels_for_selection_expansion_and_mixing():
    host = _host(dtype="float32")
    sel = np.zeros((N_CH, 3))
    sel[[1, 4, 6], [0, 1, 2]] = 1.0
    out = affine_transform(sel)(_msg(_numpy(), host))
    assert out.axes["ch"].data["label"].tolist() == ["c1", "c4", "c6"]
    expand = np.zeros((N_CH, 10))
    cols = [0, 1, 3, 4, 5, 6, 8, 9]
    expand[np.arange(N_CH), cols] = 1.0
    out = affine_transform(expand)(_msg(_numpy(), host))
    labels = out.axes["ch"].data["label"]
    assert labels[cols].tolist() == [f"c{i}" for i in range(N_CH)]
    assert labels[[2, 7]].tolist() == ["", ""]
    out = affine_transform(W)(_msg(_numpy(), host))
    assert out.axes["ch"].data.shape == (5,)
    # square weights and offset rows keep the labels as they are
    msg = _msg(_numpy(), host)
    assert affine_transform(W_STACKED)(msg).axes["ch"] is msg.axes["ch"]


@pytest.mark.parametrize("weights", [None, "passthrough"])
def test_passthrough_returns_input(weights):
    import asyncio

    msg = _msg(_numpy(), _host())
    assert affine_transform(weights)(msg) is msg
    assert asyncio.run(affine_transform(weights).__acall__(msg)) is msg  # the Unit's path
    assert common_rereference(mode="passthrough")(msg) is msg
    assert asyncio.run(common_rereference(mode="passthrough").__acall__(msg)) is msg


def test_integer_input_is_computed_in_float(backend):
    host = np.arange(48, dtype="int32").reshape(6, 8) % 5
    msg = _msg(backend, host)
    dt = "float64" if backend.supports_float64() else "float32"
    out = affine_transform(W)(msg)
    assert_close(out.data, host @ W, xp=backend.xp, device=backend.device, dtype=dt)
    out = common_rereference(mode="median")(msg)
    assert_close(out.data, host - np.median(host, 1, keepdims=True), xp=backend.xp,
                 device=backend.device, dtype=dt)


def test_input_not_mutated_and_state_not_a_view():
    host = _host()
    msg = _msg(_numpy(), host.copy())
    w = W.copy()
    proc = affine_transform(w)
    first = proc(msg).data.copy()
    np.testing.assert_array_equal(msg.data, host)
    w[:] = 0.0  # the settings' array changing later does not reach the state
    np.testing.assert_allclose(proc(msg).data, first)
    for mode in ("mean", "median"):
        common_rereference(mode=mode, channel_groups=GROUPS)(msg)
        np.testing.assert_array_equal(msg.data, host)


@pytest.mark.parametrize("recalc", [False, True])
def test_set_weights(backend, recalc):
    host = _host(dtype="float32")
    proc = affine_transform(W_BLOCKS, kernel="blocks")
    proc(_msg(backend, host))
    new = W_BLOCKS * 3.0
    proc.set_weights(backend.asarray(new.astype("float32")), recalc_structure=recalc)
    out = proc(_msg(backend, host))
    assert_close(out.data, host @ new, xp=backend.xp, device=backend.device, dtype="float32")
    dense = affine_transform(W)
    dense(_msg(backend, host))
    dense.set_weights(W_STACKED[:, :5], recalc_structure=recalc)
    out = dense(_msg(backend, host))
    assert_close(out.data, _ref(host, W_STACKED[:, :5]), xp=backend.xp, device=backend.device,
                 dtype="float32")
    with pytest.raises(ValueError, match="^weights"):
        dense.set_weights(np.eye(3))


def test_missing_axis_raises():
    msg = _msg(_numpy(), _host())
    with pytest.raises(ValueError, match="^axis: .*'chan'.*'time', 'ch'"):
        affine_transform(W, axis="chan")(msg)
    with pytest.raises(ValueError, match="^axis: .*'chan'"):
        common_rereference(axis="chan")(msg)


@pytest.mark.parametrize("kw, field", [
    (dict(weights=W, kernel="sparse"), "kernel"),
    (dict(weights="no/such/file.csv"), "weights"),
    (dict(weights=np.ones(3)), "weights"),
    (dict(weights=np.array([["a", "b"]])), "weights"),
    (dict(weights=W, axis=""), "axis"),
    (dict(weights=W, right_multiply=1), "right_multiply"),
    (dict(weights="car", channel_groups=[[0, 1], [1, 2]]), "channel_groups"),
    (dict(weights="car", channel_groups=[[0, -1]]), "channel_groups"),
    (dict(weights="car", channel_groups=["bank", [0, 1]]), "channel_groups"),
])
def test_bad_affine_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        AffineTransformSettings(**kw)


def test_bad_csv_contents(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,2\nx,y\n")
    with pytest.raises(ValueError, match="^weights: cannot read"):
        affine_transform(path)


@pytest.mark.parametrize("kw, field", [
    (dict(mode="max"), "mode"), (dict(include_current="no"), "include_current"),
    (dict(channel_groups=[[0, 0]]), "channel_groups"), (dict(axis=3), "axis"),
])
def test_bad_car_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        CommonRereferenceSettings(**kw)


CAR_GROUPS = {"all": None, "index groups": GROUPS, "bank": "bank", "one channel": [[3]]}
CAR_GROUP_LISTS = {"all": [list(range(N_CH))], "index groups": GROUPS,
                   "bank": [[0, 3, 6], [1, 2, 4, 5, 7]], "one channel": [[3]]}


@pytest.mark.parametrize("mode", ["mean", "median"])
@pytest.mark.parametrize("include_current", [True, False])
@pytest.mark.parametrize("groups", list(CAR_GROUPS))
def test_car_chunked_equals_whole_equals_reference(backend, float_dtype, mode, include_current,
                                                   groups):
    host = _host(n=12, dtype=float_dtype, seed=5)
    ref = _car_ref(host, mode, include_current, CAR_GROUP_LISTS[groups])
    make = lambda: common_rereference(mode=mode, include_current=include_current,  # noqa: E731
                                      channel_groups=CAR_GROUPS[groups])
    assert_chunked_equals_whole(make, _msg(backend, host), reference=ref)


def test_car_pickle_resumes(backend):
    make = lambda: CommonRereferenceTransformer(CommonRereferenceSettings(  # noqa: E731
        mode="median", include_current=False, channel_groups=GROUPS))
    assert_pickle_resumes(make, _msg(backend, _host(seed=4, dtype="float32")), split_at=7)


def test_car_reset_on_bank_change():
    """Channel metadata is part of the reset rule: new banks regroup at once."""
    host = _host()
    proc = common_rereference(channel_groups="bank")
    proc(_msg(_numpy(), host))
    msg = _msg(_numpy(), host)
    rec = msg.axes["ch"].data.copy()
    rec["bank"] = "A"
    msg = AxisArray(msg.data, dims=msg.dims, axes={**msg.axes, "ch": AxisArray.CoordinateAxis(
        data=rec, dims=["ch"])})
    np.testing.assert_allclose(proc(msg).data, host - host.mean(1, keepdims=True))


def test_transformer_classes_take_settings():
    assert isinstance(AffineTransformTransformer(AffineTransformSettings(weights=W)),
                      AffineTransformTransformer)


def test_channel_dim_that_is_the_stream_dim_still_resets():
    """(ch, time) without a declared stream_dim: the default channel dim is the last one,
    "time" (as the peer), which is also the stream dim; its length still resets the state."""
    proc = affine_transform("car")
    for n in (10, 12):
        host = _host(n=3, ch=n, seed=n)
        msg = AxisArray(host, dims=["ch", "time"], axes={"time": AxisArray.TimeAxis(fs=100.0)})
        np.testing.assert_allclose(proc(msg).data, host - host.mean(1, keepdims=True))


def _spatial_configs():
    from ezmsg_sigproc_units.testing import catalog

    return [c for c in catalog.configs() if c.module == "affinetransform"]


@pytest.mark.parametrize("cfg", _spatial_configs(), ids=lambda c: c.label)
def test_no_host_transfer_after_the_first_message(cfg, monkeypatch):
    """On array-api-strict's device1 (no conversion to NumPy) with the host-transfer helpers
    patched to raise, a second message runs on the device: median, groups, permuted blocks."""
    import ezmsg_sigproc_units._affine_weights as aw
    import ezmsg_sigproc_units._backend.host as host
    from ezmsg_sigproc_units.testing import Backend

    b = Backend.ARRAY_API_STRICT_DEVICE1
    if b.unavailable_reason():
        pytest.skip(b.unavailable_reason())
    proc = cfg.make()
    proc(_msg(b, _host(dtype="float32")))

    def refuse(_x):
        raise AssertionError("host transfer inside _process")

    monkeypatch.setattr(host, "to_host", refuse)
    monkeypatch.setattr(aw, "to_host", refuse)
    out = proc(_msg(b, _host(dtype="float32", seed=1)))
    assert str(out.data.device) == str(b.device)


def test_csv_weights_and_label_selection_stay_on_device1(tmp_path):
    from ezmsg_sigproc_units.testing import Backend

    b = Backend.ARRAY_API_STRICT_DEVICE1
    if b.unavailable_reason():
        pytest.skip(b.unavailable_reason())
    sel = np.zeros((N_CH, 3))
    sel[[1, 4, 6], [0, 1, 2]] = 1.0
    path = tmp_path / "sel.csv"
    np.savetxt(path, sel, delimiter=",")
    proc = affine_transform(path)
    host = _host(dtype="float32")
    for _ in range(2):
        out = proc(_msg(b, host))
        assert_close(out.data, host @ sel, xp=b.xp, device=b.device, dtype="float32")
        assert out.axes["ch"].data["label"].tolist() == ["c1", "c4", "c6"]


def test_wide_chunks_use_column_blocks_refreshed_by_set_weights():
    host = _host(n=30, ch=256, dtype="float32")
    w = np.random.default_rng(9).standard_normal((256, 256)) / 16
    proc = affine_transform(w)
    out = proc(_msg(_numpy(), host, labels=False))
    assert proc.state.col_blocks is not None  # products kept on one BLAS thread
    np.testing.assert_allclose(out.data, host @ w, rtol=1e-4, atol=1e-4)
    proc.set_weights(w * 2.0)
    out = proc(_msg(_numpy(), host, labels=False))
    np.testing.assert_allclose(out.data, host @ (w * 2.0), rtol=1e-4, atol=1e-4)
