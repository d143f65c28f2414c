"""The one reset rule, checked on every stateful processor of the catalog.

Each stateful configuration (found by type, so a new processor added to the catalog is covered
without touching this file) runs a short stream, then the stream switches one thing: the array
library, the device, the float dtype or the channel count. The message after the switch must
give exactly what a fresh processor gives for it (a clean reset: no state of the old stream
leaks into the new one), in the new namespace, device and dtype; where the fresh processor
rejects the message, the running one must reject it the same way.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from ezmsg.baseproc import BaseStatefulProcessor, CompositeProcessor
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis

from ezmsg_sigproc_units._backend import array_namespace, device_of, dtype_name
from ezmsg_sigproc_units.diff import DiffSettings, DiffTransformer
from ezmsg_sigproc_units.testing import Backend, assert_close
from ezmsg_sigproc_units.testing.catalog import Config, configs

N_CH_AFTER = 5
"""Channel count after the channel switch (the catalog's inputs have 8)."""


def _is_stateful(proc: Any) -> bool:
    return isinstance(proc, (BaseStatefulProcessor, CompositeProcessor))


STATEFUL = [c for c in configs() if not c.two_input and _is_stateful(c.make())]
IDS = [f"{c.module}:{c.label}" for c in STATEFUL]

# (name, backend before, backend after, dtype after, channels after)
SWITCHES = [
    ("numpy->strict", Backend.NUMPY, Backend.ARRAY_API_STRICT, None, None),
    ("numpy->torch", Backend.NUMPY, Backend.TORCH, None, None),
    ("strict->strict@device1", Backend.ARRAY_API_STRICT, Backend.ARRAY_API_STRICT_DEVICE1,
     None, None),
    ("float32->float64", Backend.NUMPY, Backend.NUMPY, "float64", None),
    ("channels 8->5", Backend.NUMPY, Backend.NUMPY, None, N_CH_AFTER),
]


def _after(msg: AxisArray, b: Backend, dtype: str | None, n_ch: int | None) -> AxisArray:
    """The first message of the new stream: other values than ``msg`` (so leaked state
    shows), optionally in ``dtype`` and with the first ``n_ch`` entries of its second dim."""
    xp, x = b.xp, msg.data
    x = x * 0.5 + 0.25  # stays positive: the catalog's inputs suit log and invert
    if dtype is not None:
        x = xp.astype(x, getattr(xp, dtype))
    axes = dict(msg.axes)
    if n_ch is not None:
        dim = msg.dims[1]
        x = x[:, :n_ch, ...]
        ax = axes.get(dim)
        if isinstance(ax, CoordinateAxis):
            axes[dim] = CoordinateAxis(data=np.asarray(ax.data)[:n_ch], dims=ax.dims,
                                       unit=ax.unit)
    return AxisArray(x, dims=list(msg.dims), axes=axes, attrs=dict(msg.attrs), key=msg.key,
                     stream_dim=msg.stream_dim)


def _run(proc: Any, msg: AxisArray) -> tuple[Any, type | None]:
    """``(output, None)``, or ``(None, exception type)`` when ``proc`` rejects ``msg``."""
    try:
        return proc(msg), None
    except Exception as exc:  # noqa: BLE001 - the fresh processor's error is the reference
        return None, type(exc)


def _assert_same_axes(out: AxisArray, ref: AxisArray) -> None:
    assert out.dims == ref.dims
    assert set(out.axes) == set(ref.axes)
    for name, ax in ref.axes.items():
        got = out.axes[name]
        assert type(got) is type(ax), name
        if isinstance(ax, CoordinateAxis):
            np.testing.assert_array_equal(np.asarray(got.data), np.asarray(ax.data))
        else:
            assert (got.gain, got.offset) == (ax.gain, ax.offset), name


def check_clean_reset(cfg: Config, before: Backend, after: Backend, dtype: str | None = None,
                      n_ch: int | None = None) -> None:
    """Stream a message on ``before``, switch, and compare the next output with a fresh
    processor's (see the module docstring)."""
    first = cfg.inputs(before)[0]
    new = _after(cfg.inputs(after)[0], after, dtype, n_ch)
    proc = cfg.make()
    proc(first)
    out, err = _run(proc, new)
    ref, ref_err = _run(cfg.make(), new)
    if ref_err is not None:
        assert err is ref_err, f"fresh processor raised {ref_err.__name__}; running one {err}"
        return
    assert err is None, f"the switch raised {err.__name__}; a fresh processor did not"
    assert ref is not None and out is not None
    xp_new, dev_new = array_namespace(new.data), device_of(new.data)
    want = dtype_name(new.data.dtype)
    if cfg.out_dtype is not None:  # complex output of a real input
        want = {"float32": "complex64", "float64": "complex128"}[want]
    if cfg.target is None:  # the reference itself is in the new stream's namespace etc.
        assert array_namespace(ref.data) is xp_new
        assert str(device_of(ref.data)) == str(dev_new)
        assert dtype_name(ref.data.dtype) == want
    assert_close(out.data, ref.data, err_msg=f"{cfg.module}:{cfg.label} after the switch")
    _assert_same_axes(out, ref)


def test_catalog_has_stateful_processors():
    """Guard: the programmatic selection must find the stateful families, or the parametrised
    test below proves nothing."""
    kinds = {type(c.make()).__name__ for c in STATEFUL}
    assert len(STATEFUL) >= 40 and len(kinds) >= 20, sorted(kinds)
    for name in ("DiffTransformer", "FilterbankTransformer", "SpectrumTransformer",
                 "ButterworthZeroPhaseTransformer", "ResampleTransformer",
                 "RangedAggregateTransformer", "BandPowerTransformer", "FilterTransformer"):
        assert name in kinds, name


@pytest.mark.parametrize("switch", SWITCHES, ids=[s[0] for s in SWITCHES])
@pytest.mark.parametrize("cfg", STATEFUL, ids=IDS)
def test_switch_mid_stream_resets_cleanly(cfg: Config, switch: tuple, caplog) -> None:
    _, before, after, dtype, n_ch = switch
    for b in (before, after):
        reason = b.unavailable_reason()
        if reason is not None:
            pytest.skip(f"{b.value}: {reason}")
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        check_clean_reset(cfg, before, after, dtype, n_ch)
    first = cfg.inputs(before)[0]
    own_axis = getattr(cfg.make(), "_axis", lambda m: None)(first)
    if n_ch is not None and own_axis != first.dims[1]:
        # a channel-count change is logged (the shared rule), unless that dim is the one the
        # processor works along (its length may change every message)
        assert f"changed from 8 to {n_ch}; state reset" in caplog.text, caplog.text


class _NeverResets(DiffTransformer):
    """A processor that breaks the rule: it keeps its state across every switch."""

    def _hash_message(self, message: AxisArray) -> int:
        return 0


@pytest.mark.parametrize("switch", SWITCHES, ids=[s[0] for s in SWITCHES])
def test_check_catches_a_processor_that_keeps_its_state(switch: tuple) -> None:
    """The check can fail: state carried over a switch shows in the output (or crashes)."""
    _, before, after, dtype, n_ch = switch
    for b in (before, after):
        if b.unavailable_reason() is not None:
            pytest.skip(b.value)
    cfg = Config("diff", "never resets",
                 lambda: _NeverResets(DiffSettings(axis="time")))
    with pytest.raises(AssertionError):
        check_clean_reset(cfg, before, after, dtype, n_ch)
