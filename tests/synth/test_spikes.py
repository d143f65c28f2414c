"""SpikeTrain: Poisson spikes from the device generator; regular trains at exact samples."""

from __future__ import annotations

import numpy as np
import pytest

from ezmsg_sigproc_units.synth import SpikeTrain, SpikeTrainProducer, SpikeTrainSettings
from ezmsg_sigproc_units.synth import spikes as spikes_module
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.synth import host, on, run, take, ticks

FS = 1000.0


def _regular_reference(rate, k, fs=FS):
    """1 where some spike m = 0, 1, .. sits at sample floor(m fs / rate + 1/2)."""
    m0 = max(0, int(k[0] * rate / fs) - 2)
    m = np.arange(m0, int(k[-1] * rate / fs) + 3, dtype=np.float64)
    pos = np.floor(m * fs / rate + 0.5)
    return np.isin(k, pos).astype(np.float64)


def test_poisson_rate_and_independence(backend):
    rates = [5.0, 50.0, 200.0]
    proc = SpikeTrainProducer(SpikeTrainSettings(**on(backend, fs=FS, n_time=2000, rate=rates,
                                                      amp=2.5, seed=3)))
    outs = run(proc, ticks(10))
    x = host(outs)  # 20 s
    assert set(np.unique(x)) <= {0.0, 2.5}
    counts = (x > 0).sum(axis=0)
    expected = np.array(rates) * 20
    # Binomial counts: within 4.5 standard deviations
    assert np.all(np.abs(counts - expected) < 4.5 * np.sqrt(expected) + 1), counts
    assert outs[0].key == "spikes"
    s = (x > 0).astype(float)
    assert abs(np.corrcoef(s[:, 1], s[:, 2])[0, 1]) < 0.05


def test_poisson_uniform_rate_and_extremes():
    proc = SpikeTrainProducer(SpikeTrainSettings(fs=FS, n_time=5000, rate=100.0, n_ch=4,
                                                 seed=0))
    x = host(run(proc, ticks(2)))
    assert np.abs((x > 0).sum(axis=0) - 1000).max() < 4.5 * np.sqrt(900)
    assert not np.array_equal(x[:, 0], x[:, 1])
    edge = SpikeTrainProducer(SpikeTrainSettings(fs=FS, n_time=100, rate=[0.0, FS], seed=0))
    x = host(run(edge, ticks(2)))
    np.testing.assert_array_equal(x, np.repeat([[0.0, 1.0]], 200, axis=0))


@pytest.mark.parametrize("rate", [10.0, 30.0, 7.3, 333.0])
def test_regular_train_at_exact_samples(rate, backend):
    proc = SpikeTrainProducer(SpikeTrainSettings(**on(backend, fs=FS, n_time=97, rate=rate,
                                                      n_ch=2, regular=True, amp=0.5)))
    outs = run(proc, ticks(6))
    ref = 0.5 * _regular_reference(rate, np.arange(97 * 6))
    for i, out in enumerate(outs):
        assert_close(out.data, np.repeat(ref[97 * i: 97 * (i + 1), None], 2, axis=1),
                     xp=backend.xp, device=backend.device, dtype="float32", rtol=0, atol=0)


def test_regular_distinct_rates_and_after_a_long_run():
    rates = [7.3, 120.0, 0.0, 999.0]
    start = 10**9 + 17
    proc = SpikeTrainProducer(SpikeTrainSettings(fs=FS, n_time=250, rate=rates, regular=True))
    proc.state.counter = start
    got = host(run(proc, ticks(4)))
    k = start + np.arange(1000)
    for c, r in enumerate(rates):
        ref = np.zeros(1000) if r == 0 else _regular_reference(r, k)
        np.testing.assert_array_equal(got[:, c], ref, err_msg=f"rate {r}")


def test_regular_needs_no_transfer_for_a_few_spikes_per_block(monkeypatch):
    proc = SpikeTrainProducer(SpikeTrainSettings(fs=FS, n_time=100, rate=40.0, n_ch=3,
                                                 regular=True))
    proc(ticks(1)[0])
    calls = []
    real = spikes_module._backend.asarray
    monkeypatch.setattr(spikes_module._backend, "asarray",
                        lambda xp, a, **k: calls.append(np.shape(a)) or real(xp, a, **k))
    run(proc, ticks(5))
    assert calls == []
    dense = SpikeTrainProducer(SpikeTrainSettings(fs=FS, n_time=100, rate=400.0, regular=True))
    out = host(run(dense, ticks(2)))[:, 0]
    np.testing.assert_array_equal(out, _regular_reference(400.0, np.arange(200)))
    assert calls and all(c[-1] <= 41 for c in calls)  # positions only, never samples


def test_poisson_draws_no_samples_on_the_host(monkeypatch):
    """Only array-api-strict (no generator of its own) takes numbers from the host."""
    proc = SpikeTrainProducer(SpikeTrainSettings(fs=FS, n_time=50, rate=[10.0, 20.0], seed=1))
    proc(ticks(1)[0])
    calls = []
    monkeypatch.setattr(spikes_module._backend, "asarray", lambda *a, **k: calls.append(a))
    run(proc, ticks(3))
    assert calls == []


def test_amp_is_live_and_rate_change_reseeds():
    base = dict(fs=FS, n_time=500, rate=100.0, seed=5)
    ref = take(SpikeTrainProducer(SpikeTrainSettings(**base)), 1000)
    proc = SpikeTrainProducer(SpikeTrainSettings(**base))
    first = host([proc(ticks(1)[0])])
    proc.update_settings(SpikeTrainSettings(**base, amp=-1.0))
    second = host([proc(ticks(1)[0])])
    np.testing.assert_array_equal(first, ref[:500])
    np.testing.assert_array_equal(second, -ref[500:])


def test_unit():
    assert SpikeTrain.SETTINGS is SpikeTrainSettings


@pytest.mark.parametrize(
    "field,kwargs",
    [("rate", {"rate": -1.0}), ("rate", {"rate": 1001.0}), ("rate", {"rate": []}),
     ("rate", {"rate": [1.0, float("nan")]}), ("n_ch", {"rate": [1.0, 2.0], "n_ch": 3}),
     ("amp", {"amp": None}), ("regular", {"regular": 1}), ("seed", {"seed": "x"}),
     ("n_time", {"n_time": -5})],
)
def test_settings_errors(field, kwargs):
    kwargs.setdefault("fs", FS)
    with pytest.raises(ValueError, match=f"^{field}"):
        SpikeTrainSettings(**kwargs)
