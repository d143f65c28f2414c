"""Polyphase and linear resampling kernels against scipy.signal.resample_poly / numpy.interp."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import resampling as R
from ezmsg_sigproc_units.testing import assert_close, random_partitions


def _stream(xp, device, d, host, lengths, dtype):
    """Feed ``host`` (T, C) through the kernel in chunks; (outputs, counts after each chunk)."""
    st = R.polyphase_zero_state(xp, d, host.shape[1], dtype=dtype, device=device)
    n_in = n_out = pos = 0
    outs, counts = [], []
    for k in lengths:
        chunk = _dev(xp, device, host[pos:pos + k], dtype)
        plan = R.polyphase_plan(xp, d, n_in, n_out, k, dtype=dtype, device=device)
        y, st = R.polyphase_filter(xp, plan, chunk, st)
        assert tuple(y.shape) == (plan.n_out, host.shape[1])
        outs.append(y)
        pos, n_in, n_out = pos + k, n_in + k, n_out + plan.n_out
        counts.append(n_out)
    return xp.concat(outs, axis=0), counts


def _dev(xp, device, h, dtype):
    from ezmsg_sigproc_units._backend import asarray

    return asarray(xp, np.ascontiguousarray(h), dtype=dtype, device=device)


@pytest.mark.parametrize("up,down", [(1, 4), (3, 10), (4, 1), (5, 2), (2, 3)])
@pytest.mark.parametrize("window", [("kaiser", 5.0), "hamming"])
def test_streaming_equals_resample_poly_prefix(up, down, window):
    host = np.random.default_rng(up * 10 + down).standard_normal((420, 3))
    ref = resample_poly(host, up, down, axis=0, window=window)
    d = R.design_polyphase(up, down, window)
    import array_api_compat.numpy as xp

    for lengths in random_partitions(420, count=4, seed=up, max_chunk=300) + [[420]]:
        y, counts = _stream(xp, "cpu", d, host, lengths, xp.float64)
        n = R.emitted_count(d, 420)
        assert y.shape[0] == n and n <= ref.shape[0]
        np.testing.assert_allclose(y, ref[:n], rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_emission_count_and_minimal_delay():
    """Output n is emitted exactly when input floor((n*down + half_len)/up) has arrived: the
    emitted outputs depend on no later input, and the next one does (random taps, none zero)."""
    up, down = 3, 5
    taps = np.random.default_rng(0).uniform(0.5, 1.0, 31)
    d = R.design_polyphase(up, down, taps)
    assert d.half_len == 15 and R.latency_samples(d) == 5.0
    host = np.random.default_rng(1).standard_normal((60, 1))
    full = resample_poly(host, up, down, window=taps)
    for n_in in range(60):
        c = R.emitted_count(d, n_in)
        trunc = resample_poly(host[:n_in], up, down, window=taps) if n_in else np.zeros((0, 1))
        assert c == max(0, (n_in * up - 1 - d.half_len) // down + 1)
        np.testing.assert_allclose(trunc[:c], full[:c], rtol=1e-13)  # no later input needed
        if c < trunc.shape[0]:
            assert abs(trunc[c, 0] - full[c, 0]) > 1e-9  # the next output needs more input


def test_kernel_every_backend(backend, float_dtype):
    up, down = 3, 10  # other ratios: test_streaming_equals_resample_poly_prefix (NumPy)
    host = np.random.default_rng(2).standard_normal((200, 2)).astype(float_dtype)
    d = R.design_polyphase(up, down)
    ref = resample_poly(host.astype(np.float64), up, down, axis=0)
    dtype = getattr(backend.xp, float_dtype)
    # one chunk long enough for the blocked path, then short, empty and length-1 chunks
    y, _ = _stream(backend.xp, backend.device, d, host, [0, 170, 1, 0, 13, 16], dtype)
    n = R.emitted_count(d, 200)
    assert_close(y, ref[:n], xp=backend.xp, device=backend.device, dtype=host.dtype)


def test_plans_are_cached():
    import array_api_compat.numpy as xp

    d = R.design_polyphase(1, 4)
    a = R.polyphase_plan(xp, d, 100, R.emitted_count(d, 100), 10, dtype=xp.float32, device="cpu")
    b = R.polyphase_plan(xp, d, 104, R.emitted_count(d, 104), 10, dtype=xp.float32, device="cpu")
    assert a is b  # same phase and offset one period (down inputs) later


def test_bad_custom_taps():
    with pytest.raises(ValueError, match="^window"):
        R.design_polyphase(2, 3, np.zeros((2, 2)))


def test_linear_matches_numpy_interp(backend, float_dtype):
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.5, 1.5, 30))
    host = rng.standard_normal((30, 2)).astype(float_dtype)
    tau = np.concatenate(([t[0]], np.sort(rng.uniform(t[0], t[-1], 20)), [t[-1]], t[5:7]))
    dtype = getattr(backend.xp, float_dtype)
    i0, i1, w = R.linear_weights(backend.xp, t, tau, dtype=dtype, device=backend.device)
    y = R.linear_interp(backend.xp, backend.asarray(host), i0, i1, w)
    ref = np.stack([np.interp(tau, t, host[:, c].astype(np.float64)) for c in range(2)], 1)
    assert_close(y, ref, xp=backend.xp, device=backend.device, dtype=host.dtype)
    assert to_host(i0).dtype.kind == "i" and to_host(i1).dtype.kind == "i"
