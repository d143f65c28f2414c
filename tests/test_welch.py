import numpy as np
import pytest
import scipy.signal as ss
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.testing import assert_chunked_equals_whole, assert_close
from ezmsg_sigproc_units.welch import WelchSettings, WelchTransformer

FS, N, HOP, K = 200.0, 40, 20, 3  # 0.2 s segments, 50 % overlap, 3 per block


def _msg(backend, host):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS)})


def _make(scaling="density"):
    return WelchTransformer(WelchSettings(segment_dur=N / FS, n_segments=K, scaling=scaling))


@pytest.mark.parametrize("scaling", ["density", "spectrum"])
def test_each_row_is_scipy_welch_of_its_block(backend, float_dtype, scaling):
    host = np.random.default_rng(3).standard_normal((400, 2)).astype(float_dtype)
    out = _make(scaling)(_msg(backend, host))
    span, step = N + (K - 1) * HOP, K * HOP
    rows = []
    for k in range(out.data.shape[0]):
        block = host[k * step: k * step + span].astype(np.float64)
        _, p = ss.welch(block.T, FS, window=np.hanning(N), nperseg=N, noverlap=N - HOP,
                        detrend=False, scaling=scaling)
        rows.append(p.T)
    assert len(rows) == (((400 - N) // HOP + 1) // K)
    assert out.dims == ["time", "freq", "ch"]
    assert_close(out.data, np.stack(rows), xp=backend.xp, device=backend.device,
                 dtype=float_dtype)


def test_chunked_equals_whole(backend):
    host = np.random.default_rng(4).standard_normal((260, 2)).astype("float32")
    assert_chunked_equals_whole(_make, _msg(backend, host))


def test_settings_errors():
    for kw, field in ((dict(segment_dur=0.0), "segment_dur"), (dict(n_segments=0), "n_segments"),
                      (dict(segment_shift=2.0), "segment_shift"), (dict(scaling="x"), "scaling"),
                      (dict(window="nope"), "window")):
        with pytest.raises(ValueError, match=field):
            WelchSettings(**kw)
