import pickle

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.merge import MergeProcessor, MergeSettings
from ezmsg_sigproc_units.testing import Backend, assert_close, random_partitions

FS = 100.0
N_A, N_B, LAG = 100, 90, 7  # B starts LAG samples after A


def _host(n, ch, seed):
    return np.random.default_rng(seed).standard_normal((n, ch)).astype("float32")


HA, HB = _host(N_A, 2, 0), _host(N_B, 3, 1)


def _chunks(backend, host, start, lengths, labels, times=None):
    out, pos = [], 0
    for n in lengths:
        if times is None:
            tax = AxisArray.TimeAxis(fs=FS, offset=(start + pos) / FS)
        else:
            tax = AxisArray.CoordinateAxis(times[pos:pos + n], dims=["time"], unit="s")
        out.append(AxisArray(backend.asarray(host[pos:pos + n]), dims=["time", "ch"],
                             axes={"time": tax,
                                   "ch": AxisArray.CoordinateAxis(np.asarray(labels),
                                                                  dims=["ch"])},
                             key="k"))
        pos += n
    return out


def _feed(proc, msgs_a, msgs_b, order):
    outs, ia, ib = [], 0, 0
    for side in order:
        if side == 0:
            o = proc(msgs_a[ia])
            ia += 1
        else:
            o = proc.push_b(msgs_b[ib])
            ib += 1
        if o is not None:
            outs.append(o)
    return outs


def _order(n_a, n_b, rng):
    order = np.array([0] * n_a + [1] * n_b)
    rng.shuffle(order)
    return order.tolist()


def _check_merged(outs, backend, n_expected):
    host = np.concatenate([_backend.to_host(o.data) for o in outs])
    ref = np.concatenate([HA[LAG:LAG + n_expected], HB[:n_expected]], axis=1)
    assert_close(outs[-1].data, ref[-outs[-1].data.shape[0]:], xp=backend.xp,
                 device=backend.device, dtype="float32")
    np.testing.assert_array_equal(host, ref)
    t = LAG / FS
    for o in outs:  # each chunk starts where the previous ended
        assert o.axes["time"].offset == pytest.approx(t, abs=1e-9)
        t += o.data.shape[0] / FS
    assert list(outs[0].axes["ch"].data) == ["a0_a", "a1_a", "b0_b", "b1_b", "b2_b"]


def test_any_interleaving_and_chunking_same_stream():
    """Random chunkings of both inputs (empty and length-1 chunks included) in random
    interleavings: the merged stream is always A[LAG:] beside B, on A's time axis."""
    rng = np.random.default_rng(0)
    parts_a = random_partitions(N_A, count=4, seed=1, max_chunk=25)
    parts_b = random_partitions(N_B, count=4, seed=2, max_chunk=25)
    for la, lb in zip(parts_a, parts_b, strict=True):
        msgs_a = _chunks(Backend.NUMPY, HA, 0, la, ["a0", "a1"])
        msgs_b = _chunks(Backend.NUMPY, HB, LAG, lb, ["b0", "b1", "b2"])
        for _ in range(3):
            outs = _feed(MergeProcessor(MergeSettings()), msgs_a, msgs_b,
                         _order(len(msgs_a), len(msgs_b), rng))
            assert sum(o.data.shape[0] for o in outs) == N_B
            _check_merged(outs, Backend.NUMPY, N_B)


def test_every_backend(backend):
    la, lb = [0, 1, 16, 16, 16, 16, 16, 16, 3], [16, 16, 1, 0, 16, 16, 16, 9]
    msgs_a = _chunks(backend, HA, 0, la, ["a0", "a1"])
    msgs_b = _chunks(backend, HB, LAG, lb, ["b0", "b1", "b2"])
    outs = _feed(MergeProcessor(MergeSettings()), msgs_a, msgs_b,
                 _order(len(msgs_a), len(msgs_b), np.random.default_rng(3)))
    _check_merged(outs, backend, N_B)


def test_jittered_timestamps():
    """CoordinateAxis timestamps with jitter below half a period: aligned on the nearest."""
    rng = np.random.default_rng(4)
    ta = np.arange(N_A) / FS + rng.uniform(-0.2, 0.2, N_A) / FS
    tb = (LAG + np.arange(N_B)) / FS + rng.uniform(-0.2, 0.2, N_B) / FS
    msgs_a = _chunks(Backend.NUMPY, HA, 0, [13, 40, 0, 47], ["a0", "a1"], times=ta)
    msgs_b = _chunks(Backend.NUMPY, HB, LAG, [5, 30, 55], ["b0", "b1", "b2"], times=tb)
    outs = _feed(MergeProcessor(MergeSettings()), msgs_a, msgs_b, [1, 0, 0, 1, 0, 1, 0])
    host = np.concatenate([o.data for o in outs])
    np.testing.assert_array_equal(host, np.concatenate([HA[LAG:LAG + N_B], HB], axis=1))
    np.testing.assert_array_equal(np.concatenate([o.axes["time"].data for o in outs]),
                                  ta[LAG:LAG + N_B])


def test_pickle_resumes():
    msgs_a = _chunks(Backend.NUMPY, HA, 0, [10, 30, 30, 30], ["a0", "a1"])
    msgs_b = _chunks(Backend.NUMPY, HB, LAG, [20, 20, 50], ["b0", "b1", "b2"])
    order = [0, 1, 0, 1, 0, 1, 0]
    whole = _feed(MergeProcessor(MergeSettings()), msgs_a, msgs_b, order)
    first = MergeProcessor(MergeSettings())
    head = _feed(first, msgs_a[:2], msgs_b[:2], order[:4])
    second = MergeProcessor(MergeSettings())
    second._align.state = pickle.dumps(first.align_state)
    second._concat.state = pickle.dumps(first.concat_state)
    tail = _feed(second, msgs_a[2:], msgs_b[2:], order[4:])
    np.testing.assert_array_equal(np.concatenate([o.data for o in head + tail]),
                                  np.concatenate([o.data for o in whole]))


def test_different_rates_raise_naming_both():
    proc = MergeProcessor(MergeSettings())
    proc(_chunks(Backend.NUMPY, HA, 0, [10], ["a0", "a1"])[0])
    b = _chunks(Backend.NUMPY, HB, 0, [10], ["b0", "b1", "b2"])[0]
    b = AxisArray(b.data, dims=b.dims, axes={**b.axes, "time": AxisArray.TimeAxis(fs=250.0)})
    with pytest.raises(ValueError, match=r"^time: .*B at 250 Hz and A at 100 Hz"):
        proc.push_b(b)


def test_new_axis_merge():
    proc = MergeProcessor(MergeSettings(axis="feature", label_a="spk", label_b="sbp"))
    a = _chunks(Backend.NUMPY, HA[:, :2], 0, [20], ["c0", "c1"])[0]
    b = _chunks(Backend.NUMPY, HB[:, :2], 5, [20], ["c0", "c1"])[0]
    assert proc(a) is None
    out = proc.push_b(b)
    assert out.dims == ["time", "ch", "feature"] and out.data.shape == (15, 2, 2)
    np.testing.assert_array_equal(out.data, np.stack([HA[5:20, :2], HB[:15, :2]], -1))
    assert list(out.axes["feature"].data) == ["spk", "sbp"]


@pytest.mark.parametrize("field,value", [("buffer_dur", -1.0), ("axis", ""), ("align_axis", ""),
                                         ("overflow_strategy", "spill"), ("label_b", 3)])
def test_bad_settings(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        MergeSettings(**{field: value})


def test_read_only_axes_and_inputs_untouched():
    from types import MappingProxyType

    msgs_a = _chunks(Backend.NUMPY, HA, 0, [30, 30, 40], ["a0", "a1"])
    msgs_b = _chunks(Backend.NUMPY, HB, LAG, [45, 45], ["b0", "b1", "b2"])
    ro = [AxisArray(m.data, dims=list(m.dims), axes=MappingProxyType(dict(m.axes)), key=m.key)
          for m in msgs_a + msgs_b]
    before = [(m.data.copy(), dict(m.axes)) for m in ro]
    outs = _feed(MergeProcessor(MergeSettings()), ro[:3], ro[3:], [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(np.concatenate([o.data for o in outs]),
                                  np.concatenate([HA[LAG:LAG + N_B], HB], axis=1))
    for m, (data, axes) in zip(ro, before, strict=True):
        np.testing.assert_array_equal(m.data, data)
        assert dict(m.axes) == axes
