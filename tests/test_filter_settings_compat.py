"""Filter settings written for ezmsg-sigproc 3.11.1 construct here and mean the same thing:
the peer's positional field order and defaults, its MLX/threading knobs (accepted, no
effect), ``coef_type="sos"`` on FIR designs (run as the same taps), and GaussianSmoothing's
passthrough values."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import warnings

import numpy as np
import pytest
import scipy.signal

from ezmsg_sigproc_units.testing import Backend, assert_close, split_message, time_signal
from tests.helpers.filter_checks import assert_streams_like_scipy

_BASE = [("axis", None), ("coef_type", "ba"), ("use_fast_sosfilt", True),
         ("use_mlx_metal", True), ("mlx_metal_chunk_sizes", (512,)),
         ("thread_min_bytes", 1048576), ("fir_fft_min_taps", 64)]

# Read once from ezmsg-sigproc 3.11.1 (dataclasses.fields of each settings class, all
# positional there): the peer's own fields, after the base fields, in order.
PEER_FIELDS = {
    ("filter", "FilterBaseSettings"): [],
    ("filter", "FilterSettings"): [("coefs", None)],
    ("butterworthfilter", "ButterworthFilterSettings"): [
        ("order", 0), ("cuton", None), ("cutoff", None), ("wn_hz", True)],
    ("butterworthzerophase", "ButterworthZeroPhaseSettings"): [
        ("order", 0), ("cuton", None), ("cutoff", None), ("wn_hz", True),
        ("settle_cutoff", 0.01), ("max_pad_duration", None)],
    ("cheby", "ChebyshevFilterSettings"): [
        ("order", 0), ("ripple_tol", None), ("Wn", None), ("btype", "lowpass"),
        ("analog", False), ("cheby_type", "cheby1"), ("wn_hz", True)],
    ("combfilter", "CombFilterSettings"): [
        ("fundamental_freq", 60.0), ("num_harmonics", 3), ("q_factor", 35.0),
        ("filter_type", "notch"), ("quality_scaling", "constant")],
    ("firfilter", "FIRFilterSettings"): [
        ("order", 0), ("cutoff", None), ("width", None), ("window", "hamming"),
        ("pass_zero", True), ("scale", True), ("wn_hz", True)],
    ("kaiser", "KaiserFilterSettings"): [
        ("cutoff", None), ("ripple", None), ("width", None), ("pass_zero", True),
        ("wn_hz", True)],
    ("fir_pmc", "ParksMcClellanFIRSettings"): [
        ("order", 0), ("cuton", None), ("cutoff", None), ("transition", 10.0),
        ("weight_pass", 1.0), ("weight_stop_lo", 1.0), ("weight_stop_hi", 1.0)],
    ("fir_hilbert", "FIRHilbertFilterSettings"): [
        ("order", 170), ("f_lo", 1.0), ("f_hi", None), ("trans_lo", 1.0), ("trans_hi", 1.0),
        ("weight_pass", 1.0), ("weight_stop_lo", 1.0), ("weight_stop_hi", 1.0),
        ("norm_band", None), ("norm_freq", None)],
    ("gaussiansmoothing", "GaussianSmoothingSettings"): [
        ("sigma", 0.01), ("width", 4), ("kernel_size", None), ("causal", False)],
}
CLASSES = sorted(PEER_FIELDS)


def _cls(key):
    return getattr(importlib.import_module(f"ezmsg_sigproc_units.{key[0]}"), key[1])


# ---------------------------------------------------------------- field order and defaults


@pytest.mark.parametrize("key", CLASSES, ids=lambda k: k[1])
def test_positional_fields_are_the_peers(key):
    """The positional parameters are exactly the peer's fields, in its order, with its
    defaults; our additions are keyword only."""
    cls = _cls(key)
    want = _BASE + PEER_FIELDS[key]
    params = inspect.signature(cls).parameters.values()
    positional = [(p.name, p.default) for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == want
    peer_names = {n for n, _ in want}
    extra = [f for f in dataclasses.fields(cls) if f.name not in peer_names]
    assert all(f.kw_only for f in extra), [f.name for f in extra if not f.kw_only]


@pytest.mark.parametrize("key", CLASSES, ids=lambda k: k[1])
def test_peer_positional_construction(key):
    """``Settings(*values)`` in the peer's order assigns each value to the peer's field."""
    names = [n for n, _ in _BASE + PEER_FIELDS[key]]
    values = ["time", "sos", False, False, (256, 1024), 0, 32]
    s = _cls(key)(*values)
    assert [getattr(s, n) for n in names[:len(values)]] == values


# ---------------------------------------------------------------- MLX / threading knobs


@pytest.mark.parametrize("key", CLASSES, ids=lambda k: k[1])
@pytest.mark.parametrize("kwargs,field", [
    (dict(use_mlx_metal="no"), "use_mlx_metal"),
    (dict(use_mlx_metal=1), "use_mlx_metal"),
    (dict(mlx_metal_chunk_sizes=()), "mlx_metal_chunk_sizes"),
    (dict(mlx_metal_chunk_sizes=(0,)), "mlx_metal_chunk_sizes"),
    (dict(mlx_metal_chunk_sizes=512), "mlx_metal_chunk_sizes"),
    (dict(mlx_metal_chunk_sizes=(1.5,)), "mlx_metal_chunk_sizes"),
    (dict(mlx_metal_chunk_sizes=(True,)), "mlx_metal_chunk_sizes"),
    (dict(thread_min_bytes=-1), "thread_min_bytes"),
    (dict(thread_min_bytes=1.5), "thread_min_bytes"),
    (dict(thread_min_bytes=None), "thread_min_bytes"),
])
def test_knobs_reject_garbage(key, kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        _cls(key)(**kwargs)


def _butter(**kw):
    from ezmsg_sigproc_units.butterworthfilter import (
        ButterworthFilterSettings,
        ButterworthFilterTransformer,
    )
    return ButterworthFilterTransformer(ButterworthFilterSettings(
        axis="time", order=4, cuton=5.0, cutoff=30.0, coef_type="sos", **kw))


def _fir(**kw):
    from ezmsg_sigproc_units.firfilter import FIRFilterSettings, FIRFilterTransformer
    return FIRFilterTransformer(FIRFilterSettings(axis="time", order=15, cutoff=30.0, **kw))


def test_knobs_have_no_effect(backend, float_dtype):
    """The MLX/threading knobs leave the output unchanged, on every backend."""
    _, msg = time_signal(backend, dtype=float_dtype, fs=200.0, offset=0.5)
    for make in (_butter, _fir):
        ref = make()(msg).data
        out = make(use_mlx_metal=False, mlx_metal_chunk_sizes=[64, 1024],
                   thread_min_bytes=0)(msg).data
        assert_close(out, ref)


@pytest.mark.parametrize("make", [_butter, _fir], ids=["iir", "fir"])
def test_updating_only_knobs_keeps_the_filter_running(make):
    """A settings update of only the knobs neither restarts nor redesigns the filter: the
    stream continues as if nothing had changed."""
    _, msg = time_signal(Backend.NUMPY, fs=200.0, offset=0.5)
    whole = make()(msg).data
    t = make()
    first, second = split_message(msg, [20, msg.data.shape[0] - 20])
    a = t(first).data
    t.update_settings(use_mlx_metal=False, thread_min_bytes=0, mlx_metal_chunk_sizes=(32,))
    np.testing.assert_allclose(np.concatenate([a, t(second).data]), whole, rtol=1e-10,
                               atol=1e-12)


# ---------------------------------------------------------------- coef_type="sos" on FIR designs

FS = 500.0


def _designs():
    from ezmsg_sigproc_units import fir_hilbert, fir_pmc, firfilter, gaussiansmoothing, kaiser
    return {
        "firwin12": (firfilter.FIRFilterTransformer, firfilter.FIRFilterSettings,
                     dict(order=12, cutoff=50.0)),
        "firwin101": (firfilter.FIRFilterTransformer, firfilter.FIRFilterSettings,
                      dict(order=101, cutoff=50.0)),
        "kaiser": (kaiser.KaiserFilterTransformer, kaiser.KaiserFilterSettings,
                   dict(cutoff=50.0, ripple=40.0, width=20.0)),
        "pmc": (fir_pmc.ParksMcClellanFIRTransformer, fir_pmc.ParksMcClellanFIRSettings,
                dict(order=32, cuton=20.0, cutoff=80.0)),
        "hilbert": (fir_hilbert.FIRHilbertFilterTransformer,
                    fir_hilbert.FIRHilbertFilterSettings, dict(order=30, f_lo=10.0)),
        "gaussian": (gaussiansmoothing.GaussianSmoothingFilterTransformer,
                     gaussiansmoothing.GaussianSmoothingSettings, dict(sigma=0.01)),
    }


DESIGNS = ["firwin12", "firwin101", "kaiser", "pmc", "hilbert", "gaussian"]


def _taps(name):
    T, S, kw = _designs()[name]
    return T(S(**kw)).get_design_function()(FS)[0]


@pytest.mark.parametrize("name", DESIGNS)
def test_fir_sos_streams_the_taps(name, backend, float_dtype):
    """``coef_type="sos"`` on an FIR design filters with the design's taps: any chunking
    equals ``lfilter(taps, 1)`` on the whole signal, on every backend."""
    T, S, kw = _designs()[name]
    assert_streams_like_scipy(lambda: T(S(axis="time", coef_type="sos", initial_state="zero",
                                            **kw)),
                              backend, float_dtype, fs=FS, b=_taps(name))


@pytest.mark.parametrize("name", ["firwin12", "kaiser", "pmc", "hilbert", "gaussian"])
def test_fir_sos_equals_the_peers_sections(name):
    """Where the taps' second-order sections are well conditioned, filtering with the taps
    gives what ezmsg-sigproc computes for ``coef_type="sos"``: ``sosfilt`` of
    ``tf2sos(taps)`` from the steady state of the first sample (its default), and the same
    as ``coef_type="ba"``."""
    T, S, kw = _designs()[name]
    host, msg = time_signal(Backend.NUMPY, (400, 3), fs=FS, offset=0.5, seed=4)
    sos = scipy.signal.tf2sos(_taps(name), [1.0])
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * host[0]
    ref = scipy.signal.sosfilt(sos, host, axis=0, zi=zi)[0]
    out = T(S(axis="time", coef_type="sos", **kw))(msg).data
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    np.testing.assert_array_equal(out, T(S(axis="time", coef_type="ba", **kw))(msg).data)


def test_fir_sos_redesign_keeps_running():
    """Switching an FIR design between "ba" and "sos" mid-stream changes nothing."""
    _, msg = time_signal(Backend.NUMPY, fs=200.0, offset=0.5)
    whole = _fir()(msg).data
    t = _fir()
    first, second = split_message(msg, [20, msg.data.shape[0] - 20])
    a = t(first).data
    t.update_settings(coef_type="sos")
    np.testing.assert_allclose(np.concatenate([a, t(second).data]), whole, rtol=1e-12,
                               atol=1e-12)


# ---------------------------------------------------------------- GaussianSmoothing passthrough


def _gauss(**kw):
    from ezmsg_sigproc_units.gaussiansmoothing import (
        GaussianSmoothingFilterTransformer,
        GaussianSmoothingSettings,
    )
    return GaussianSmoothingFilterTransformer(GaussianSmoothingSettings(axis="time", **kw))


@pytest.mark.parametrize("kw", [dict(sigma=0.0), dict(sigma=0), dict(width=0), dict(width=-1),
                                dict(width=None), dict(kernel_size=1), dict(kernel_size=0),
                                dict(kernel_size=-3), dict(width=0, kernel_size=9)],
                         ids=str)
def test_gaussian_passthrough_values(kw, backend):
    """``sigma`` 0, ``width`` None or <= 0, ``kernel_size`` <= 1: data passes unchanged,
    silently, on every backend."""
    _, msg = time_signal(backend, fs=200.0, offset=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _gauss(**kw)(msg)
    assert out.data is msg.data


def test_gaussian_one_tap_design_warns_and_is_identity(backend, float_dtype):
    """A sigma so small that the kernel has one tap is the identity, with a UserWarning."""
    _, msg = time_signal(backend, dtype=float_dtype, fs=200.0, offset=0.5)
    for causal in (False, True):
        with pytest.warns(UserWarning, match="one-tap"):
            out = _gauss(sigma=0.0005, causal=causal)(msg)  # 0.1 samples: int(0.8) + 1 = 1 tap
        assert_close(out.data, msg.data)


def test_gaussian_smooths_just_above_the_passthrough_values():
    """The next values up smooth: ``kernel_size=2``, a small positive ``width``."""
    host, msg = time_signal(Backend.NUMPY, fs=200.0, offset=0.5)
    for kw in (dict(kernel_size=2), dict(width=0.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = _gauss(initial_state="zero", **kw)(msg).data
        assert not np.allclose(out, host)


@pytest.mark.parametrize("kwargs,field", [
    (dict(sigma=-0.01), "sigma"),
    (dict(sigma=float("nan")), "sigma"),
    (dict(width=float("nan")), "width"),
    (dict(kernel_size=1.5), "kernel_size"),
])
def test_gaussian_garbage_still_raises(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        _gauss(**kwargs)
