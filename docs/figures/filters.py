"""Frequency responses of the suite's IIR filter designs (docs/filtering.md).

The coefficients come from the package's own design functions (``butter_design_fun``,
``cheby_design_fun``, ``comb_design_fun``: the ones the Units call once per sampling rate);
``scipy.signal.sosfreqz`` evaluates them. The comb figure also shows the response measured
by streaming an impulse through ``CombFilterTransformer`` (started at rest) in uneven
chunks, which lies on the designed curve.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402
from ezmsg.util.messages.axisarray import AxisArray  # noqa: E402

from ezmsg_sigproc_units.butterworthfilter import butter_design_fun  # noqa: E402
from ezmsg_sigproc_units.cheby import cheby_design_fun  # noqa: E402
from ezmsg_sigproc_units.combfilter import (  # noqa: E402
    CombFilterSettings,
    CombFilterTransformer,
    comb_design_fun,
)

FS = 500.0  # Hz, the synthetic EEG's default rate
N_FREQ = 4096
FLOOR_DB = -100.0


def _db(sos: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    freq, h = scipy.signal.sosfreqz(sos, worN=N_FREQ, fs=fs)
    return freq, np.maximum(20.0 * np.log10(np.maximum(np.abs(h), 1e-12)), FLOOR_DB)


def _axes_style(ax, title: str, fs: float, xmax: float | None = None) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("gain (dB)")
    ax.set_xlim(0.0, fs / 2.0 if xmax is None else xmax)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")


def butterworth(outdir: Path) -> None:
    """Low-pass at 30 Hz and band-pass 8-30 Hz, orders 2, 4 and 8."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True, layout="constrained")
    for order in (2, 4, 8):
        lp = butter_design_fun(FS, order=order, cutoff=30.0, coef_type="sos")
        bp = butter_design_fun(FS, order=order, cuton=8.0, cutoff=30.0, coef_type="sos")
        axes[0].plot(*_db(lp, FS), label=f"order {order}")
        axes[1].plot(*_db(bp, FS), label=f"order {order}")
    for ax in axes:
        ax.axhline(-3.0, color="0.5", lw=0.8, ls=":")
    axes[0].axvline(30.0, color="0.5", lw=0.8, ls="--")
    axes[1].axvline(8.0, color="0.5", lw=0.8, ls="--")
    axes[1].axvline(30.0, color="0.5", lw=0.8, ls="--")
    axes[0].set_ylim(FLOOR_DB, 5.0)
    _axes_style(axes[0], "Butterworth low-pass, cutoff 30 Hz", FS, 125.0)
    _axes_style(axes[1], "Butterworth band-pass, 8-30 Hz", FS, 125.0)
    fig.suptitle(f"ButterworthFilter designs at fs = {FS:g} Hz", fontsize=11)
    fig.savefig(outdir / "filters_butterworth.png", dpi=110)


def chebyshev(outdir: Path) -> None:
    """Order-4 low-pass at 30 Hz: Butterworth beside Chebyshev type I and type II."""
    designs = {
        "Butterworth": butter_design_fun(FS, order=4, cutoff=30.0, coef_type="sos"),
        "Chebyshev I (1 dB ripple)": cheby_design_fun(
            FS, order=4, ripple_tol=1.0, Wn=30.0, coef_type="sos", cheby_type="cheby1"),
        "Chebyshev II (40 dB stop band)": cheby_design_fun(
            FS, order=4, ripple_tol=40.0, Wn=30.0, coef_type="sos", cheby_type="cheby2"),
    }
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for name, sos in designs.items():
        freq, db = _db(sos, FS)
        axes[0].plot(freq, db, label=name)
        axes[1].plot(freq, db, label=name)
    axes[0].set_ylim(-80.0, 5.0)
    axes[1].set_ylim(-4.0, 1.0)
    _axes_style(axes[0], "order 4, edge 30 Hz", FS, 125.0)
    _axes_style(axes[1], "pass band, zoomed", FS, 40.0)
    fig.suptitle("ChebyshevFilter beside ButterworthFilter", fontsize=11)
    fig.savefig(outdir / "filters_chebyshev.png", dpi=110)


def _streamed_response(settings: CombFilterSettings, fs: float, n: int) -> np.ndarray:
    """|H| measured from the impulse response of the streaming transformer, fed in chunks."""
    proc = CombFilterTransformer(settings)
    impulse = np.zeros((n, 1))
    impulse[0, 0] = 1.0
    pieces, start = [], 0
    for size in (1, 7, 300, 1000, n):  # uneven chunks, the last one takes the rest
        stop = min(n, start + size)
        msg = AxisArray(impulse[start:stop], dims=["time", "ch"],
                        axes={"time": AxisArray.TimeAxis(fs=fs, offset=start / fs)})
        pieces.append(np.asarray(proc(msg).data))
        start = stop
        if start == n:
            break
    return np.abs(np.fft.rfft(np.concatenate(pieces)[:, 0]))


def comb(outdir: Path) -> None:
    """A 60 Hz notch comb (3 harmonics, Q 35) at 1 kHz: constant against proportional Q."""
    fs, n = 1000.0, 8192
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    for scaling in ("constant", "proportional"):
        sos = comb_design_fun(fs, fundamental_freq=60.0, num_harmonics=3, q_factor=35.0,
                              quality_scaling=scaling)
        ax.plot(*_db(sos, fs), label=f"design, quality_scaling={scaling!r}")
    # A filter at rest (initial_state="zero") so that the output is the impulse response; the
    # default "steady" start would take the impulse's first sample for a DC level.
    settings = CombFilterSettings(axis="time", fundamental_freq=60.0, num_harmonics=3,
                                  q_factor=35.0, quality_scaling="constant",
                                  initial_state="zero")
    mag = _streamed_response(settings, fs, n)
    freq = np.fft.rfftfreq(n, 1.0 / fs)
    keep = slice(0, None, 8)
    ax.plot(freq[keep], np.maximum(20.0 * np.log10(np.maximum(mag[keep], 1e-12)), FLOOR_DB),
            ".", ms=3, color="k", label="streamed impulse response (constant Q)")
    ax.set_ylim(-60.0, 5.0)
    _axes_style(ax, "CombFilter notch at 60 Hz and its harmonics, fs = 1 kHz", fs, 250.0)
    fig.savefig(outdir / "filters_comb.png", dpi=110)


def make(outdir: Path) -> None:
    """Write filters_butterworth.png, filters_chebyshev.png and filters_comb.png."""
    outdir = Path(outdir)
    butterworth(outdir)
    chebyshev(outdir)
    comb(outdir)


if __name__ == "__main__":
    make(Path("."))
