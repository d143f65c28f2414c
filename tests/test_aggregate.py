"""AggregateTransformer and RangedAggregateTransformer on every backend against NumPy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from ezmsg_sigproc_units.aggregate import (
    AggregateSettings,
    AggregateTransformer,
    AggregateUnit,
    AggregationFunction,
    RangedAggregate,
    RangedAggregateSettings,
    RangedAggregateState,
    RangedAggregateTransformer,
    ranged_aggregate,
)
from ezmsg_sigproc_units.testing import (
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)

AF = AggregationFunction
OPS = [op for op in AF if op is not AF.NONE]
ARG = (AF.ARGMIN, AF.ARGMAX)
FREQS = np.array([1.0, 3.0, 5.0, 7.0])
PEER = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]], dtype=float)


def _ref(op: AF, h: np.ndarray, axis: int, coords: np.ndarray) -> np.ndarray:
    """NumPy reference with coordinate semantics for argmin/argmax/trapezoid."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if op in ARG:
            return coords[getattr(np, op.value)(h, axis=axis)]
        if op is AF.TRAPEZOID:
            return np.trapezoid(h, coords, axis=axis)
        return getattr(np, op.value)(h, axis=axis)


def _spectrum(backend, dtype: str, freq_axis=None, n_time=5, nans=True):
    """(time, freq, ch) data; freq coordinates 1, 3, ..., 17 Hz unless ``freq_axis``."""
    rng = np.random.default_rng(3)
    h = rng.standard_normal((n_time, 9, 3))
    if nans and n_time >= 3:
        h[1, 2, 0] = np.nan
        h[2, :, 1] = np.nan  # an all-NaN lane along freq
    h = h.astype(dtype)
    axes = {"time": AxisArray.TimeAxis(fs=10.0),
            "freq": freq_axis or LinearAxis(gain=2.0, offset=1.0, unit="Hz")}
    msg = AxisArray(backend.asarray(h), dims=["time", "freq", "ch"], axes=axes, key="s")
    return h, msg


# ------------------------------------------------------------------------- AggregateTransformer
@pytest.mark.parametrize("op", OPS, ids=[op.value for op in OPS])
def test_aggregate_matches_numpy(backend, float_dtype, op):
    h, msg = _spectrum(backend, float_dtype)
    out = AggregateTransformer(AggregateSettings(axis="freq", operation=op))(msg)
    ref = _ref(op, h, 1, 1.0 + 2.0 * np.arange(9))
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=h.dtype)
    assert out.dims == ["time", "ch"] and list(out.axes) == ["time"]
    assert list(msg.axes) == ["time", "freq"] and msg.dims == ["time", "freq", "ch"]
    assert_close(msg.data, h, xp=backend.xp, device=backend.device, dtype=h.dtype, rtol=0,
                 atol=0, err_msg="input mutated")


def test_aggregate_peer_values(backend):
    msg = AxisArray(backend.asarray(PEER), dims=["freq", "ch"],
                    axes={"freq": LinearAxis(gain=2.0, offset=1.0)})
    for op, expect in [(AF.MEAN, [5.5, 6.5, 7.5]), (AF.ARGMAX, [7.0, 7.0, 7.0]),
                       (AF.ARGMIN, [1.0, 1.0, 1.0]), (AF.TRAPEZOID, [33.0, 39.0, 45.0])]:
        out = AggregateTransformer(AggregateSettings(axis="freq", operation=op))(msg)
        assert_close(out.data, np.array(expect), xp=backend.xp, device=backend.device,
                     dtype=PEER.dtype, err_msg=op.value)
        assert out.dims == ["ch"] and "freq" not in out.axes


@pytest.mark.parametrize("op", [AF.ARGMAX, AF.ARGMIN, AF.TRAPEZOID])
def test_aggregate_coordinate_axis(backend, float_dtype, op):
    coords = np.array([0.5, 1.0, 2.5, 2.75, 4.0, 6.0, 6.5, 9.0, 12.0])
    h, msg = _spectrum(backend, float_dtype, CoordinateAxis(coords, dims=["freq"]), nans=False)
    proc = AggregateTransformer(AggregateSettings(axis="freq", operation=op))
    for _ in range(2):  # second call reuses the cached device coordinates
        out = proc(msg)
        assert_close(out.data, _ref(op, h, 1, coords), xp=backend.xp, device=backend.device,
                     dtype=h.dtype)
    h2, msg2 = _spectrum(backend, float_dtype, CoordinateAxis(coords * 2, dims=["freq"]),
                         nans=False)
    assert_close(proc(msg2).data, _ref(op, h2, 1, coords * 2), xp=backend.xp,
                 device=backend.device, dtype=h.dtype, err_msg="coordinates changed")


@pytest.mark.parametrize("op", [AF.ARGMAX, AF.TRAPEZOID])
def test_aggregate_without_axis_object_uses_indices(backend, op):
    msg = AxisArray(backend.asarray(PEER), dims=["freq", "ch"], axes={})
    out = AggregateTransformer(AggregateSettings(axis="freq", operation=op))(msg)
    assert_close(out.data, _ref(op, PEER, 0, np.arange(4.0)), xp=backend.xp,
                 device=backend.device, dtype=PEER.dtype)


@pytest.mark.parametrize("op", [AF.MEAN, AF.SUM, AF.ARGMAX, AF.TRAPEZOID])
def test_aggregate_integer_input_gives_default_float(backend, op):
    msg = AxisArray(backend.asarray(PEER.astype("int32")), dims=["freq", "ch"],
                    axes={"freq": LinearAxis(gain=2.0, offset=1.0)})
    out = AggregateTransformer(AggregateSettings(axis="freq", operation=op))(msg)
    dtype = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, _ref(op, PEER, 0, FREQS).astype(dtype), xp=backend.xp,
                 device=backend.device, dtype=np.dtype(dtype))


@pytest.mark.parametrize("op", [AF.MEAN, AF.ARGMAX, AF.NANMEDIAN])
def test_aggregate_empty_other_axis_keeps_shape(backend, op):
    _, msg = _spectrum(backend, "float32", n_time=0)
    out = AggregateTransformer(AggregateSettings(axis="freq", operation=op))(msg)
    assert tuple(out.data.shape) == (0, 3)


@pytest.mark.parametrize("op,fill", [(AF.MEAN, np.nan), (AF.SUM, 0.0), (AF.ARGMAX, np.nan),
                                     (AF.TRAPEZOID, 0.0)])
def test_aggregate_empty_axis(backend, op, fill):
    msg = AxisArray(backend.asarray(np.zeros((0, 3), "float32")), dims=["freq", "ch"],
                    axes={"freq": LinearAxis(gain=2.0, offset=1.0)})
    out = AggregateTransformer(AggregateSettings(axis="freq", operation=op))(msg)
    assert_close(out.data, np.full(3, fill, "float32"), xp=backend.xp, device=backend.device)


@pytest.mark.parametrize("op", [AF.NANMEDIAN, AF.ARGMAX])
def test_aggregate_chunked_equals_whole(backend, op):
    h, msg = _spectrum(backend, "float32", n_time=10)
    ref = _ref(op, h, 1, 1.0 + 2.0 * np.arange(9))
    assert_chunked_equals_whole(
        lambda: AggregateTransformer(AggregateSettings(axis="freq", operation=op)), msg,
        axis="time", reference=ref)


def test_aggregate_missing_axis_names_axis_and_dims(backend):
    _, msg = _spectrum(backend, "float32")
    with pytest.raises(ValueError, match=r"'chan'.*\['time', 'freq', 'ch'\]"):
        AggregateTransformer(AggregateSettings(axis="chan"))(msg)


def test_settings_validation():
    with pytest.raises(ValueError, match="^operation"):
        AggregateSettings(axis="freq", operation=AF.NONE)
    with pytest.raises(ValueError, match="^operation"):
        AggregateSettings(axis="freq", operation="mode")
    with pytest.raises(TypeError):
        AggregateSettings()  # axis is required
    assert AggregateSettings(axis="f", operation="nanmean").operation is AF.NANMEAN
    assert AggregateSettings(axis="f").operation is AF.MEAN
    assert AF.NONE.value == "None (all)" and AF("trapezoid") is AF.TRAPEZOID
    with pytest.raises(ValueError, match="^operation"):
        RangedAggregateSettings(bands=[(1, 2)], operation="None (all)")
    with pytest.raises(ValueError, match="^bands: band 1"):
        RangedAggregateSettings(bands=[(1, 2), (5, 1)])
    with pytest.raises(ValueError, match="^bands"):
        RangedAggregateSettings(bands=[(1, float("nan"))])
    with pytest.raises(ValueError, match="^bands"):
        RangedAggregateSettings(bands=[])
    with pytest.raises(ValueError, match="^bands: band 0"):
        RangedAggregateSettings(bands=[3.0])
    assert RangedAggregateSettings(bands=[(np.int64(1), np.float32(2))]).bands is not None
    s = RangedAggregateSettings()
    assert (s.axis, s.bands, s.operation) == (None, None, AF.MEAN)
    assert AggregateUnit.SETTINGS is AggregateSettings
    assert RangedAggregate.SETTINGS is RangedAggregateSettings


# ------------------------------------------------------------------------- RangedAggregate
BANDS = [(1.0, 3.0), (3.0, 8.0)]


def _peer_msg(backend, dtype="float64", axis=None):
    axis = axis or LinearAxis(gain=2.0, offset=1.0, unit="Hz")
    return AxisArray(backend.asarray(PEER.astype(dtype)), dims=["freq", "ch"],
                     axes={"freq": axis, "ch": CoordinateAxis(np.array(["a", "b", "c"]), ["ch"])})


UNEQUAL = [(1.0, 3.0), (4.0, 11.0), (9.0, 9.0), (0.0, 100.0)]
EQUAL = [(1.0, 5.0), (5.0, 9.0), (11.0, 15.5)]  # 3 coordinates each, two bands share 5 Hz


@pytest.mark.parametrize("bands", [UNEQUAL, EQUAL], ids=["per-band", "equal-width"])
@pytest.mark.parametrize("op", OPS, ids=[op.value for op in OPS])
def test_ranged_matches_numpy_per_band(backend, float_dtype, op, bands):
    h, msg = _spectrum(backend, float_dtype)
    coords = 1.0 + 2.0 * np.arange(9)
    proc = ranged_aggregate(axis="freq", bands=bands, operation=op)
    out = proc(msg)
    assert (proc.state.gather is not None) == (bands is EQUAL), "fast path taken iff equal"
    ref = np.stack([_ref(op, h[:, (coords >= lo) & (coords <= hi)], 1,
                         coords[(coords >= lo) & (coords <= hi)]) for lo, hi in bands], axis=1)
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=h.dtype)
    assert out.dims == ["time", "freq", "ch"]
    centers = [2.0, 8.0, 9.0, 9.0] if bands is UNEQUAL else [3.0, 7.0, 13.0]
    np.testing.assert_allclose(out.axes["freq"].data, centers)
    assert out.axes["freq"].unit == "Hz" and out.axes["freq"].dims == ["freq"]
    assert isinstance(msg.axes["freq"], LinearAxis), "input axes mutated"
    assert_close(msg.data, h, xp=backend.xp, device=backend.device, dtype=h.dtype, rtol=0,
                 atol=0, err_msg="input mutated")


def test_ranged_peer_values(backend, float_dtype):
    msg = _peer_msg(backend, float_dtype)
    for op, expect in [(AF.MEAN, [[2.5, 3.5, 4.5], [7, 8, 9]]),
                       (AF.ARGMAX, [[3, 3, 3], [7, 7, 7]]),
                       (AF.TRAPEZOID, [[5, 7, 9], [28, 32, 36]])]:
        out = ranged_aggregate(axis="freq", bands=BANDS, operation=op)(msg)
        assert_close(out.data, np.array(expect, float_dtype), xp=backend.xp,
                     device=backend.device, err_msg=op.value)
        np.testing.assert_array_equal(out.axes["freq"].data, [2.0, 5.0])
        assert out.axes["ch"] is msg.axes["ch"]


@pytest.mark.parametrize("bands,centers", [
    ([(1.0, 3.0), (4.0, 8.0), (2.0, 6.0)], [2.0, 6.0, 4.0]),
    ([(1.0, 3.0), (4.0, 8.0), (2.0, 6.0), (6.5, 7.0)], [2.0, 6.0, 4.0, 7.0]),
], ids=["equal-width", "per-band"])
@pytest.mark.parametrize("op", [AF.MEAN, AF.ARGMAX, AF.TRAPEZOID, AF.NANMEDIAN])
def test_ranged_coordinate_axis_unsorted(backend, op, bands, centers):
    """Coordinates out of order: a band's indices are not contiguous (gathered with take)."""
    coords = np.array([5.0, 1.0, 7.0, 3.0])
    msg = _peer_msg(backend, axis=CoordinateAxis(coords, dims=["freq"], unit="Hz"))
    out = ranged_aggregate(axis="freq", bands=bands, operation=op)(msg)
    ref = []
    for lo, hi in bands:
        sel = (coords >= lo) & (coords <= hi)
        ref.append(_ref(op, PEER[sel], 0, coords[sel]))
    assert_close(out.data, np.stack(ref), xp=backend.xp, device=backend.device,
                 dtype=PEER.dtype)
    np.testing.assert_array_equal(out.axes["freq"].data, centers)


def test_ranged_axis_none_is_first_dim(backend):
    msg = AxisArray(backend.asarray(PEER.T.copy()), dims=["ch", "freq"],
                    axes={"ch": LinearAxis(gain=2.0, offset=1.0),
                          "freq": LinearAxis(gain=2.0, offset=1.0)})
    out = ranged_aggregate(bands=[(1.0, 3.0)])(msg)
    assert_close(out.data, PEER.T[:2].mean(axis=0, keepdims=True), xp=backend.xp,
                 device=backend.device)
    assert out.dims == ["ch", "freq"] and isinstance(out.axes["ch"], CoordinateAxis)


def test_ranged_without_bands_passes_through(backend):
    msg = _peer_msg(backend)
    assert ranged_aggregate(axis="freq")(msg) is msg


def test_ranged_empty_band_raises_naming_bands(backend):
    proc = ranged_aggregate(axis="freq", bands=[(1.0, 3.0), (100.0, 200.0)])
    with pytest.raises(ValueError, match=r"^bands: band 1 \(100.0, 200.0\)"):
        proc(_peer_msg(backend))


def test_ranged_missing_axis_names_axis_and_dims(backend):
    with pytest.raises(ValueError, match=r"'time'.*\['freq', 'ch'\]"):
        ranged_aggregate(axis="time", bands=BANDS)(_peer_msg(backend))


@pytest.mark.parametrize("bands", [BANDS, EQUAL], ids=["per-band", "equal-width"])
@pytest.mark.parametrize("op", [AF.MEAN, AF.ARGMAX, AF.TRAPEZOID])
def test_ranged_empty_time_chunk_keeps_shape(backend, op, bands):
    _, msg = _spectrum(backend, "float32", n_time=0)
    out = ranged_aggregate(axis="freq", bands=bands, operation=op)(msg)
    assert tuple(out.data.shape) == (0, len(bands), 3)


@pytest.mark.parametrize("op,fill", [(AF.MEAN, np.nan), (AF.NANSUM, 0.0)])
def test_ranged_empty_axis(backend, op, fill):
    msg = AxisArray(backend.asarray(np.zeros((0, 3), "float32")), dims=["freq", "ch"],
                    axes={"freq": LinearAxis(gain=2.0, offset=1.0)})
    out = ranged_aggregate(axis="freq", bands=BANDS, operation=op)(msg)
    assert_close(out.data, np.full((2, 3), fill, "float32"), xp=backend.xp,
                 device=backend.device)


def test_ranged_resets_when_the_axis_moves(backend):
    proc = ranged_aggregate(axis="freq", bands=BANDS)
    proc(_peer_msg(backend))
    out = proc(_peer_msg(backend, axis=LinearAxis(gain=2.0, offset=0.0, unit="Hz")))
    # coordinates 0, 2, 4, 6: band (1, 3) is row 1 only, band (3, 8) rows 2 and 3
    assert_close(out.data, np.array([[4.0, 5, 6], [8.5, 9.5, 10.5]]), xp=backend.xp,
                 device=backend.device)


@pytest.mark.parametrize("bands", [[(1.0, 5.0), (6.0, 17.0)], EQUAL],
                         ids=["per-band", "equal-width"])
@pytest.mark.parametrize("op", [AF.MEAN, AF.ARGMAX, AF.TRAPEZOID])
def test_ranged_chunked_equals_whole_and_pickles(backend, op, bands):
    _, msg = _spectrum(backend, "float32", n_time=12)

    def make():
        return ranged_aggregate(axis="freq", bands=bands, operation=op)

    assert_chunked_equals_whole(make, msg, axis="time")
    assert_pickle_resumes(make, msg, split_at=5, axis="time")
    assert isinstance(make(), RangedAggregateTransformer)
    assert isinstance(make().state, RangedAggregateState)


# ------------------------------------------------------------- the peer's public helpers
def _np_op(op, seg, axis, coords):
    if op is AF.TRAPEZOID:
        return np.trapezoid(seg, x=coords, axis=axis)
    r = getattr(np, op.value)(seg, axis=axis)
    return coords[r] if op in ARG else r


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.value)
def test_aggregate_slices_matches_numpy(backend, float_dtype, op):
    from ezmsg_sigproc_units.aggregate import aggregate_slices

    rng = np.random.default_rng(3)
    host = rng.normal(size=(2, 12, 3))
    host[0, 4, 1] = np.nan if op.value.startswith("nan") else host[0, 4, 1]
    coords = np.sort(rng.uniform(0, 40, 12))  # irregular: a LinearAxis guess would be wrong
    slices = [slice(1, 5), slice(6, 12), slice(0, 2)]
    x = backend.asarray(host, float_dtype)
    out = aggregate_slices(x, slices, 1, op, coordinates=coords)
    ref = np.stack([_np_op(op, host[:, sl], 1, coords[sl]) for sl in slices], axis=1)
    assert_close(out, ref, xp=backend.xp, device=backend.device,
                 dtype=getattr(backend.xp, float_dtype))


def test_aggregate_slices_index_and_empty_and_missing_coordinates(backend):
    from ezmsg_sigproc_units.aggregate import aggregate_slices

    host = np.array([[1.0, 5.0, 2.0, 7.0, 3.0]])
    x = backend.asarray(host, "float32")
    idx = aggregate_slices(x, [slice(0, 3), slice(2, 5)], -1, AF.ARGMAX,
                           index_to_coordinate=False)
    from ezmsg_sigproc_units._backend import to_host

    assert to_host(idx).ravel().tolist() == [1, 1]  # within-slice positions
    empty = aggregate_slices(x, [], 1, AF.MEAN)
    assert tuple(empty.shape) == (1, 0)
    for op in (AF.ARGMIN, AF.TRAPEZOID):
        with pytest.raises(ValueError, match="^coordinates"):
            aggregate_slices(x, [slice(0, 2)], 1, op)
    with pytest.raises(ValueError, match="^coordinates"):
        aggregate_slices(x, [slice(0, 2)], 1, AF.TRAPEZOID, coordinates=np.arange(4.0))
    with pytest.raises(ValueError, match="^operation"):
        aggregate_slices(x, [slice(0, 2)], 1, AF.NONE)


def test_axis_coordinates_and_needs_coordinates():
    from ezmsg_sigproc_units.aggregate import axis_coordinates, needs_coordinates

    data = np.zeros((4, 3))
    lin = AxisArray(data, dims=["time", "ch"],
                    axes={"time": LinearAxis(gain=0.5, offset=2.0),
                          "ch": CoordinateAxis(np.array(["a", "b", "c"]), dims=["ch"])})
    np.testing.assert_array_equal(axis_coordinates(lin, "time"), [2.0, 2.5, 3.0, 3.5])
    np.testing.assert_array_equal(axis_coordinates(lin, "ch"), ["a", "b", "c"])
    bare = AxisArray(data, dims=["time", "ch"])
    np.testing.assert_array_equal(axis_coordinates(bare, "time"), [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="freq"):
        axis_coordinates(lin, "freq")
    assert [op for op in AF if needs_coordinates(op)] == [AF.ARGMIN, AF.ARGMAX, AF.TRAPEZOID]
    assert needs_coordinates([AF.MEAN, AF.TRAPEZOID]) and not needs_coordinates([AF.MEAN])
    assert AF.options()[0] == "None (all)" and "trapezoid" in AF.options()
