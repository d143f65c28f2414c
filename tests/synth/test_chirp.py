"""Chirp against scipy.signal.chirp of the sample times (float32, after minutes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units.synth import Chirp, ChirpProducer, ChirpSettings
from ezmsg_sigproc_units.synth import chirp as chirp_module
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.synth import host, on, run, take, ticks

FS = 1000.0
METHODS = ["linear", "quadratic", "logarithmic"]


def _scipy(t, method, f0, f1, t1, phase=0.0, amp=1.0):
    return amp * scipy.signal.chirp(t, f0, t1, f1, method=method, phi=math.degrees(phase))


@pytest.mark.parametrize("method", METHODS)
def test_matches_scipy_after_minutes_on_backend(method, backend):
    """A 300 s sweep from 2 to 450 Hz (near Nyquist), looked at after 299.5 s: float32
    output within 1e-4 of scipy's float64 chirp of the same sample times."""
    start = 299_500
    proc = ChirpProducer(ChirpSettings(**on(backend, fs=FS, n_time=40, f0=2.0, f1=450.0,
                                            t1=300.0, method=method, phase=0.3, amp=1.5)))
    proc.state.counter = start
    outs = run(proc, ticks(12))
    t = (start + np.arange(480)) / FS
    ref = _scipy(t, method, 2.0, 450.0, 300.0, phase=0.3, amp=1.5)[:, None]
    for i, out in enumerate(outs):
        assert out.key == "chirp"
        assert_close(out.data, ref[40 * i: 40 * (i + 1)], xp=backend.xp,
                     device=backend.device, dtype="float32", rtol=0, atol=1e-4)


@pytest.mark.parametrize("method", METHODS)
def test_float32_long_blocks_near_nyquist(method):
    """Blocks of 1000 samples are evaluated in pieces of 64: still within 1e-4 (measured
    ~2e-5) at 450 Hz, fs = 1 kHz, after 299 s."""
    start = 299_000
    proc = ChirpProducer(ChirpSettings(fs=FS, n_time=1000, f0=2.0, f1=450.0, t1=300.0,
                                       method=method))
    proc.state.counter = start
    got = host(run(proc, ticks(1)))[:, 0]
    ref = _scipy((start + np.arange(1000)) / FS, method, 2.0, 450.0, 300.0)
    np.testing.assert_allclose(got, ref, atol=1e-4)


@pytest.mark.parametrize("method", METHODS)
def test_float64_matches_scipy(method):
    proc = ChirpProducer(ChirpSettings(fs=FS, n_time=3000, f0=5.0, f1=60.0, t1=3.0,
                                       method=method, dtype="float64", n_ch=2))
    got = host(run(proc, ticks(1)))
    ref = _scipy(np.arange(3000) / FS, method, 5.0, 60.0, 3.0)
    np.testing.assert_allclose(got, np.repeat(ref[:, None], 2, axis=1), atol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_holds_f1_after_the_sweep(method):
    """period=None: after t1 the frequency stays f1, phase continuous; exact after an hour."""
    f0, f1, t1 = 3.0, 40.0, 2.0
    proc = ChirpProducer(ChirpSettings(fs=FS, n_time=250, f0=f0, f1=f1, t1=t1, method=method))
    got = take(proc, 4000)[:, 0]
    t = np.arange(4000) / FS
    phase_t1 = _cycles_at_t1(method, f0, f1, t1)
    ref = np.where(t <= t1, _scipy(t, method, f0, f1, t1),
                   np.cos(2 * np.pi * (phase_t1 + f1 * (t - t1))))
    np.testing.assert_allclose(got, ref, atol=2e-5)
    late = ChirpProducer(ChirpSettings(fs=FS, n_time=100, f0=f0, f1=f1, t1=t1, method=method))
    k0 = 3_600_000  # one hour in
    late.state.counter = k0
    got = host(run(late, ticks(2)))[:, 0]
    cycles = (phase_t1 + f1 * ((k0 + np.arange(200)) - t1 * FS) / FS) % 1.0
    np.testing.assert_allclose(got, np.cos(2 * np.pi * cycles), atol=2e-5)


def _cycles_at_t1(method, f0, f1, t1):
    if method == "linear":
        return f0 * t1 + 0.5 * (f1 - f0) * t1
    if method == "quadratic":
        return f0 * t1 + (f1 - f0) * t1 / 3
    return t1 * f0 / math.log(f1 / f0) * (f1 / f0 - 1)


def test_period_restarts_the_sweep():
    """period: sweep for t1, hold f1 until period, restart (phase too); after 10 minutes."""
    f0, f1, t1, period = 10.0, 100.0, 0.3, 0.45
    k0 = 600_000 + 123
    proc = ChirpProducer(ChirpSettings(fs=FS, n_time=77, f0=f0, f1=f1, t1=t1, period=period,
                                       phase=0.2))
    proc.state.counter = k0
    got = host(run(proc, ticks(13)))[:, 0]
    k = k0 + np.arange(got.shape[0])
    tau = (k % 450) / FS  # 450 samples per period
    sweep = _scipy(tau, "linear", f0, f1, t1, phase=0.2)
    held = np.cos(2 * np.pi * (_cycles_at_t1("linear", f0, f1, t1) + f1 * (tau - t1)) + 0.2)
    np.testing.assert_allclose(got, np.where(tau <= t1, sweep, held), atol=3e-5)


def test_period_with_a_fractional_sample_count():
    """A period of 100.5 samples: restarts alternate between 100 and 101 samples apart."""
    proc = ChirpProducer(ChirpSettings(fs=FS, n_time=1000, f0=0.0, f1=50.0, t1=0.1005,
                                       period=0.1005, dtype="float64"))
    got = host(run(proc, ticks(1)))[:, 0]
    k = np.arange(1000)
    tau = (k - np.floor(k / 100.5) * 100.5) / FS
    np.testing.assert_allclose(got, _scipy(tau, "linear", 0.0, 50.0, 0.1005), atol=1e-9)


def test_constant_logarithmic_sweep_is_a_cosine():
    proc = ChirpProducer(ChirpSettings(fs=FS, n_time=200, f0=12.5, f1=12.5, method="logarithmic"))
    got = host(run(proc, ticks(2)))[:, 0]
    np.testing.assert_allclose(got, np.cos(2 * np.pi * 12.5 * np.arange(400) / FS), atol=1e-5)


def test_amp_is_live_and_no_transfer_per_block(monkeypatch):
    settings = dict(fs=FS, n_time=300, f0=1.0, f1=100.0, t1=1.0, method="logarithmic")
    proc = ChirpProducer(ChirpSettings(**settings))
    first = host([proc(ticks(1)[0])])
    calls = []
    monkeypatch.setattr(chirp_module._backend, "asarray", lambda *a, **k: calls.append(a))
    proc.update_settings(ChirpSettings(**settings, amp=2.0))
    second = host([proc(ticks(1)[0])])
    assert calls == []
    ref = _scipy(np.arange(600) / FS, "logarithmic", 1.0, 100.0, 1.0)
    np.testing.assert_allclose(first[:, 0], ref[:300], atol=2e-5)
    np.testing.assert_allclose(second[:, 0], 2 * ref[300:], atol=4e-5)


def test_unit():
    assert Chirp.SETTINGS is ChirpSettings


@pytest.mark.parametrize(
    "field,kwargs",
    [("f0", {"f0": -1.0}), ("f1", {"f1": 500.0}), ("t1", {"t1": 0.0}),
     ("method", {"method": "hyperbolic"}), ("method", {"method": "logarithmic", "f0": 0.0}),
     ("period", {"period": 0.5}), ("period", {"period": float("nan")}),
     ("amp", {"amp": float("inf")}), ("phase", {"phase": "0"}), ("n_ch", {"n_ch": 0}),
     ("fs", {"fs": 0.0}), ("dtype", {"dtype": "float16"})],
)
def test_settings_errors(field, kwargs):
    kwargs.setdefault("fs", FS)
    with pytest.raises(ValueError, match=f"^{field}"):
        ChirpSettings(**kwargs)
