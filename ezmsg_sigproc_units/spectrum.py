"""Spectrum of each message along one axis (the whole chunk is one FFT frame).

The axis is replaced by a frequency axis (``out_axis``, a LinearAxis in Hz). Window tables,
bin selections and scale factors are built on the host once per message layout and kept on
the data's device; ``_process`` only multiplies, transforms and reorders on the device.
"""

from __future__ import annotations

import enum
import math
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import (
    array_namespace,
    asarray,
    device_of,
    dtype_from_name,
    dtype_name,
    float_dtype_for,
    namespace_and_device,
    zeros,
)
from ._backend import fft as _fft
from ._kernels import elementwise, spectral, tapers
from ._messages import axis_index, default_axis, replace_fields
from ._units import TransformerUnit
from ._validate import check_member


class WindowFunction(str, enum.Enum):
    """Taper applied to the chunk before the FFT (symmetric forms)."""

    NONE = "None (Rectangular)"
    HAMMING = "Hamming"
    HANNING = "Hanning"
    BARTLETT = "Bartlett"
    BLACKMAN = "Blackman"
    BLACKMAN_HARRIS = "Blackman-Harris"
    FLATTOP = "Flat Top"
    TUKEY = "Tukey"
    KAISER = "Kaiser"


class SpectralTransform(str, enum.Enum):
    """What is computed from the complex spectrum ``F`` (``F`` normalised by ``norm``)."""

    RAW_COMPLEX = "Complex FFT Output"
    REAL = "Real Component of FFT"
    IMAG = "Imaginary Component of FFT"
    REL_POWER = "Relative Power"
    """``|F|^2 * fs / sum(window^2)`` (the convention of ezmsg-sigproc)."""
    REL_DB = "Log Power (Relative dB)"
    """``10 log10`` of REL_POWER."""
    MAGNITUDE = "Magnitude"
    """``|F|`` (or the square root of the scaled power when ``scaling`` is set)."""
    POWER = "Power"
    """``|F|^2`` (or the periodogram when ``scaling`` is set)."""
    DB = "Log Power (Absolute dB)"
    """``10 log10`` of POWER."""


class SpectralOutput(str, enum.Enum):
    """Which frequencies are returned."""

    FULL = "Full Spectrum"
    POSITIVE = "Positive Frequencies"
    NEGATIVE = "Negative Frequencies"


_KERNEL_TRANSFORM = {
    SpectralTransform.RAW_COMPLEX: "complex", SpectralTransform.REAL: "real",
    SpectralTransform.IMAG: "imag", SpectralTransform.REL_POWER: "power",
    SpectralTransform.REL_DB: "db", SpectralTransform.MAGNITUDE: "magnitude",
    SpectralTransform.POWER: "power", SpectralTransform.DB: "db",
}
_SCALED = (SpectralTransform.MAGNITUDE, SpectralTransform.POWER, SpectralTransform.DB)
_NORMS = (None, "forward", "backward", "ortho")


class SpectrumSettings(ez.Settings):
    axis: str | None = None
    """Dim to transform (each message is one frame). None (default): the first dim."""

    out_axis: str | None = "freq"
    """Name of the frequency dim that replaces ``axis``; None keeps the name. Default
    ``"freq"``."""

    window: WindowFunction = WindowFunction.HAMMING
    """Taper (member, value or name; symmetric forms); unused when ``tapers`` is set.
    Default HAMMING."""

    transform: SpectralTransform = SpectralTransform.REL_DB
    """What to output from the complex spectrum. Default REL_DB."""

    output: SpectralOutput = SpectralOutput.POSITIVE
    """POSITIVE (bins 0..nfft//2), FULL, or NEGATIVE (bins -(nfft//2)..0). Default
    POSITIVE."""

    norm: str | None = "forward"
    """FFT normalisation: ``"forward"`` (divide by nfft), ``"ortho"`` (by sqrt(nfft)),
    ``"backward"`` or None (none). Ignored when ``scaling`` is set. Default ``"forward"``."""

    do_fftshift: bool = True
    """FULL output in frequency order (from -fs/2) rather than FFT order. Default True."""

    nfft: int | None = None
    """FFT length: chunks are windowed at their own length, then zero-padded or truncated
    to ``nfft``. None (default): the chunk length."""

    window_param: float | None = None
    """TUKEY's alpha in [0, 1] (default 0.5) or KAISER's beta >= 0 (default 14); must be
    None for other windows. Default None."""

    scaling: str | None = None
    """None (default): the transforms above. ``"density"`` (V**2/Hz) or ``"spectrum"``
    (V**2) for MAGNITUDE/POWER/DB: POWER then equals
    ``scipy.signal.periodogram(x, fs, window=<this window's table>, nfft=nfft,
    detrend=False, return_onesided=<output is POSITIVE>, scaling=scaling, axis=axis)``
    (doubled one-sided bins for POSITIVE; two-sided values, reordered, for FULL/NEGATIVE;
    real input; ``nfft`` None or >= the chunk length)."""

    tapers: int | None = None
    """Multitaper: the number K of DPSS (Slepian) tapers, which replace ``window``; the
    output is the average of the K tapered periodograms (each scaled as for a single
    window). Power-type transforms only. None (default): one ``window``."""

    nw: float | None = None
    """Time-half-bandwidth product of the DPSS tapers (> 0 and less than half the chunk
    length); only with ``tapers``. None (default): ``(tapers + 1) / 2``."""

    def __post_init__(self) -> None:
        for name in ("axis", "out_axis"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise ValueError(f"{name}: must be a dim name or None, got {v!r}")
        object.__setattr__(self, "window", check_member(WindowFunction, "window", self.window))
        object.__setattr__(self, "transform",
                           check_member(SpectralTransform, "transform", self.transform))
        object.__setattr__(self, "output", check_member(SpectralOutput, "output", self.output))
        if self.norm not in _NORMS:
            raise ValueError(f"norm: must be one of {_NORMS}, got {self.norm!r}")
        if not isinstance(self.do_fftshift, bool):
            raise ValueError(f"do_fftshift: must be a bool, got {self.do_fftshift!r}")
        if self.nfft is not None and (isinstance(self.nfft, bool)
                                      or not isinstance(self.nfft, int) or self.nfft < 1):
            raise ValueError(f"nfft: must be an integer >= 1 or None, got {self.nfft!r}")
        self._check_window_param()
        if self.scaling not in (None, "density", "spectrum"):
            raise ValueError(f"scaling: must be None, 'density' or 'spectrum', got "
                             f"{self.scaling!r}")
        self._check_tapers()
        if self.scaling is not None and self.transform not in _SCALED:
            raise ValueError(f"scaling: applies to MAGNITUDE, POWER and DB only, not "
                             f"{self.transform.name}")

    def _check_tapers(self) -> None:
        if self.tapers is not None:
            if isinstance(self.tapers, bool) or not isinstance(self.tapers, int) \
                    or self.tapers < 1:
                raise ValueError(f"tapers: must be an integer >= 1 or None, got {self.tapers!r}")
            if self.scaling == "spectrum":
                raise ValueError("scaling: 'spectrum' divides by sum(taper)^2, which is ~0 "
                                 "for odd DPSS tapers; use 'density' with tapers")
            if self.transform not in (*_SCALED, SpectralTransform.REL_POWER,
                                      SpectralTransform.REL_DB):
                raise ValueError(f"tapers: multitaper gives power, not {self.transform.name}")
        if self.nw is not None:
            if self.tapers is None:
                raise ValueError("nw: only used with tapers")
            if isinstance(self.nw, bool) or not isinstance(self.nw, (int, float)) \
                    or not 0 < self.nw < math.inf:
                raise ValueError(f"nw: must be a finite number > 0, got {self.nw!r}")

    def _check_window_param(self) -> None:
        p, name = self.window_param, self.window.name.lower()
        if p is None:
            return
        if name not in tapers.PARAMETERS:
            raise ValueError(f"window_param: only TUKEY and KAISER take a parameter, not "
                             f"{self.window.name}")
        label, _, (lo, hi) = tapers.PARAMETERS[name]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not lo <= p <= hi:
            raise ValueError(f"window_param: {self.window.name} {label} must be in "
                             f"[{lo}, {hi}], got {p!r}")


@processor_state
class SpectrumState:
    axis: str = ""
    """The transformed dim."""
    plan: dict | None = None
    """Host scalars of the current layout: ix, nfft, kernel transform, path, output dims,
    out name, freq LinearAxis, perms, one_sided."""
    win: Any = None
    """Window (times the norm factor) on the device, shaped to broadcast along the axis; a
    Python float or None when it is constant."""
    take: Any = None
    """Device int index array selecting/reordering FFT bins (None: all, in FFT order)."""
    weight: Any = None
    """Power scale: Python float, device array (one-sided doubling) or None."""
    cos_t: Any = None
    """DFT tables (n, k) for backends whose FFT would lose precision (MLX float64)."""
    sin_t: Any = None


class SpectrumTransformer(
    BaseStatefulTransformer[SpectrumSettings, AxisArray, AxisArray, SpectrumState]
):
    """Windowed FFT of each message along ``axis``; the axis becomes a frequency LinearAxis
    (gain ``fs / nfft`` Hz, offset ``-(nfft // 2) * gain`` for shifted FULL and NEGATIVE
    output, else 0). float32 in gives float32 (complex64) out. A chunk with no samples gives
    an empty frequency axis. Tables are rebuilt when the layout, dtype or device changes."""

    def _hash_message(self, message: AxisArray) -> int:
        # State (tables, bins) depends on the transformed axis' length, not on the other dims'
        # sizes: a window stream alternating 0 and 1 windows per message must not reset.
        x = message.data
        axis = self.settings.axis or (message.dims[:1] or [None])[0]
        ax = message.axes.get(axis)
        n = x.shape[message.dims.index(axis)] if axis in message.dims else None
        return hash((tuple(message.dims), n, getattr(ax, "gain", None),
                     type(x), x.dtype, str(device_of(x))))  # str: MLX devices hash by id

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis = default_axis(message, s.axis, fallback="first")
        ix = axis_index(message, axis)
        ax = message.axes.get(axis)
        if not isinstance(ax, LinearAxis) or ax.gain <= 0:
            raise ValueError(f"axis: dim {axis!r} needs a LinearAxis with a positive gain "
                             f"(the sample period) to compute frequencies; got {ax!r}")
        fs = 1.0 / ax.gain
        x = message.data
        xp, dev = namespace_and_device(x)
        cplx = bool(xp.isdtype(x.dtype, "complex floating"))
        fdt = float_dtype_for(xp, x.dtype, dev)
        rdt = (xp.float32 if fdt == xp.complex64 else xp.float64) if cplx else fdt
        n, nd = x.shape[ix], x.ndim
        nfft = (s.nfft or n) if n > 0 else 0
        idx = spectral.bins(nfft, s.output.name.lower(), s.do_fftshift)
        multi = s.tapers is not None
        if multi:
            wins = tapers.dpss(n, s.nw if s.nw is not None else (s.tapers + 1) / 2, s.tapers)
        else:
            wins = tapers.window(s.window.name.lower(), n, s.window_param)[None, :]
        c = 1.0
        if s.scaling is None and s.norm == "forward" and nfft:
            c = 1.0 / nfft
        elif s.scaling is None and s.norm == "ortho" and nfft:
            c = 1.0 / math.sqrt(nfft)
        relative = s.transform in (SpectralTransform.REL_POWER, SpectralTransform.REL_DB)
        scales = np.array([spectral.power_scale(w, fs, "relative" if relative else "absolute",
                                                s.scaling) for w in wins])
        one_sided = s.output is SpectralOutput.POSITIVE and not cplx
        dbl = None
        if s.scaling is not None and one_sided and nfft:
            dbl = spectral.one_sided_doubling(idx.shape[0], nfft)
        if multi:  # every scale factor goes into the tables: sum_k |F_k|^2 is the average
            tabs, weight = wins * (c * np.sqrt(scales / wins.shape[0]))[:, None], dbl
        else:
            tabs = wins * c
            weight = (None if not relative and s.scaling is None
                      else float(scales[0]) if dbl is None else dbl * scales[0])
        bshape = [1] * nd
        bshape[ix] = idx.shape[0]
        st.weight = (asarray(xp, weight.reshape(bshape), dtype=rdt, device=dev)
                     if isinstance(weight, np.ndarray) else weight)
        fast = _fft.fft_keeps_precision(xp, fdt)
        st.axis = axis
        st.cos_t = st.sin_t = st.win = st.take = None
        perm = inv = None
        if not fast and nfft:
            cs = [spectral.dft_tables(t, idx, nfft) for t in tabs]
            lead = (len(cs),) + (1,) * (nd - 1) if multi else ()
            st.cos_t, st.sin_t = (asarray(xp, np.stack([t[i] for t in cs]).reshape(
                lead + cs[0][i].shape), dtype=rdt, device=dev) for i in (0, 1))
            if ix != nd - 1:
                perm = tuple(i for i in range(nd) if i != ix) + (ix,)
                inv = tuple(int(i) for i in np.argsort(perm))
        elif n and (multi or s.window is not WindowFunction.NONE):
            wshape = [1] * nd
            wshape[ix] = n
            lead = (tabs.shape[0],) if multi else ()
            st.win = asarray(xp, tabs.reshape(lead + tuple(wshape)), dtype=rdt, device=dev)
        elif c != 1.0:
            st.win = c
        if not one_sided and nfft and not np.array_equal(idx, np.arange(nfft)):
            st.take = asarray(xp, idx, dtype=xp.int64, device=dev)
        out = s.out_axis or axis
        shifted = s.output is SpectralOutput.NEGATIVE or (
            s.output is SpectralOutput.FULL and s.do_fftshift)
        gain = fs / nfft if nfft else fs
        dims = list(message.dims)
        dims[ix] = out
        st.plan = {
            "ix": ix, "nfft": nfft, "k": idx.shape[0], "fast": fast, "one_sided": one_sided,
            "multi": multi, "transform": _KERNEL_TRANSFORM[s.transform], "dims": dims,
            "out": out, "perm": perm, "inv": inv, "dtype": dtype_name(
                _fft.complex_dtype(xp, fdt) if s.transform is SpectralTransform.RAW_COMPLEX
                else rdt),
            "freq": LinearAxis(gain=gain, offset=-(nfft // 2) * gain if shifted else 0.0,
                               unit="Hz"),
        }

    def _process(self, message: AxisArray) -> AxisArray:
        st = self._state
        p = st.plan
        x = message.data
        xp = array_namespace(x)
        x = elementwise.as_float(xp, x)
        ix, tr = p["ix"], p["transform"]
        if p["nfft"] == 0 or math.prod(x.shape) == 0:
            shape = list(x.shape)
            shape[ix] = p["k"]
            data = zeros(xp, shape, dtype=dtype_from_name(xp, p["dtype"]), device=device_of(x))
        elif p["multi"] and p["fast"]:
            pw = spectral.multitaper_fft(xp, x, axis=ix, nfft=p["nfft"], tabs=st.win,
                                         one_sided=p["one_sided"], take=st.take)
            data = spectral.finish_power(xp, pw, tr, st.weight)
        elif p["multi"]:
            pw = spectral.multitaper_dft(xp, x, perm=p["perm"], inv_perm=p["inv"],
                                         cos_t=st.cos_t, sin_t=st.sin_t)
            data = spectral.finish_power(xp, pw, tr, st.weight)
        elif p["fast"]:
            f = spectral.windowed_fft(xp, x, axis=ix, nfft=p["nfft"], win=st.win,
                                      one_sided=p["one_sided"], take=st.take)
            data = spectral.finish(xp, f, tr, st.weight)
        else:
            parts = spectral.windowed_dft(xp, x, perm=p["perm"], inv_perm=p["inv"],
                                          cos_t=st.cos_t, sin_t=st.sin_t)
            data = spectral.finish(xp, parts, tr, st.weight)
        axes = {k: v for k, v in message.axes.items() if k != st.axis}
        axes[p["out"]] = p["freq"]
        return replace_fields(message, data=data, dims=p["dims"], axes=axes)


class Spectrum(TransformerUnit[SpectrumSettings, AxisArray, AxisArray, SpectrumTransformer]):
    SETTINGS = SpectrumSettings


def spectrum(
    axis: str | None = None,
    out_axis: str | None = "freq",
    window: WindowFunction = WindowFunction.HANNING,
    transform: SpectralTransform = SpectralTransform.REL_DB,
    output: SpectralOutput = SpectralOutput.POSITIVE,
    norm: str | None = "forward",
    do_fftshift: bool = True,
    nfft: int | None = None,
    window_param: float | None = None,
    scaling: str | None = None,
    tapers: int | None = None,
    nw: float | None = None,
) -> SpectrumTransformer:
    """A ``SpectrumTransformer``. Note: ``window`` defaults to HANNING here (as in
    ezmsg-sigproc's factory), HAMMING in ``SpectrumSettings``."""
    return SpectrumTransformer(SpectrumSettings(
        axis=axis, out_axis=out_axis, window=window, transform=transform, output=output,
        norm=norm, do_fftshift=do_fftshift, nfft=nfft, window_param=window_param,
        scaling=scaling, tapers=tapers, nw=nw))
