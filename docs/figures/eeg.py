"""The synthetic EEG, its spectrogram and its band power over time (docs/producers.md).

Everything runs offline, without a graph: ``EEGSynthProducer`` (the computation behind the
``EEGSynth`` Collection) is driven by clock ticks of 0.1 s, and each block it returns goes
through a ``SpectrogramTransformer`` and a ``BandPowerTransformer``, exactly as the Units
would receive it in a running graph. Only the plotting converts to NumPy.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from ezmsg.util.messages.axisarray import LinearAxis  # noqa: E402

from ezmsg_sigproc_units.bandpower import BandPowerSettings, BandPowerTransformer  # noqa: E402
from ezmsg_sigproc_units.spectrogram import (  # noqa: E402
    SpectrogramSettings,
    SpectrogramTransformer,
)
from ezmsg_sigproc_units.spectrum import SpectralTransform  # noqa: E402
from ezmsg_sigproc_units.synth import EEGSynthProducer, EEGSynthSettings  # noqa: E402

FS = 500.0
TICK = 0.1  # s per clock tick (a 10 Hz Clock)
DURATION = 20.0  # s
N_CH = 3
BANDS = {"alpha 8-12 Hz": (8.0, 12.0), "beta 18-25 Hz": (18.0, 25.0)}


def _windows() -> SpectrogramSettings:
    """1 s Hamming windows every 0.1 s, as power (converted to dB for the plot)."""
    return SpectrogramSettings(window_dur=1.0, window_shift=0.1,
                               transform=SpectralTransform.REL_POWER)


def simulate() -> dict[str, np.ndarray]:
    """Run the synthesiser and both processors for ``DURATION`` seconds."""
    eeg = EEGSynthProducer(EEGSynthSettings(fs=FS, n_ch=N_CH, n_time=round(FS * TICK),
                                            dtype="float64", seed=0))
    spectrogram = SpectrogramTransformer(_windows())
    bandpower = BandPowerTransformer(BandPowerSettings(spectrogram_settings=_windows(),
                                                       bands=list(BANDS.values())))
    raw, spec, power, t_spec = [], [], [], []
    freq = None
    for i in range(round(DURATION / TICK)):
        block = eeg(LinearAxis(gain=TICK, offset=i * TICK))
        raw.append(np.asarray(block.data))
        s, b = spectrogram(block), bandpower(block)
        if s is not None and s.data.shape[0]:
            spec.append(np.asarray(s.data))  # (time, freq, ch)
            t_axis, f_axis = s.axes["time"], s.axes["freq"]
            t_spec.append(t_axis.offset + t_axis.gain * np.arange(s.data.shape[0]))
            freq = f_axis.offset + f_axis.gain * np.arange(s.data.shape[1])
        if b is not None and b.data.shape[0]:
            power.append(np.asarray(b.data))  # (time, band, ch)
    return {
        "raw": np.concatenate(raw),
        "spec": np.concatenate(spec),
        "power": np.concatenate(power),
        "t_spec": np.concatenate(t_spec),
        "freq": freq,
    }


def make(outdir: Path) -> None:
    """Write eeg_spectrogram.png: trace, spectrogram and band power of the synthetic EEG."""
    d = simulate()
    t_raw = np.arange(d["raw"].shape[0]) / FS
    # Window stamps mark the window's first sample (Anchor.BEGINNING): plot at its centre.
    t_mid = d["t_spec"] + 0.5
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True, layout="constrained",
                             height_ratios=[1.0, 1.6, 1.2])
    for c in range(N_CH):
        axes[0].plot(t_raw, d["raw"][:, c] - 60.0 * c, lw=0.4, label=f"ch{c}")
    axes[0].set_yticks([-60.0 * c for c in range(N_CH)], [f"ch{c}" for c in range(N_CH)])
    axes[0].set_title(f"EEGSynth: pink background, alpha and beta bursts, line noise "
                      f"(fs = {FS:g} Hz)", fontsize=10)

    keep = d["freq"] <= 60.0
    db = 10.0 * np.log10(np.maximum(d["spec"][:, keep, 0], 1e-12))
    mesh = axes[1].pcolormesh(t_mid, d["freq"][keep], db.T, shading="nearest",
                              cmap="viridis", vmin=np.percentile(db, 5),
                              vmax=np.percentile(db, 99.5))
    fig.colorbar(mesh, ax=axes[1], label="power (dB)")
    axes[1].set_ylabel("frequency (Hz)")
    axes[1].set_title("ch0: Spectrogram (1 s Hamming windows every 0.1 s)", fontsize=10)

    for k, name in enumerate(BANDS):
        for c in range(2):
            axes[2].plot(t_mid, d["power"][:, k, c], lw=1.0, ls="-" if c == 0 else "--",
                         color=f"C{k}", label=f"{name}, ch{c}")
    axes[2].set_ylabel("band power (mean over bins)")
    axes[2].set_xlabel("time (s)")
    axes[2].set_title("BandPower: bursts wax and wane at a different rate on each channel",
                      fontsize=10)
    axes[2].legend(fontsize=8, ncol=2, loc="upper right")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    axes[2].set_xlim(0.0, DURATION)
    fig.savefig(Path(outdir) / "eeg_spectrogram.png", dpi=100)


if __name__ == "__main__":
    make(Path("."))
