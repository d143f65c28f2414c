"""Noise sources driven by a clock: Gaussian white noise and pink (1/f) noise.

Both draw standard-normal numbers with the chosen backend's own generator on its device
(``_backend.DeviceRNG``), in fixed batches (``_stream.NormalStream``), so for a given seed the
stream is the same whatever the block sizes, on every backend. array-api-strict has no
generator: its numbers come from NumPy and move to its (virtual) device in one copy per batch
of 1024 rows; that is the only backend with a host-to-device copy of samples.

Pink noise is the white stream through a pinking filter (real poles and zeros alternating,
two pairs per decade, from ``f_min`` up to Nyquist), run with the suite's streaming IIR kernel
on the device. Its PSD is within 0.4 dB of a -10 dB/decade line from ``2 f_min`` to ``0.3 fs``
(for ``f_min <= fs / 100``), flat below ``f_min`` and up to 1 dB above the line near Nyquist.
The filter is normalised to unit output variance and starts from a random state drawn from its
stationary distribution, so the stream is stationary from its first sample (no warm-up).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ezmsg.baseproc import (
    BaseClockDrivenProducer,
    BaseClockDrivenUnit,
    ClockDrivenState,
    processor_state,
)
from ezmsg.util.messages.axisarray import AxisArray, LinearAxis

from .. import _backend
from .._kernels import iir as _iir
from .._validate import check_count, check_real
from ._source import (
    SourceMixin,
    SourceSettings,
    block,
    channel_axis,
    check_seed,
    check_source_settings,
)
from ._stream import NormalStream


class WhiteNoiseSettings(SourceSettings):
    loc: float = 0.0
    """Mean of the noise (output units). Can change live without a reset. Default 0.0."""

    scale: float = 1.0
    """Standard deviation (output units), >= 0. Can change live without a reset. Default 1.0."""

    n_ch: int = 1
    """Number of independent channels. Default 1."""

    seed: int | None = None
    """Seed of the generator; the same seed gives the same stream on the same backend.
    None draws a fresh seed. Default None."""

    def __post_init__(self) -> None:
        check_source_settings(self)
        check_real("loc", self.loc)
        check_real("scale", self.scale, minimum=0.0)
        check_count("n_ch", self.n_ch)
        check_seed(self.seed)


@processor_state
class WhiteNoiseState(ClockDrivenState):
    noise: NormalStream | None = None
    """The backend-native generator cut into blocks (pickles with its position)."""


class WhiteNoiseProducer(SourceMixin,
                         BaseClockDrivenProducer[WhiteNoiseSettings, WhiteNoiseState]):
    """Each clock tick gives a ``(time, ch)`` block of ``loc + scale * N(0, 1)`` samples.

    A reset (first tick, or a change of any setting other than loc/scale) re-seeds the
    generator from ``seed``, so the stream restarts.
    """

    NONRESET_SETTINGS_FIELDS = frozenset({"loc", "scale"})

    def _prepare(self) -> None:
        super()._prepare()
        self._ch = channel_axis(self.settings.n_ch)

    def _start(self) -> None:
        xp, device, dtype = self._target
        rng = _backend.DeviceRNG(xp, device, self.settings.seed)
        self._state.noise = NormalStream(rng, self.settings.n_ch, dtype)

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        if self._state.noise is None:
            self._start()
        s = self.settings
        data = self._state.noise.take(n_samples)
        if s.scale != 1.0:
            data = data * s.scale
        if s.loc != 0.0:
            data = data + s.loc
        return block(data, time_axis, self._ch, "white_noise")


class WhiteNoise(BaseClockDrivenUnit[WhiteNoiseSettings, WhiteNoiseProducer]):
    """Clock ticks in (``INPUT_CLOCK``), noise blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = WhiteNoiseSettings


# ------------------------------------------------------------------------------ pink noise
def pinking_sos(fs: float, f_min: float, per_decade: int = 2) -> np.ndarray:
    """Host float64 SOS of a -10 dB/decade filter from ``f_min`` to ``fs / 2``.

    Real poles at ``f_min * r**i`` alternate with zeros half a step higher (``r =
    10**(1 / per_decade)``): between a pole and its zero the slope is -20 dB/decade, after the
    zero 0, so the average is -10. Frequencies map to ``exp(-2 pi f / fs)``; a zero at or
    above Nyquist is left out (placed at the origin). Not normalised.
    """
    from scipy.signal import zpk2sos

    ratio = 10.0 ** (1.0 / per_decade)
    poles, zeros = [], []
    f = f_min
    while f < fs / 2:
        poles.append(math.exp(-2 * math.pi * f / fs))
        fz = f * math.sqrt(ratio)
        zeros.append(math.exp(-2 * math.pi * fz / fs) if fz < fs / 2 else 0.0)
        f *= ratio
    return zpk2sos(np.array(zeros), np.array(poles), 1.0)


def _scipy_state_space(sos: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(A, B, C, D)`` of the cascade with scipy ``sosfilt``'s state (``zi`` flattened:
    section ``k`` owns entries ``2k, 2k + 1``; transposed direct form II)."""
    m = 2 * sos.shape[0]
    A, B = np.zeros((m, m)), np.zeros(m)
    cu, du = np.zeros(m), 1.0  # the section input u = cu s + du x
    for k, (b0, b1, b2, _a0, a1, a2) in enumerate(sos / sos[:, 3:4]):
        i = 2 * k
        cy, dy = b0 * cu, b0 * du
        cy[i] += 1.0
        A[i], B[i] = b1 * cu - a1 * cy, b1 * du - a1 * dy
        A[i, i + 1] += 1.0
        A[i + 1], B[i + 1] = b2 * cu - a2 * cy, b2 * du - a2 * dy
        cu, du = cy, dy
    return A, B, cu, du


def pink_design(fs: float, f_min: float) -> tuple[np.ndarray, np.ndarray]:
    """``(sos, root)``: the pinking filter scaled to unit output variance under unit white
    input, and ``root`` ``(m, m)`` with ``root @ root.T`` its stationary state covariance in
    scipy's ``zi`` layout (so ``root @ w``, ``w ~ N(0, I)``, is a stationary start)."""
    from scipy.linalg import solve_discrete_lyapunov

    sos = pinking_sos(fs, f_min)
    A, B, C, D = _scipy_state_space(sos)
    P = solve_discrete_lyapunov(A, np.outer(B, B))
    var = float(C @ P @ C + D * D)
    sos = sos.copy()
    sos[0, :3] /= math.sqrt(var)
    lam, V = np.linalg.eigh((P + P.T) / (2.0 * var))
    return sos, V * np.sqrt(np.clip(lam, 0.0, None))


class PinkNoiseSettings(SourceSettings):
    scale: float = 1.0
    """Standard deviation of the output (output units), >= 0. Can change live without a
    reset. Default 1.0."""

    n_ch: int = 1
    """Number of independent channels. Default 1."""

    seed: int | None = None
    """Seed of the generator; the same seed gives the same stream on the same backend,
    whatever the block sizes. None draws a fresh seed. Default None."""

    f_min: float = 0.1
    """Lowest frequency of the 1/f band (Hz), in ``(0, fs / 20]``; below it the spectrum is
    flat. Default 0.1."""

    def __post_init__(self) -> None:
        check_source_settings(self)
        check_real("scale", self.scale, minimum=0.0)
        check_count("n_ch", self.n_ch)
        check_seed(self.seed)
        check_real("f_min", self.f_min)
        if not 0.0 < self.f_min <= self.fs / 20.0:
            raise ValueError(f"f_min: must be in (0, fs/20] = (0, {self.fs / 20}] Hz, got "
                             f"{self.f_min!r}")


@processor_state
class PinkNoiseState(ClockDrivenState):
    noise: NormalStream | None = None
    """The white input: the backend-native generator cut into blocks."""

    z: Any = None
    """Filter state ``(n, n_ch)`` on the device (the IIR kernel's coordinates)."""


class PinkNoiseProducer(SourceMixin,
                        BaseClockDrivenProducer[PinkNoiseSettings, PinkNoiseState]):
    """Each clock tick gives a ``(time, ch)`` block of pink noise with standard deviation
    ``scale``. A reset (first tick, or a change of any setting but ``scale``) re-seeds the
    generator and draws a new stationary filter state."""

    NONRESET_SETTINGS_FIELDS = frozenset({"scale"})
    _CACHES = ("_plan", "_root")

    def _prepare(self) -> None:
        super()._prepare()
        s = self.settings
        xp, device, dtype = self._target
        sos, root = pink_design(s.fs, s.f_min)
        self._plan = _iir.iir_plan(xp, sos, dtype=dtype, device=device)
        # stationary state in the kernel's coordinates: (from_scipy @ root) @ w
        root_dev = _backend.asarray(xp, root, dtype=dtype, device=device)
        self._root = self._plan.from_scipy @ root_dev
        self._ch = channel_axis(s.n_ch)

    def _start(self) -> None:
        xp, device, dtype = self._target
        rng = _backend.DeviceRNG(xp, device, self.settings.seed)
        w = rng.normal((self._root.shape[1], self.settings.n_ch), dtype)
        self._state.z = self._root @ w
        self._state.noise = NormalStream(rng, self.settings.n_ch, dtype)

    def _produce(self, n_samples: int, time_axis: LinearAxis) -> AxisArray:
        if self._target is None:
            self._prepare()
        st = self._state
        if st.noise is None:
            self._start()
        xp = self._target[0]
        y, st.z = _iir.iir_filter(xp, self._plan, st.noise.take(n_samples), st.z)
        if self.settings.scale != 1.0:
            y = y * self.settings.scale
        return block(y, time_axis, self._ch, "pink_noise")


class PinkNoise(BaseClockDrivenUnit[PinkNoiseSettings, PinkNoiseProducer]):
    """Clock ticks in (``INPUT_CLOCK``), pink noise blocks out (``OUTPUT_SIGNAL``)."""

    SETTINGS = PinkNoiseSettings
