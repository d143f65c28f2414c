"""Processors check a message before they write state, so a rejected message leaves the state
exactly as it was (docs/robustness.md: the Unit restores state only around resets); the FFT
FIR path takes complex input; live settings updates compare array fields by value."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib
import inspect
import pkgutil
import typing

import numpy as np
import pytest
import scipy.signal
from ezmsg.baseproc import CompositeProcessor, CompositeProducer
from ezmsg.baseproc.processor import BaseProcessor, BaseProducer, _get_base_processor_settings_type
from ezmsg.util.messages.axisarray import AxisArray

import ezmsg_sigproc_units
from ezmsg_sigproc_units._processors import SettingsByValueMixin
from ezmsg_sigproc_units.adaptive_lattice_notch import (
    AdaptiveLatticeNotchFilterSettings,
    AdaptiveLatticeNotchFilterTransformer,
)
from ezmsg_sigproc_units.affinetransform import (
    AffineTransform,
    AffineTransformSettings,
    AffineTransformTransformer,
)
from ezmsg_sigproc_units.binned_aggregate import BinnedAggregateSettings, BinnedAggregateTransformer
from ezmsg_sigproc_units.filter import FilterSettings, FilterTransformer
from ezmsg_sigproc_units.linear import LinearTransformSettings, LinearTransformTransformer
from ezmsg_sigproc_units.sampler import SamplerSettings, SamplerTransformer
from ezmsg_sigproc_units.testing import assert_close
from ezmsg_sigproc_units.testing.catalog import configs
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

FS, CHUNK, N_CH = 200.0, 40, 3
SIGNAL = np.random.default_rng(11).standard_normal((6 * CHUNK, N_CH))
TAPS = scipy.signal.firwin(101, [10.0, 40.0], fs=FS, pass_zero=False)  # FFT mode: >= 64 taps


def chunk(i: int) -> AxisArray:
    return AxisArray(SIGNAL[i * CHUNK:(i + 1) * CHUNK].copy(), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=i * CHUNK / FS)})


def forged(i: int, data: typing.Any) -> AxisArray:
    """Chunk ``i`` whose data was replaced after construction (AxisArray checks only then)."""
    msg = chunk(i)
    object.__setattr__(msg, "data", data)
    return msg


def _host(out: typing.Any) -> list[np.ndarray]:
    outs = out if isinstance(out, list) else [out]
    return [np.asarray(o.data) for o in outs]


def _assert_rejection_keeps_state(make: typing.Callable, good: list, bad: typing.Any) -> None:
    """good[0], bad (must raise), good[1:] gives what good alone gives."""
    ref = make()
    want = [_host(ref(m)) for m in good]
    proc = make()
    got = [_host(proc(good[0]))]
    with pytest.raises((ValueError, TypeError)):
        proc(bad)
    got += [_host(proc(m)) for m in good[1:]]
    assert [len(g) for g in got] == [len(w) for w in want]
    for g, w in zip(got, want, strict=True):
        for a, b in zip(g, w, strict=True):
            np.testing.assert_array_equal(a, b)


_RANK = {
    "lattice notch": lambda: AdaptiveLatticeNotchFilterTransformer(
        AdaptiveLatticeNotchFilterSettings()),
    "binned aggregate": lambda: BinnedAggregateTransformer(
        BinnedAggregateSettings(bin_duration=0.03)),  # 6 samples a bin, 4 carried per chunk
}


@pytest.mark.parametrize("name", sorted(_RANK))
def test_a_forged_rank_mismatch_is_rejected_before_state_moves(name):
    bad = forged(1, SIGNAL[:CHUNK, :, None].copy())  # 3-d data, two dims
    _assert_rejection_keeps_state(_RANK[name], [chunk(i) for i in range(4)], bad)


def _sampler() -> SamplerTransformer:
    return SamplerTransformer(SamplerSettings(buffer_dur=1.0, period=(-0.05, 0.05)))


@pytest.mark.parametrize("timestamp", ["0.3", float("nan"), None], ids=["str", "nan", "None"])
def test_a_trigger_with_a_bad_timestamp_is_not_queued(timestamp):
    """Offline use: the bad trigger raises and later triggers still give their epochs (it
    used to join the queue first, and every later trigger then failed on it)."""
    good = [chunk(0), chunk(1), SampleTriggerMessage(timestamp=0.3), chunk(2),
            SampleTriggerMessage(timestamp=0.45), chunk(3)]
    _assert_rejection_keeps_state(_sampler, good, SampleTriggerMessage(timestamp=timestamp))
    proc = _sampler()
    epochs = [e for m in good for e in proc(m)]
    assert [e.data.shape[0] for e in epochs] == [20, 20]


def test_a_block_timing_trigger_needs_no_timestamp():
    proc = SamplerTransformer(SamplerSettings(buffer_dur=1.0, period=(0.0, 0.1),
                                              estimate_alignment=False))
    proc(chunk(0))
    proc(SampleTriggerMessage(timestamp=None))
    assert [e.data.shape[0] for e in proc(chunk(1))] == [20]


# ---- complex input on the FFT FIR path -------------------------------------------------------

def test_fft_fir_filters_complex_input_exactly(backend):
    """Real taps on complex data (the peer filters it; the FFT path raised after writing its
    state): chunked equals scipy's lfilter of the whole signal on every backend."""
    rng = np.random.default_rng(5)
    host = rng.standard_normal((300, 2)) + 1j * rng.standard_normal((300, 2))
    want = scipy.signal.lfilter(TAPS, [1.0], host, axis=0)
    dtype = "complex128" if hasattr(backend.xp, "complex128") else "complex64"
    x = backend.asarray(host, dtype)
    proc = FilterTransformer(FilterSettings(coefs=(TAPS, np.array([1.0])),
                                            initial_state="zero"))
    outs = [proc(AxisArray(x[a:b, ...], dims=["time", "ch"],
                           axes={"time": AxisArray.TimeAxis(fs=FS, offset=a / FS)})).data
            for a, b in ((0, 120), (120, 121), (121, 300))]
    assert proc.state.plan.method == "fft"
    xp = backend.xp
    assert_close(xp.concat(outs, axis=0), want, xp=xp, device=backend.device, dtype=x.dtype,
                 rtol=1e-5 if dtype == "complex64" else 1e-10)


# ---- live settings with array fields ---------------------------------------------------------

def _affine(weights: np.ndarray, **kw: typing.Any) -> AffineTransformTransformer:
    return AffineTransformTransformer(AffineTransformSettings(weights=weights, axis="ch", **kw))


W1 = np.random.default_rng(1).standard_normal((N_CH, 2))
W2 = np.random.default_rng(2).standard_normal((N_CH + 1, 2))  # with an offset row


def test_affine_weights_update_applies_at_the_next_message():
    proc = _affine(W1)
    np.testing.assert_allclose(proc(chunk(0)).data, SIGNAL[:CHUNK] @ W1)
    proc.update_settings(dataclasses.replace(proc.settings, weights=W2))
    x = SIGNAL[CHUNK:2 * CHUNK]
    np.testing.assert_allclose(proc(chunk(1)).data, x @ W2[:N_CH] + W2[N_CH:])
    proc.update_settings(dataclasses.replace(proc.settings, weights=W2.copy()))  # equal: no-op
    proc.update_settings(dataclasses.replace(proc.settings, weights=W1[:, :1].copy(),
                                             kernel="dense"))
    np.testing.assert_allclose(proc(chunk(2)).data, SIGNAL[2 * CHUNK:3 * CHUNK] @ W1[:, :1])


def test_affine_unit_takes_live_weights_and_other_settings():
    """Through the Unit's settings input (validated, applied at the next message)."""
    square = np.random.default_rng(3).standard_normal((N_CH, N_CH))

    async def run() -> list[np.ndarray]:
        unit = AffineTransform(AffineTransformSettings(weights=W1, axis="ch"))
        await unit.initialize()
        outs = []
        for i, update in enumerate([None, AffineTransformSettings(weights=square, axis="ch"),
                                    AffineTransformSettings(weights=square, axis="ch",
                                                            right_multiply=False)]):
            if update is not None:
                await unit.on_settings(update)
            outs += [np.array(o.data) async for _, o in unit.on_signal(chunk(i))]
        assert unit.rejected_settings == 0
        return outs

    got = asyncio.run(run())
    x = [SIGNAL[i * CHUNK:(i + 1) * CHUNK] for i in range(3)]
    for g, w in zip(got, [x[0] @ W1, x[1] @ square, x[2] @ square.T], strict=True):
        np.testing.assert_allclose(g, w)


def test_linear_scale_array_update():
    proc = LinearTransformTransformer(LinearTransformSettings(scale=np.ones(N_CH), axis="ch"))
    proc(chunk(0))
    scale = np.arange(1.0, N_CH + 1)
    proc.update_settings(dataclasses.replace(proc.settings, scale=scale))
    np.testing.assert_allclose(proc(chunk(1)).data, SIGNAL[CHUNK:2 * CHUNK] * scale)


def test_every_catalog_processor_takes_a_copy_of_its_settings():
    """An update with equal values in new objects (arrays included) neither raises nor
    (being no change) needs a reset."""
    for cfg in configs():
        proc = cfg.make()
        if hasattr(proc, "update_settings") and hasattr(proc, "settings"):
            proc.update_settings(copy.deepcopy(proc.settings))


_ARRAYISH = ("ndarray", "ArrayLike", "Any", "dict")


def _processor_classes() -> typing.Iterator[tuple[str, type]]:
    """Every concrete processor or producer class defined in the package."""
    for info in pkgutil.walk_packages(ezmsg_sigproc_units.__path__, "ezmsg_sigproc_units."):
        if info.name.endswith(".cli") or ".testing" in info.name:
            continue
        mod = importlib.import_module(info.name)
        for name, cls in vars(mod).items():
            if (inspect.isclass(cls) and cls.__module__ == mod.__name__
                    and issubclass(cls, (BaseProcessor, BaseProducer))
                    and not inspect.isabstract(cls)):
                yield f"{info.name}.{name}", cls


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # importing the deprecated shims
def test_no_processor_with_array_settings_compares_them_with_ne():
    """ezmsg-baseproc's update_settings (composites' too) compares fields with ``!=`` (an
    array field raises): every processor whose settings may hold arrays overrides it
    (``SettingsByValueMixin``), and the mixin hides no ``update_settings`` of ours."""
    base = (BaseProcessor.update_settings, BaseProducer.update_settings,
            CompositeProcessor.update_settings, CompositeProducer.update_settings)
    offenders, hidden = [], []
    for name, cls in _processor_classes():
        mro = cls.__mro__
        if SettingsByValueMixin in mro:
            hidden += [f"{name}: {c.__name__}" for c in mro[mro.index(SettingsByValueMixin) + 1:]
                       if c.__module__.startswith("ezmsg_sigproc_units")
                       and "update_settings" in vars(c)]
        if cls.update_settings not in base:
            continue
        try:
            settings_type = _get_base_processor_settings_type(cls)
        except TypeError:
            continue
        if dataclasses.is_dataclass(settings_type) and any(
                a in str(f.type) for f in dataclasses.fields(settings_type) for a in _ARRAYISH):
            offenders.append(name)
    assert not offenders
    assert not hidden
