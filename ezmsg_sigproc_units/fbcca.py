"""Filter-bank canonical correlation analysis (FBCCA): which of a set of stimulation
frequencies is present in a multichannel window (SSVEP decoding).

For each test frequency ``f`` the reference is the ``sin``/``cos`` pairs of harmonics
``1..harmonics`` of ``f`` over the window's sample times; the score of a (sub-band) signal is
its largest canonical correlation with that reference (Lin et al. 2007). Sub-bands (a
``filterbank_dim``) are combined as ``sum_b rho_b**2 * (b**-1.25 + 0.25)`` (Chen et al.
2015), then, unless ``softmax_beta`` is 0, turned into probabilities over the frequencies
by a shifted softmax.

Input: any dims with ``time_dim`` and ``ch_dim`` (and ``filterbank_dim``); output: the other
dims, in order, then ``target_freq_dim``. The CCA runs batched on the data's own backend and
device, in its float dtype (:mod:`~ezmsg_sigproc_units._kernels.cca`); the references are
built on the host from the time axis (metadata only) and kept on the device per layout.
"""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseProcessor, BaseStatefulProcessor, CompositeProcessor
from ezmsg.util.messages.axisarray import AxisArray

from ._backend import arange, array_namespace, asarray, device_of, float_dtype_for, zeros
from ._kernels import cca as _cca
from ._messages import axis_index, replace_fields
from ._processors import StatelessTransformer
from ._units import TransformerUnit
from ._validate import check_count, check_real
from .filterbankdesign import FilterbankDesignSettings, FilterbankDesignTransformer
from .kaiser import KaiserFilterSettings
from .util.message import SampleTriggerMessage, with_fingerprint
from .window import WindowSettings, WindowTransformer


class FBCCASettings(ez.Settings):
    time_dim: str
    """The time dim of the input. Required."""

    ch_dim: str
    """The channel dim of the input. Required."""

    filterbank_dim: str | None = None
    """The sub-band dim of the input; None (default): no sub-bands (plain CCA)."""

    harmonics: int = 5
    """Harmonics of each test frequency in its reference (the fundamental included).
    Default 5."""

    freqs: list[float] = field(default_factory=list)
    """Test frequencies (Hz). Default []: taken from the input's ``attrs["trigger"]`` (a
    ``SampleTriggerMessage`` with a ``freqs`` attribute)."""

    softmax_beta: float = 1.0
    """Softmax inverse temperature over the frequencies; 0 outputs the combined squared
    correlations themselves. Default 1.0."""

    target_freq_dim: str = "target_freq"
    """Name of the output dim of the test frequencies. Default ``"target_freq"``."""

    max_int_time: float = 0.0
    """Use only the window's first ``max_int_time`` seconds (the samples before the one
    nearest that time); 0 (default): the whole window."""

    def __post_init__(self) -> None:
        for name in ("time_dim", "ch_dim", "target_freq_dim"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v:
                raise ValueError(f"{name}: must be a non-empty dim name, got {v!r}")
        if self.filterbank_dim is not None and (
                not isinstance(self.filterbank_dim, str) or not self.filterbank_dim):
            raise ValueError(f"filterbank_dim: must be a dim name or None, got "
                             f"{self.filterbank_dim!r}")
        check_count("harmonics", self.harmonics, minimum=1)
        _check_freqs(self.freqs)
        check_real("softmax_beta", self.softmax_beta)
        check_real("max_int_time", self.max_int_time, minimum=0.0)


def _check_freqs(freqs: Any) -> None:
    try:
        f = np.asarray(freqs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"freqs: expected a list of frequencies (Hz), got {freqs!r}") from None
    if f.ndim != 1 or not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ValueError(f"freqs: expected positive finite frequencies (Hz), got {freqs!r}")


class FBCCATransformer(StatelessTransformer[FBCCASettings, AxisArray, AxisArray]):
    """FBCCA scores of each window; see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refs: dict = {}

    def _freqs(self, message: AxisArray) -> list[float]:
        freqs = list(self.settings.freqs)
        trigger = message.attrs.get("trigger") if hasattr(message, "attrs") else None
        if not freqs and isinstance(trigger, SampleTriggerMessage):
            freqs = list(getattr(trigger, "freqs", []) or [])
            _check_freqs(freqs)
        if not freqs:
            raise ValueError("freqs: no frequencies to test (none in the settings, none in "
                             "the message's trigger)")
        return freqs

    def _reference(self, xp: Any, t: np.ndarray, freqs: list[float], dt: Any, dev: Any) -> Any:
        key = (t.tobytes(), tuple(freqs), str(dt), str(dev))
        ref = self._refs.get(key)
        if ref is None:
            if len(self._refs) >= 8:
                self._refs.clear()
            host = _cca.reference_bases(t, freqs, self.settings.harmonics)
            ref = self._refs[key] = asarray(xp, host, dtype=dt, device=dev)
        return ref

    def _process(self, message: AxisArray) -> AxisArray:
        s = self.settings
        freqs = self._freqs(message)
        rm = ([s.filterbank_dim] if s.filterbank_dim is not None else []) + [s.time_dim, s.ch_dim]
        ixs = [axis_index(message, d) for d in rm]
        keep = [i for i, d in enumerate(message.dims) if d not in rm]
        x = message.data
        xp, dev = array_namespace(x), device_of(x)
        dt = float_dtype_for(xp, x.dtype, dev)
        x = xp.permute_dims(x, tuple(keep + ixs))
        if len(ixs) == 2:
            x = xp.reshape(x, x.shape[: len(keep)] + (1,) + x.shape[len(keep):])
        outer = tuple(x.shape[: len(keep)])
        nb, T, c = x.shape[-3:]
        x = xp.reshape(x if x.dtype == dt else xp.astype(x, dt), (math.prod(outer) * nb, T, c))
        t = _times(message.axes.get(s.time_dim), message, s.time_dim, T)
        n = T
        if s.max_int_time > 0 and T:
            n = int(np.argmin(np.abs(t - s.max_int_time)))
        F = len(freqs)
        if x.shape[0] == 0 or n == 0 or c == 0:
            rho = zeros(xp, (x.shape[0], F), dtype=dt, device=dev)
        else:
            rho = _cca.rho_max(xp, x[:, :n, :], self._reference(xp, t[:n], freqs, dt, dev))
        w = arange(xp, 1, nb + 1, dtype=dt, device=dev) ** -1.25 + 0.25
        score = xp.sum(xp.reshape(rho * rho, (-1, nb, F)) * xp.reshape(w, (1, nb, 1)), axis=1)
        if s.softmax_beta != 0:
            score = _cca.softmax(xp, score, axis=-1, beta=s.softmax_beta)
        axes = {k: v for k, v in message.axes.items() if k not in rm and not (
            isinstance(v, AxisArray.CoordinateAxis) and any(d in rm for d in v.dims))}
        axes[s.target_freq_dim] = with_fingerprint(
            AxisArray.CoordinateAxis(np.array(freqs), [s.target_freq_dim]))
        return replace_fields(message, data=xp.reshape(score, outer + (F,)),
                              dims=[message.dims[i] for i in keep] + [s.target_freq_dim],
                              axes=axes)


def _times(ax: Any, message: AxisArray, dim: str, n: int) -> np.ndarray:
    """Sample times from the window's first sample (s): exact multiples of the period for a
    LinearAxis (the reference cache key repeats from window to window)."""
    gain = getattr(ax, "gain", None)
    if isinstance(ax, AxisArray.LinearAxis) and gain is not None:
        return np.arange(n) * float(gain)
    t = np.asarray(message.ax(dim).values, dtype=np.float64)
    return t - t[0] if t.shape[0] else t


class FBCCA(TransformerUnit[FBCCASettings, AxisArray, AxisArray, FBCCATransformer]):
    SETTINGS = FBCCASettings


class StreamingFBCCASettings(FBCCASettings):
    """FBCCA over a sliding window: optionally a Kaiser filterbank of ``subbands`` high-passed
    bands (when ``filterbank_dim`` is set), then windows of ``window_dur`` every
    ``window_shift`` seconds along ``time_dim``, then :class:`FBCCATransformer`."""

    window_dur: float = 4.0
    """Window length (s). Default 4.0."""

    window_shift: float = 0.5
    """Hop between windows (s). Default 0.5."""

    window_dim: str = "fbcca_window"
    """Name of the window dim. Default ``"fbcca_window"``."""

    filter_bw: float = 7.0
    """Spacing of the sub-bands' lower edges (Hz). Default 7.0."""

    filter_low: float = 7.0
    """Lower edge of the first sub-band (Hz). Default 7.0."""

    trans_bw: float = 2.0
    """Transition width of the sub-band filters (Hz). Default 2.0."""

    ripple_db: float = 20.0
    """Stop-band attenuation of the sub-band filters (dB). Default 20.0."""

    subbands: int = 12
    """Number of sub-bands. Default 12."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("window_dur", "window_shift", "filter_bw", "trans_bw"):
            check_real(name, getattr(self, name), minimum=0.0)
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        check_real("filter_low", self.filter_low)
        check_real("ripple_db", self.ripple_db, minimum=0.0)
        check_count("subbands", self.subbands, minimum=1)
        if not isinstance(self.window_dim, str) or not self.window_dim:
            raise ValueError(f"window_dim: must be a non-empty dim name, got "
                             f"{self.window_dim!r}")


class StreamingFBCCATransformer(CompositeProcessor[StreamingFBCCASettings, AxisArray,
                                                   AxisArray]):
    """Filterbank (when ``filterbank_dim`` is set), window, FBCCA, in that order."""

    @staticmethod
    def _initialize_processors(settings: StreamingFBCCASettings
                               ) -> dict[str, BaseProcessor | BaseStatefulProcessor]:
        s = settings
        out: dict[str, Any] = {}
        if s.filterbank_dim is not None:
            edges = np.arange(s.subbands + 1) * s.filter_bw + s.filter_low
            filters = [KaiserFilterSettings(axis=s.time_dim, cutoff=(e - s.trans_bw, edges[-1]),
                                            ripple=s.ripple_db, width=s.trans_bw,
                                            pass_zero=False) for e in edges[:-1]]
            out["filterbank"] = FilterbankDesignTransformer(FilterbankDesignSettings(
                filters=filters, axis=s.time_dim, new_axis=s.filterbank_dim))
        out["window"] = WindowTransformer(WindowSettings(
            axis=s.time_dim, newaxis=s.window_dim, window_dur=s.window_dur,
            window_shift=s.window_shift, zero_pad_until="shift"))
        out["fbcca"] = FBCCATransformer(s)
        return out


class StreamingFBCCA(TransformerUnit[StreamingFBCCASettings, AxisArray, AxisArray,
                                     StreamingFBCCATransformer]):
    SETTINGS = StreamingFBCCASettings


def cca_rho_max(X: Any, Y: Any) -> float:
    """Largest canonical correlation (0 to 1) between the columns of ``X`` ``(n_time, n_ch)``
    and of ``Y`` ``(n_time, n_ref)``, any backend (``Y`` is read on the host: it is a
    reference design matrix). Zero-variance columns are ignored; 0.0 when none is left."""
    xp = array_namespace(X)
    from ._backend import to_host

    y = to_host(Y).astype(np.float64)
    y = y - y.mean(axis=0, keepdims=True)
    y = y[:, y.std(axis=0) > 1e-12]
    if y.shape[1] == 0 or X.shape[0] == 0 or X.shape[1] == 0:
        return 0.0
    q, _ = np.linalg.qr(y, mode="reduced")
    dt = float_dtype_for(xp, X.dtype, device_of(X))
    x = xp.reshape(X if X.dtype == dt else xp.astype(X, dt), (1, X.shape[0], X.shape[1]))
    zy = asarray(xp, q[None, ...], dtype=dt, device=device_of(X))
    return float(_cca.rho_max(xp, x, zy)[0, 0])


def calc_softmax(cv: Any, axis: int, beta: float = 1.0) -> Any:
    """Softmax of ``cv`` along ``axis`` with inverse temperature ``beta`` (shifted by the
    maximum first, so it cannot overflow), in ``cv``'s namespace."""
    return _cca.softmax(array_namespace(cv), cv, axis=axis, beta=beta)
