import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.resampleconcat import ResampleConcatProcessor, ResampleConcatSettings
from ezmsg_sigproc_units.testing import assert_close

FS_REF, FS_SIG, T0_SIG = 100.0, 101.0, 0.003
N_REF, N_SIG = 60, 70
R = np.random.default_rng(0).standard_normal((N_REF, 2)).astype("float32")
S = np.random.default_rng(1).standard_normal((N_SIG, 3)).astype("float32")
T_REF = np.arange(N_REF) / FS_REF
T_SIG = T0_SIG + np.arange(N_SIG) / FS_SIG


def _msgs(backend, host, fs, t0, lengths, prefix):
    out, pos = [], 0
    for n in lengths:
        out.append(AxisArray(backend.asarray(host[pos:pos + n]), dims=["time", "ch"],
                             axes={"time": AxisArray.TimeAxis(fs=fs, offset=t0 + pos / fs),
                                   "ch": AxisArray.CoordinateAxis(
                                       np.asarray([f"{prefix}{i}" for i in range(host.shape[1])]),
                                       dims=["ch"])}, key=prefix))
        pos += n
    return out


def _reference(n):
    """Offline: the signal linearly interpolated at the reference's first n times
    (extrapolated before its first sample), beside the reference."""
    t = T_REF[:n]
    sig = np.stack([np.interp(t, T_SIG, S[:, c].astype(np.float64)) for c in range(3)], 1)
    slope = (S[1] - S[0]).astype(np.float64) / (T_SIG[1] - T_SIG[0])
    before = t < T_SIG[0]
    sig[before] = S[0] + (t[before, None] - T_SIG[0]) * slope
    return np.concatenate([R[:n], sig], axis=1)


def _run(backend, ref_lengths, sig_lengths, order):
    proc = ResampleConcatProcessor(ResampleConcatSettings())
    refs = _msgs(backend, R, FS_REF, 0.0, ref_lengths, "r")
    sigs = _msgs(backend, S, FS_SIG, T0_SIG, sig_lengths, "s")
    outs, ir, i_s = [], 0, 0
    for side in order:
        if side == 0:
            proc.push_reference(refs[ir])
            ir += 1
        else:
            proc.push_signal(sigs[i_s])
            i_s += 1
        while (o := next(proc)) is not None:
            outs.append(o)
    return outs


@pytest.mark.parametrize("order", [[0, 1] * 4, [1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]])
def test_offline_reference_any_interleaving(backend, order):
    outs = _run(backend, [0, 16, 16, 28], [1, 16, 16, 37], order)
    n = sum(o.data.shape[0] for o in outs)
    assert n == N_REF  # the signal covers every reference time
    host = np.concatenate([np.asarray(_backend.to_host(o.data)) for o in outs])
    assert_close(outs[-1].data, _reference(n)[-outs[-1].data.shape[0]:], xp=backend.xp,
                 device=backend.device, dtype="float32")
    np.testing.assert_allclose(host, _reference(n), rtol=1e-5, atol=1e-5)
    assert list(outs[0].axes["ch"].data) == ["r0_a", "r1_a", "s0_b", "s1_b", "s2_b"]
    assert outs[0].key == "r" and outs[0].axes["time"].offset == pytest.approx(0.0)


def test_call_pushes_signal_and_returns_next():
    from ezmsg_sigproc_units.testing import Backend

    proc = ResampleConcatProcessor(ResampleConcatSettings(concat_axis="feature",
                                                          label_a="ref", label_b="sig"))
    proc.push_reference(_msgs(Backend.NUMPY, R[:, :2], FS_REF, 0.0, [20], "r")[0])
    out = proc(_msgs(Backend.NUMPY, S[:, :2], FS_SIG, T0_SIG, [30], "r")[0])
    assert out is not None and out.dims == ["time", "ch", "feature"]
    assert list(out.axes["feature"].data) == ["ref", "sig"]
    assert next(proc) is None


@pytest.mark.parametrize("field,value", [("concat_axis", ""), ("buffer_duration", -1.0),
                                         ("label_a", None)])
def test_bad_settings(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        ResampleConcatSettings(**{field: value})
