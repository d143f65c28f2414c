"""Counter: the sample index as floats on the chosen backend, optionally modulo ``mod``."""

from __future__ import annotations

import numpy as np
import pytest

from ezmsg_sigproc_units.synth import Counter, CounterProducer, CounterSettings
from ezmsg_sigproc_units.synth import counter as counter_module
from ezmsg_sigproc_units.testing import assert_close
from tests.helpers.synth import host, on, run, ticks

FS = 100.0


@pytest.mark.parametrize("mod", [None, 7, 1, 1000])
def test_ramp_on_backend(backend, float_dtype, mod):
    proc = CounterProducer(CounterSettings(**on(backend, fs=FS, n_time=23, n_ch=2, mod=mod,
                                                dtype=float_dtype)))
    outs = run(proc, ticks(5))
    k = np.arange(23 * 5)
    ref = k if mod is None else k % mod
    for i, out in enumerate(outs):
        assert out.key == "counter"
        assert_close(out.data, np.repeat(ref[23 * i: 23 * (i + 1), None], 2, axis=1),
                     xp=backend.xp, device=backend.device, dtype=float_dtype, rtol=0, atol=0)


def test_wrap_is_exact_for_blocks_longer_than_mod_and_large_counts():
    """Blocks spanning many wraps, and a count near 2**24 (float32's last exact integer)."""
    proc = CounterProducer(CounterSettings(fs=FS, n_time=1000, mod=3))
    got = host(run(proc, ticks(2)))[:, 0]
    np.testing.assert_array_equal(got, np.arange(2000) % 3)
    big = CounterProducer(CounterSettings(fs=FS, n_time=500, mod=2**24 - 7))
    big.state.counter = 2**24 - 300
    got = host(run(big, ticks(1)))[:, 0]
    np.testing.assert_array_equal(got, (2**24 - 300 + np.arange(500)) % (2**24 - 7))
    plain = CounterProducer(CounterSettings(fs=FS, n_time=10, dtype="float64"))
    plain.state.counter = 2**40
    np.testing.assert_array_equal(host(run(plain, ticks(1)))[:, 0], 2.0**40 + np.arange(10))


def test_mod_changes_live():
    proc = CounterProducer(CounterSettings(fs=FS, n_time=10, mod=4))
    first = host([proc(ticks(1)[0])])[:, 0]
    proc.update_settings(CounterSettings(fs=FS, n_time=10, mod=6))
    second = host([proc(ticks(1)[0])])[:, 0]
    np.testing.assert_array_equal(first, np.arange(10) % 4)
    np.testing.assert_array_equal(second, np.arange(10, 20) % 6)  # count continues


def test_no_transfer_per_block(monkeypatch):
    proc = CounterProducer(CounterSettings(fs=FS, n_time=16, mod=5))
    proc(ticks(1)[0])
    calls = []
    monkeypatch.setattr(counter_module._backend, "asarray", lambda *a, **k: calls.append(a))
    for t in ticks(4):
        proc(t)
    assert calls == []


def test_unit():
    assert Counter.SETTINGS is CounterSettings


@pytest.mark.parametrize(
    "field,kwargs",
    [("fs", {"fs": -1.0}), ("n_time", {"n_time": 0}), ("mod", {"mod": 0}),
     ("mod", {"mod": 2.5}), ("n_ch", {"n_ch": 0}), ("backend", {"backend": "numba"}),
     ("dtype", {"dtype": "int64"})],
)
def test_settings_errors(field, kwargs):
    kwargs.setdefault("fs", FS)
    with pytest.raises(ValueError, match=f"^{field}"):
        CounterSettings(**kwargs)
