"""PinkNoise: a 1/f spectrum, unit-variance scaling, a stationary start, the IIR kernel."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth import PinkNoise, PinkNoiseProducer, PinkNoiseSettings
from ezmsg_sigproc_units.synth.noise import pink_design, pinking_sos
from tests.helpers.synth import host, on, run, take, ticks

FS = 1000.0


def _slope_db_per_decade(x, lo, hi, nperseg):
    f, p = scipy.signal.welch(x, fs=FS, nperseg=nperseg, axis=0)
    band = (f >= lo) & (f <= hi)
    logf = np.log10(f[band])
    db = 10 * np.log10(p[band].mean(axis=1))
    slope, icpt = np.polyfit(logf, db, 1)
    return slope, np.abs(db - (slope * logf + icpt)).max()


def test_spectrum_is_one_over_f_over_two_decades(backend):
    """PSD ~ 1/f: -10 dB/decade from 2 to 300 Hz (2.2 decades), within a loose tolerance."""
    proc = PinkNoiseProducer(PinkNoiseSettings(**on(backend, fs=FS, n_time=4096, n_ch=4,
                                                    seed=5, f_min=0.5)))
    x = host(run(proc, ticks(8)))  # 32768 samples x 4 channels
    slope, worst = _slope_db_per_decade(x, 2.0, 300.0, nperseg=2048)
    assert -11.5 < slope < -8.5, slope
    assert worst < 3.0, worst


def test_filter_design_is_pink_and_unit_variance():
    """The design itself (host float64): within 0.4 dB of an exact -10 dB/decade line over
    ``[2 f_min, 0.3 fs]``, and unit output variance under unit white input."""
    for f_min in (0.1, 1.0, 10.0, FS / 20):
        sos, root = pink_design(FS, f_min)
        w, h = scipy.signal.sosfreqz(sos, worN=np.geomspace(2 * f_min, 0.3 * FS, 300), fs=FS)
        db = 20 * np.log10(np.abs(h))
        line = -10.0 * np.log10(w)
        dev = db - line - np.mean(db - line)
        assert np.abs(dev).max() < (0.4 if f_min <= 10 else 0.8), (f_min, np.abs(dev).max())
        imp = np.zeros(200_000)
        imp[0] = 1.0
        assert np.sum(scipy.signal.sosfilt(sos, imp) ** 2) == pytest.approx(1.0, rel=1e-3)
        assert root.shape == (2 * sos.shape[0],) * 2
    assert pinking_sos(FS, 1.0).shape[0] == 3  # poles at 1, 3.2, 10, .., 316 Hz: 3 sections


def test_scale_is_the_standard_deviation_from_the_first_sample():
    """The filter starts in its stationary state: no warm-up, even with f_min = 0.1 Hz (a
    1.6 s time constant)."""
    proc = PinkNoiseProducer(PinkNoiseSettings(fs=FS, n_time=200, n_ch=400, seed=0, scale=3.0,
                                               f_min=0.1, dtype="float64"))
    x = host(run(proc, ticks(5)))
    first = x[:20].std(axis=1).mean()  # across 400 independent channels
    assert first == pytest.approx(3.0, rel=0.05)
    assert x.std(axis=1).mean() == pytest.approx(3.0, rel=0.05)
    assert np.abs(np.corrcoef(x[:, :8].T) - np.eye(8)).max() < 0.5  # channels differ


def test_stream_equals_scipy_sosfilt_of_its_white_input():
    """The block IIR kernel's output equals scipy.signal.sosfilt of the same white numbers
    from the same (stationary) start state, across blocks."""
    s = PinkNoiseSettings(fs=FS, n_time=333, n_ch=2, seed=4, f_min=1.0, dtype="float64")
    proc = PinkNoiseProducer(s)
    got = take(proc, 1000)
    # rebuild the input: the first draw is the start state, then one batch of white noise
    sos, root = pink_design(FS, 1.0)
    rng = _backend.DeviceRNG(*_backend.resolve("numpy"), seed=4)
    w = rng.normal((root.shape[1], 2), np.float64)
    white = rng.normal((1024, 2), np.float64)[:1000]
    zi = (root @ w).reshape(sos.shape[0], 2, 2)
    ref, _ = scipy.signal.sosfilt(sos, white, axis=0, zi=zi)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_scale_changes_live_without_restarting():
    base = dict(fs=FS, n_time=100, seed=2)
    ref = take(PinkNoiseProducer(PinkNoiseSettings(**base)), 200)
    proc = PinkNoiseProducer(PinkNoiseSettings(**base))
    first = host([proc(ticks(1)[0])])
    proc.update_settings(PinkNoiseSettings(**base, scale=2.0))
    second = host([proc(ticks(1)[0])])
    np.testing.assert_allclose(first, ref[:100], rtol=1e-6)
    np.testing.assert_allclose(second, 2.0 * ref[100:], rtol=1e-5, atol=1e-6)


def test_unit():
    assert PinkNoise.SETTINGS is PinkNoiseSettings


@pytest.mark.parametrize(
    "field,kwargs",
    [("scale", {"scale": -1.0}), ("n_ch", {"n_ch": 0}), ("seed", {"seed": -3}),
     ("f_min", {"f_min": 0.0}), ("f_min", {"f_min": 51.0}), ("f_min", {"f_min": None}),
     ("fs", {"fs": float("inf")}), ("backend", {"backend": "tf"})],
)
def test_settings_errors(field, kwargs):
    kwargs.setdefault("fs", FS)
    with pytest.raises(ValueError, match=f"^{field}"):
        PinkNoiseSettings(**kwargs)
