"""The spectrum's vocabulary (taper, transform and output enums) and its host plan.

``build`` makes, once per message layout, everything ``spectrum.SpectrumTransformer``'s hot path
reads: the taper (times the norm factor), the bin selection, the power scale and, where the
backend's FFT would lose precision, DFT tables; designed in float64 on the host, moved to the
data's device once. The enums live here so the plan can read them; ``spectrum`` re-exports
them under their public names.
"""

from __future__ import annotations

import enum
import math
from typing import Any, NamedTuple

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from ._backend import asarray, dtype_name, float_dtype_for, namespace_and_device
from ._backend import fft as _fft
from ._kernels import spectral, tapers


class OptionsEnum(enum.Enum):
    """Base of the option enums (window, transform, output, aggregation): ``options()`` lists
    the values a user may configure, e.g. for a settings form."""

    @classmethod
    def options(cls) -> list:
        """The members' values, in definition order."""
        return [member.value for member in cls]


class WindowFunction(str, OptionsEnum):
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


class SpectralTransform(str, OptionsEnum):
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


class SpectralOutput(str, OptionsEnum):
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
SCALED = (SpectralTransform.MAGNITUDE, SpectralTransform.POWER, SpectralTransform.DB)


class SpectrumTables(NamedTuple):
    """What ``build`` returns (the fields of ``spectrum.SpectrumState`` it sets)."""

    plan: dict
    win: Any
    take: Any
    weight: Any
    cos_t: Any
    sin_t: Any


def _norm_factor(s: Any, nfft: int) -> float:
    """The FFT normalisation ``norm`` as a factor on the tapers (1 when ``scaling`` is set)."""
    if s.scaling is None and s.norm == "forward" and nfft:
        return 1.0 / nfft
    if s.scaling is None and s.norm == "ortho" and nfft:
        return 1.0 / math.sqrt(nfft)
    return 1.0


def _tapers(s: Any, n: int, nfft: int, c: float, fs: float, cplx: bool) -> tuple:
    """Host ``(tables (K, n), weight, one_sided, bins)``: the tapers times the norm factor
    ``c`` (multitaper: every scale factor too), the power weight (None, a float or a ``(k,)``
    doubling array) and the output bins."""
    idx = spectral.bins(nfft, s.output.name.lower(), s.do_fftshift)
    multi = s.tapers is not None
    if multi:
        wins = tapers.dpss(n, s.nw if s.nw is not None else (s.tapers + 1) / 2, s.tapers)
    else:
        wins = tapers.window(s.window.name.lower(), n, s.window_param)[None, :]
    relative = s.transform in (SpectralTransform.REL_POWER, SpectralTransform.REL_DB)
    scales = np.array([spectral.power_scale(w, fs, "relative" if relative else "absolute",
                                            s.scaling) for w in wins])
    one_sided = s.output is SpectralOutput.POSITIVE and not cplx
    dbl = None
    if s.scaling is not None and one_sided and nfft:
        dbl = spectral.one_sided_doubling(idx.shape[0], nfft)
    if multi:  # every scale factor goes into the tables: sum_k |F_k|^2 is the average
        return wins * (c * np.sqrt(scales / wins.shape[0]))[:, None], dbl, one_sided, idx
    weight = (None if not relative and s.scaling is None
              else float(scales[0]) if dbl is None else dbl * scales[0])
    return wins * c, weight, one_sided, idx


def build(s: Any, message: AxisArray, axis: str, ix: int, fs: float) -> SpectrumTables:
    """The tables for ``message`` (its data's namespace, device and float dtype) under the
    spectrum settings ``s``, transforming dim ``axis`` (index ``ix``) sampled at ``fs``."""
    x = message.data
    xp, dev = namespace_and_device(x)
    cplx = bool(xp.isdtype(x.dtype, "complex floating"))
    fdt = float_dtype_for(xp, x.dtype, dev)
    rdt = (xp.float32 if fdt == xp.complex64 else xp.float64) if cplx else fdt
    n, nd = x.shape[ix], x.ndim
    nfft = (s.nfft or n) if n > 0 else 0
    multi = s.tapers is not None
    c = _norm_factor(s, nfft)
    tabs, weight, one_sided, idx = _tapers(s, n, nfft, c, fs, cplx)
    bshape = [1] * nd
    bshape[ix] = idx.shape[0]
    if isinstance(weight, np.ndarray):
        weight = asarray(xp, weight.reshape(bshape), dtype=rdt, device=dev)
    fast = _fft.fft_keeps_precision(xp, fdt)
    cos_t = sin_t = win = take = perm = inv = None
    if not fast and nfft:
        cs = [spectral.dft_tables(t, idx, nfft) for t in tabs]
        lead = (len(cs),) + (1,) * (nd - 1) if multi else ()
        cos_t, sin_t = (asarray(xp, np.stack([t[i] for t in cs]).reshape(
            lead + cs[0][i].shape), dtype=rdt, device=dev) for i in (0, 1))
        if ix != nd - 1:
            perm = tuple(i for i in range(nd) if i != ix) + (ix,)
            inv = tuple(int(i) for i in np.argsort(perm))
    elif n and (multi or s.window is not WindowFunction.NONE):
        wshape = [1] * nd
        wshape[ix] = n
        lead = (tabs.shape[0],) if multi else ()
        win = asarray(xp, tabs.reshape(lead + tuple(wshape)), dtype=rdt, device=dev)
    elif c != 1.0:  # rectangular: only the norm factor
        win = c
    if not one_sided and nfft and not np.array_equal(idx, np.arange(nfft)):
        take = asarray(xp, idx, dtype=xp.int64, device=dev)
    out = s.out_axis or axis
    shifted = s.output is SpectralOutput.NEGATIVE or (
        s.output is SpectralOutput.FULL and s.do_fftshift)
    gain = fs / nfft if nfft else fs
    dims = list(message.dims)
    dims[ix] = out
    plan = {
        "ix": ix, "nfft": nfft, "k": idx.shape[0], "fast": fast, "one_sided": one_sided,
        "multi": multi, "transform": _KERNEL_TRANSFORM[s.transform], "dims": dims,
        "out": out, "perm": perm, "inv": inv, "dtype": dtype_name(
            _fft.complex_dtype(xp, fdt) if s.transform is SpectralTransform.RAW_COMPLEX
            else rdt),
        "freq": LinearAxis(gain=gain, offset=-(nfft // 2) * gain if shifted else 0.0,
                           unit="Hz"),
    }
    return SpectrumTables(plan, win, take, weight, cos_t, sin_t)
