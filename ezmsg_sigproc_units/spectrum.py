"""Spectrum of each message along one axis (the whole chunk is one FFT frame).

The axis is replaced by a frequency axis (``out_axis``, a LinearAxis in Hz). Window tables,
bin selections and scale factors are built on the host once per message layout and kept on
the data's device; ``_process`` only multiplies, transforms and reorders on the device.
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseStatefulTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from . import _spectrum_plan as _plan
from ._backend import array_namespace, device_of, dtype_from_name, zeros
from ._kernels import elementwise, spectral, tapers
from ._messages import axis_index, default_axis, replace_fields
from ._processors import StreamAxisMixin
from ._spectrum_plan import (
    SCALED,
    OptionsEnum,  # noqa: F401  (the peer exports it from here)
    SpectralOutput,
    SpectralTransform,
    WindowFunction,
)
from ._units import TransformerUnit
from ._validate import check_member

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
        if self.scaling is not None and self.transform not in SCALED:
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
            if self.transform not in (*SCALED, SpectralTransform.REL_POWER,
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
    StreamAxisMixin,
    BaseStatefulTransformer[SpectrumSettings, AxisArray, AxisArray, SpectrumState],
):
    """Windowed FFT of each message along ``axis``; the axis becomes a frequency LinearAxis
    (gain ``fs / nfft`` Hz, offset ``-(nfft // 2) * gain`` for shifted FULL and NEGATIVE
    output, else 0). float32 in gives float32 (complex64) out. A chunk with no samples gives
    an empty frequency axis. Tables are rebuilt by the shared reset rule
    (``StreamAxisMixin``, with ``axis`` as its axis: the layout, the data's namespace, device
    and dtype) and when the transformed axis' length changes."""

    def _axis(self, message: AxisArray) -> str:  # the transformed dim; default: the first
        return default_axis(message, self.settings.axis, fallback="first")

    def _reset_extra(self, message: AxisArray) -> tuple:
        # The tables depend on the transformed axis' length, which the shared rule leaves
        # out. The stream dim's length is left out as the rule does: a window stream
        # (stream_dim "win") alternating 0 and 1 windows per message does not reset.
        axis = self._axis(message)
        return (message.data.shape[message.dims.index(axis)] if axis in message.dims else None,)

    def _reset_state(self, message: AxisArray) -> None:
        s, st = self.settings, self._state
        axis = self._axis(message)
        ix = axis_index(message, axis)
        ax = message.axes.get(axis)
        if not isinstance(ax, LinearAxis) or ax.gain <= 0:
            raise ValueError(f"axis: dim {axis!r} needs a LinearAxis with a positive gain "
                             f"(the sample period) to compute frequencies; got {ax!r}")
        st.axis = axis
        st.plan, st.win, st.take, st.weight, st.cos_t, st.sin_t = _plan.build(
            s, message, axis, ix, 1.0 / ax.gain)

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
