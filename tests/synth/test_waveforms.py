"""Oscillator square/sawtooth/triangle against scipy.signal of the exact phase."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth import OscillatorProducer, OscillatorSettings
from ezmsg_sigproc_units.synth import oscillator as osc_module
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.synth import host, on, run, ticks

FS = 1000.0
WAVES = ["square", "sawtooth", "triangle"]


def _cycles(freqs, k, phase=0.0, fs=FS):
    """Exact fraction of a cycle of samples ``k`` (rational arithmetic), as float64."""
    out = np.empty((len(k), len(freqs)))
    for c, f in enumerate(freqs):
        step = Fraction(f) / Fraction(fs)
        out[:, c] = [float((step * int(kk)) % 1) for kk in k]
    return np.mod(out + phase / (2 * np.pi), 1.0)


def _reference(wave, u, amp=1.0):
    x = 2 * np.pi * u
    if wave == "square":
        return amp * scipy.signal.square(x)
    if wave == "sawtooth":
        return amp * scipy.signal.sawtooth(x)
    return amp * scipy.signal.sawtooth(x, 0.5)


def _near_edge(wave, u, tol):
    """Samples within ``tol`` of a jump, where either side is a correct answer."""
    if wave == "triangle":
        return np.zeros(u.shape, dtype=bool)
    d = np.minimum(u, 1 - u)
    if wave == "square":
        d = np.minimum(d, np.abs(u - 0.5))
    return d < tol


@pytest.mark.parametrize("wave", WAVES)
def test_blocks_match_scipy_on_backend(wave, backend, float_dtype):
    freqs = [3.0, 47.5, 120.3, 499.0]
    proc = OscillatorProducer(OscillatorSettings(**on(backend, fs=FS, n_time=37, freq=freqs,
                                                      amp=2.0, phase=0.3, waveform=wave,
                                                      dtype=float_dtype)))
    outs = run(proc, ticks(8))
    u = _cycles(freqs, np.arange(37 * 8), phase=0.3)
    ref = _reference(wave, u, amp=2.0)
    tol = 1e-6 if float_dtype == "float32" else 1e-12
    ok = ~_near_edge(wave, u, tol)
    for i, out in enumerate(outs):
        sl = slice(37 * i, 37 * (i + 1))
        # near a jump either side is right: compare those samples with themselves
        expected = np.where(ok[sl], ref[sl], _backend.to_host(out.data))
        assert_close(out.data, expected, xp=backend.xp, device=backend.device,
                     dtype=float_dtype, atol=2.0 * 8 * tol, err_msg=f"block {i}")


@pytest.mark.parametrize("wave", WAVES)
def test_uniform_frequency_channels_and_scalar_path(wave, backend):
    proc = OscillatorProducer(OscillatorSettings(**on(backend, fs=FS, n_time=50, freq=11.0,
                                                      n_ch=3, waveform=wave)))
    got = host(run(proc, ticks(4)))
    u = _cycles([11.0], np.arange(200))
    ref = np.repeat(_reference(wave, u), 3, axis=1)
    ok = np.repeat(~_near_edge(wave, u, 1e-6), 3, axis=1)
    np.testing.assert_allclose(got[ok], ref[ok], atol=1e-5)
    assert np.all(np.abs(got) <= 1.0 + 1e-6)


@pytest.mark.parametrize("wave", WAVES)
def test_float32_exact_after_a_long_run(wave):
    """At sample 10**10 (116 days at 1 kHz) the float32 output still matches the exact phase."""
    start = 10**10
    proc = OscillatorProducer(OscillatorSettings(fs=FS, n_time=100, freq=[7.25, 33.3],
                                                 phase=0.5, waveform=wave))
    proc.state.counter = start
    got = host(run(proc, ticks(5)))
    u = _cycles([7.25, 33.3], start + np.arange(500), phase=0.5)
    ok = ~_near_edge(wave, u, 1e-6)
    np.testing.assert_allclose(got[ok], _reference(wave, u)[ok], atol=2e-6)


def test_square_edges_follow_scipy_on_exact_phases():
    """With exactly representable phases (10 Hz at 1 kHz) every sample, the edges included,
    equals scipy's square wave (+1 before half a cycle, -1 from there)."""
    proc = OscillatorProducer(OscillatorSettings(fs=FS, n_time=250, freq=10.0, dtype="float64",
                                                 waveform="square"))
    got = host(run(proc, ticks(4)))[:, 0]
    k = np.arange(1000)
    np.testing.assert_array_equal(got, np.where((k % 100) < 50, 1.0, -1.0))


def test_distinct_frequencies_move_one_small_array_per_block(monkeypatch):
    """Non-sine waveforms: a uniform frequency needs no transfer per block; distinct
    frequencies move one (1, n_ch) array of start phases per block (never samples)."""
    uniform = OscillatorProducer(OscillatorSettings(fs=FS, n_time=16, freq=9.0, n_ch=3,
                                                    waveform="triangle"))
    distinct = OscillatorProducer(OscillatorSettings(fs=FS, n_time=16, freq=[9.0, 10.0],
                                                     waveform="triangle"))
    uniform(ticks(1)[0])
    distinct(ticks(1)[0])  # first blocks build the tables
    calls = []
    real = osc_module._backend.asarray
    monkeypatch.setattr(osc_module._backend, "asarray",
                        lambda xp, a, **k: calls.append(np.shape(a)) or real(xp, a, **k))
    for t in ticks(3):
        uniform(t)
    assert calls == []
    for t in ticks(3):
        distinct(t)
    assert calls == [(1, 2)] * 3


def test_waveform_change_resets_and_amp_is_live():
    settings = dict(fs=FS, n_time=50, freq=20.0, waveform="sawtooth")
    proc = OscillatorProducer(OscillatorSettings(**settings))
    tk = ticks(3)
    first = host([proc(tk[0])])
    proc.update_settings(OscillatorSettings(**{**settings, "amp": 3.0}))
    second = host([proc(tk[1])])
    u = _cycles([20.0], np.arange(150))
    ref = _reference("sawtooth", u)
    ok = ~_near_edge("sawtooth", u, 1e-6)
    np.testing.assert_allclose(first[ok[:50]], ref[:50][ok[:50]], atol=1e-5)
    np.testing.assert_allclose(second[ok[50:100]], 3 * ref[50:100][ok[50:100]], atol=3e-5)
    proc.update_settings(OscillatorSettings(**{**settings, "amp": 3.0, "waveform": "triangle"}))
    third = host([proc(tk[2])])  # the phase follows the sample count
    np.testing.assert_allclose(third, 3 * _reference("triangle", u[100:]), atol=3e-5)


def test_bad_waveform():
    with pytest.raises(ValueError, match="^waveform: must be one of sine, square"):
        OscillatorSettings(fs=FS, waveform="pulse")
