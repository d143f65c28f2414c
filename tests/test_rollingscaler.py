import math

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units.rollingscaler import (
    RollingScalerProcessor,
    RollingScalerSettings,
    RollingScalerState,
    RollingScalerUnit,
)
from ezmsg_sigproc_units.testing import assert_close, assert_pickle_resumes

FS = 100.0


def _host(n=120, ch=3, seed=0, dtype="float64"):
    x = np.random.default_rng(seed).standard_normal((n, ch)) * 2.0 + 1.0
    x[40:43, 1] += 30.0  # an artifact
    return x.astype(dtype)


def _msg(backend, host):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS)})


def _reference(host, step, *, k=20, update=False, min_samples=1, thresh=None, clip=10.0,
               fitted=()):
    """Direct definition: pooled population mean/std of the kept samples of the last k
    batches (np.nanmean / np.nanvar over the stacked batches), one batch per message."""
    batches = [np.asarray(b, float) for b in fitted]
    if k is not None:  # the peer caps the sample count at the batch count
        min_samples = min(min_samples, k)
    outs = []
    for i in range(0, host.shape[0], step):
        x = host[i: i + step].astype(float)
        pool = np.concatenate(batches[-k:] if k else batches) if batches else np.zeros((0,
                                                                                       x.shape[1]))
        n = np.isfinite(pool).sum(axis=0)
        with np.errstate(all="ignore"):
            mean = np.nanmean(pool, axis=0) if len(pool) else np.zeros(x.shape[1])
            std = np.maximum(np.sqrt(np.nanvar(pool, axis=0)), 1e-8) if len(pool) else 1.0
            z = (x - np.nan_to_num(mean)) / np.where(n > 0, std, 1e-8)
        ready = (n > 0) & (n >= min_samples)
        y = np.where(np.isfinite(z), z, 0.0)
        if clip is not None:
            y = np.clip(y, -clip, clip)
        outs.append(np.where(ready, y, x))
        if update:
            keep = np.ones(len(x), bool)
            if thresh is not None:
                keep = ~np.any((np.abs(z) > thresh) & (n > 0), axis=1)
            if keep.any():
                batches.append(x[keep])
    return np.concatenate(outs)


def _run(backend, host, step, **kw):
    proc = RollingScalerProcessor(RollingScalerSettings(**kw))
    return backend.xp.concat([proc(_msg(backend, host[i: i + step])).data
                              for i in range(0, host.shape[0], step)], axis=0)


CASES = {
    "update k=5": (dict(update_with_signal=True, k_samples=5), dict(k=5, update=True)),
    "gated": (dict(update_with_signal=True, k_samples=6, artifact_z_thresh=3.0, min_samples=5),
              dict(k=6, update=True, thresh=3.0, min_samples=5)),
    "min capped": (dict(update_with_signal=True, k_samples=3, min_samples=25),
                   dict(k=3, update=True, min_samples=25)),
    "unbounded no clip": (dict(update_with_signal=True, k_samples=None, clip=None),
                          dict(k=None, update=True, clip=None)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_the_direct_definition(backend, float_dtype, case):
    settings, ref_kw = CASES[case]
    host = _host(dtype=float_dtype)
    got = _run(backend, host, 10, **settings)
    ref = _reference(host, 10, **ref_kw)
    assert_close(got, ref, xp=backend.xp, device=backend.device, dtype=float_dtype,
                 rtol=1e-4 if float_dtype == "float32" else 1e-9)


def test_partial_fit_only(backend):
    host = _host()
    proc = RollingScalerProcessor(RollingScalerSettings(k_samples=2))
    proc.partial_fit(_msg(backend, host[:10]))  # before any processed message
    proc.partial_fit(_msg(backend, host[10:30]))
    proc.partial_fit(_msg(backend, host[30:35]))
    out = proc(_msg(backend, host[60:80]))
    ref = _reference(host[60:80], 20, k=2, fitted=(host[10:30], host[30:35]))
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)
    out = proc.partial_fit_transform(_msg(backend, host[80:90]))
    ref = _reference(host[80:90], 10, k=2, fitted=(host[30:35], host[80:90]))
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_unchanged_until_min_samples():
    host = _host()
    proc = RollingScalerProcessor(RollingScalerSettings(update_with_signal=True,
                                                        k_samples=None, min_samples=25))
    for i in range(3):  # 0, 10, 20 pooled samples: not ready
        out = proc(_msg(_NP, host[10 * i: 10 * i + 10]))
        np.testing.assert_array_equal(out.data, host[10 * i: 10 * i + 10])
    out = proc(_msg(_NP, host[30:40]))
    assert not np.array_equal(out.data, host[30:40])


def test_window_size_sets_k_and_min_from_the_sample_rate():
    proc = RollingScalerProcessor(RollingScalerSettings(window_size=0.05, min_seconds=0.03))
    proc(_msg(_NP, _host(n=5)))
    assert (proc.state.k_samples, proc.state.min_samples) == (5, 3)
    proc = RollingScalerProcessor(RollingScalerSettings(window_size=0.05, min_seconds=1.0))
    proc(_msg(_NP, _host(n=5)))
    assert (proc.state.k_samples, proc.state.min_samples) == (5, 5)  # capped at k
    proc = RollingScalerProcessor(RollingScalerSettings(window_size=1e-4))
    proc(_msg(_NP, _host(n=5)))
    assert proc.state.k_samples == 1


def test_nan_sample_is_left_out_of_the_statistics(backend):
    host = _host()
    host[25, 0] = np.nan
    got = to_host(_run(backend, host, 10, update_with_signal=True, k_samples=4))
    ref = _reference(host, 10, k=4, update=True)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    assert got[25, 0] == 0.0  # the peer's rule for a non-finite result
    assert (got[30:, 0] != 0).all()  # the peer's outputs stay 0 from here on


def test_other_layout_and_pickle(backend):
    host = _host(n=40)
    msg = AxisArray(backend.asarray(np.ascontiguousarray(host.T)), dims=["ch", "time"],
                    axes={"time": AxisArray.TimeAxis(fs=FS)})
    proc = RollingScalerProcessor(RollingScalerSettings(update_with_signal=True))
    proc(msg)
    out = proc(msg)
    ref = _reference(np.concatenate([host, host]), 40, update=True)[40:]
    assert_close(out.data, ref.T, xp=backend.xp, device=backend.device, dtype=host.dtype)
    assert_pickle_resumes(lambda: RollingScalerProcessor(RollingScalerSettings(
        update_with_signal=True, k_samples=3)), _msg(backend, host), split_at=17)


def test_empty_message_and_input_not_mutated():
    host = _host(n=20)
    data = host.copy()
    proc = RollingScalerProcessor(RollingScalerSettings(update_with_signal=True))
    out = proc(_msg(_NP, data[:0]))
    assert out.data.shape == (0, 3)
    proc(_msg(_NP, data[:10]))
    proc(_msg(_NP, data[10:]))
    np.testing.assert_array_equal(data, host)


def test_settings():
    s = RollingScalerSettings()
    assert (s.axis, s.k_samples, s.window_size, s.update_with_signal, s.min_samples,
            s.min_seconds, s.artifact_z_thresh, s.clip) == (None, 20, None, False, 1, 1.0,
                                                            None, 10.0)
    for field, bad in [("k_samples", 0), ("k_samples", 2.5), ("window_size", 0.0),
                       ("window_size", math.nan), ("min_samples", -1), ("min_seconds", -1.0),
                       ("artifact_z_thresh", 0.0), ("clip", -1.0), ("axis", 5)]:
        with pytest.raises(ValueError, match=f"^{field}"):
            RollingScalerSettings(**{field: bad})
    assert RollingScalerState().ring is None and RollingScalerUnit.SETTINGS is RollingScalerSettings
    with pytest.raises(ValueError, match="^window_size"):
        RollingScalerProcessor(RollingScalerSettings(window_size=1.0))(
            AxisArray(_host(n=3), dims=["time", "ch"]))


class _Numpy:
    @staticmethod
    def asarray(h):
        return np.asarray(h)


_NP = _Numpy()
