"""Streaming continuous wavelet transform (CWT).

Input ``(..., time, ...)`` -> output with the other dims first (in order), then a new
``"freq"`` dim (one entry per scale), then the time axis: ``(time, ch)`` -> ``(ch, freq,
time)``. The ``freq`` axis is a CoordinateAxis of the scales' centre frequencies in Hz.

At scale ``s`` the output is ``-sqrt(s) * diff(conv(x, k_s))`` with ``k_s`` the integrated
wavelet resampled to the scale (``pywt.cwt``'s construction, causal: a stream cannot centre
the wavelet on future samples), continued across chunks, so any chunking gives the same
numbers. The wavelet tables are built on the host by PyWavelets when the state resets; each
chunk is then one FFT overlap-save frame on the data's own backend and device, in its float
dtype (complex wavelets such as ``cmor1.5-1.0`` give the matching complex dtype).
"""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from . import _cwt_design
from ._backend import asarray, float_dtype_for, namespace_and_device, zeros
from ._backend import fft as _fft
from ._kernels import axes as _axes
from ._kernels import cwt as _cwt
from ._messages import axis_index, replace_fields
from ._processors import SettingsByValueMixin, StreamAxisMixin
from ._units import TransformerUnit
from ._validate import check_member
from .filterbank import MinPhaseMode
from .util.message import with_fingerprint


def _positive_values(name: str, value: Any) -> None:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a sequence of numbers, got {value!r}") from None
    if arr.ndim != 1 or arr.shape[0] < 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name}: expected a non-empty 1-D sequence of positive finite "
                         f"numbers, got {value!r}")


class CWTSettings(ez.Settings):
    frequencies: list | tuple | np.ndarray | None
    """Centre frequencies in Hz (sorted smallest first in the output). None: use ``scales``.
    Required (no default)."""

    wavelet: Any
    """PyWavelets wavelet name (``"morl"``, ``"cmor1.5-1.0"``, ``"mexh"``, ...) or a
    ``pywt.ContinuousWavelet``. Required (no default)."""

    min_phase: MinPhaseMode = MinPhaseMode.NONE
    """Convert each (real) scale kernel to minimum phase first (HILBERT or HOMOMORPHIC, as
    ``scipy.signal.minimum_phase``); complex wavelets cannot be. Default NONE."""

    axis: str | None = None
    """Dim to transform along. None (default): the message's ``stream_dim``, else
    ``"time"``."""

    scales: list | tuple | np.ndarray | None = None
    """Wavelet scales (used when ``frequencies`` is None; sorted largest first). Default
    None."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_phase",
                           check_member(MinPhaseMode, "min_phase", self.min_phase))
        if self.frequencies is not None:
            _positive_values("frequencies", self.frequencies)
        elif self.scales is not None:
            _positive_values("scales", self.scales)
        else:
            raise ValueError("frequencies: give frequencies (Hz) or scales; both are None")
        cplx = _cwt_design.is_complex(self.wavelet)
        if cplx and self.min_phase is not MinPhaseMode.NONE:
            raise ValueError("min_phase: complex wavelets cannot be converted to minimum "
                             "phase (scipy.signal.minimum_phase takes real filters)")
        if self.axis is not None and (not isinstance(self.axis, str) or not self.axis):
            raise ValueError(f"axis: must be a dim name or None, got {self.axis!r}")


@processor_state
class CWTState:
    axis: str = ""
    """Name of the dim being transformed."""

    taps: tuple = ()
    """Per group of scales, the FIR taps ``(m_g + 1, kk)`` on the data's device (difference
    and ``-sqrt(s)`` folded in; real then imaginary columns for a complex wavelet)."""

    ms: tuple[int, ...] = ()
    """Each group's ``m_g`` (taps - 1)."""

    span: tuple[tuple[int, ...], ...] = ()
    """Each group's column lengths without trailing zeros (non-finite input handling)."""

    n_cplx: tuple[int, ...] = ()
    """Per group, the scales joined as complex (0 for a real wavelet)."""

    spectra: dict | None = None
    """``{(group, frame length): taps' spectrum}``, filled on the device as chunk lengths
    appear."""

    direct: bool = False
    """Direct convolution (the backend's FFT would lose the dtype's precision)."""

    tail: Any = None
    """The last ``m`` inputs ``(m, C)``, C the flattened other dims."""

    n_scales: int = 0
    dims: tuple[str, ...] = ()
    freq_axis: Any = None


class CWTTransformer(SettingsByValueMixin, StreamAxisMixin,
                     BaseStatefulTransformer[CWTSettings, AxisArray, AxisArray, CWTState]):
    """Streaming CWT; see the module docstring for the layout and the numbers. State resets
    by the shared rule (``StreamAxisMixin``): the other dims' layout, the sampling period, the
    data's namespace, device or dtype."""

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis = self._axis(message)
        ix = axis_index(message, axis)
        if "freq" in message.dims:
            raise ValueError(f"CWT adds a 'freq' dim but the input already has one "
                             f"(dims={list(message.dims)}); rename or remove it first")
        ax = message.axes.get(axis)
        gain = float(getattr(ax, "gain", 1.0))
        xp, dev = namespace_and_device(message.data)
        dt = float_dtype_for(xp, message.data.dtype, dev)
        single = dt != getattr(xp, "float64", None)
        mp = None if s.min_phase is MinPhaseMode.NONE else s.min_phase.name.lower()
        taps, freqs, cplx = _cwt_design.design(s.wavelet, s.frequencies, s.scales, gain, single, mp)
        K = freqs.shape[0]
        grp = _cwt.groups(taps, K, cplx)
        host = [_cwt.group_taps(taps, K, cplx, a, b, mg) for a, b, mg in grp]
        st.taps = tuple(asarray(xp, h, dtype=dt, device=dev) for h in host)
        st.ms = tuple(mg for _, _, mg in grp)
        st.span = tuple(_cwt.spans(h) for h in host)
        st.n_cplx = tuple((b - a) if cplx else 0 for a, b, _ in grp)
        st.spectra = {}
        st.direct = not _fft.fft_keeps_precision(xp, dt)
        st.n_scales = K
        shape = message.data.shape
        other = [d for d in range(len(shape)) if d != ix]
        n_ch = int(np.prod([shape[d] for d in other]))
        st.tail = zeros(xp, (taps.shape[0] - 1, n_ch), dtype=dt, device=dev)
        st.axis = axis
        st.dims = tuple(message.dims[d] for d in other) + ("freq", axis)
        st.freq_axis = with_fingerprint(
            AxisArray.CoordinateAxis(data=freqs, dims=["freq"], unit="Hz"))

    def _tables(self, xp: Any, T: int) -> tuple:
        st = self._state
        if st.direct:
            return st.taps
        out = []
        for g, (taps, mg) in enumerate(zip(st.taps, st.ms, strict=True)):
            n = _cwt.fft_size(T + mg)
            spec = st.spectra.get((g, n))
            if spec is None:
                spec = st.spectra[(g, n)] = _cwt.bank_spectrum(xp, taps, n)
            out.append(spec)
        return tuple(out)

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        x = message.data
        xp, _ = namespace_and_device(x)
        x2, rest = _axes.to_time_major(xp, x, axis_index(message, st.axis))
        T = x2.shape[0]
        if x2.dtype != st.tail.dtype:
            x2 = xp.astype(x2, st.tail.dtype)
        y, st.tail = _cwt.cwt_bank(xp, self._tables(xp, T), st.tail, x2, direct=st.direct,
                                   ms=st.ms, span=st.span, n_cplx=st.n_cplx)
        y = xp.reshape(y, rest + (st.n_scales, T))
        return replace_fields(message, data=y, dims=list(st.dims),
                              axes={**message.axes, "freq": st.freq_axis})


class CWT(TransformerUnit[CWTSettings, AxisArray, AxisArray, CWTTransformer]):
    SETTINGS = CWTSettings


def cwt(
    frequencies: list | tuple | np.ndarray | None,
    wavelet: Any,
    min_phase: MinPhaseMode = MinPhaseMode.NONE,
    axis: str | None = "time",
    scales: list | tuple | np.ndarray | None = None,
) -> CWTTransformer:
    """A :class:`CWTTransformer` (defaults as :class:`CWTSettings`, except ``axis``:
    ``"time"``, as the peer's factory)."""
    return CWTTransformer(CWTSettings(frequencies=frequencies, wavelet=wavelet,
                                      min_phase=min_phase, axis=axis, scales=scales))
