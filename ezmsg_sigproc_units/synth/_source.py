"""What every clock-driven source shares: validation of the sampling and placement settings,
resolving ``(xp, device, dtype)`` once, the channel axis, and ``SourceMixin`` (construction-time
backend check, a clear error for an unthrottled clock without ``n_time``, picklable caches).

Host metadata only; no sample data is touched here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ezmsg.baseproc import ClockDrivenSettings
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis

from .. import _backend
from .._messages import new_message
from .._validate import check_count, check_real

FLOAT_DTYPES = ("float32", "float64")

TICK_ATTR = "tick"
"""The ``attrs`` key every source's block carries: the ``offset`` of the clock tick that
produced it (ezmsg-baseproc's ``Clock`` stamps a tick with the ``time.monotonic()`` time it
was due, or, unthrottled, the time it ran), as a float. Stages keep the input's attrs (a
windowed stage those of the input that completed the window), so a sink can tell how long
after its newest data was due a message arrived (``examples/common.py`` does; docs/cli.md)."""


class SourceSettings(ClockDrivenSettings):
    """Sampling (``fs``, ``n_time``) plus where and how a source generates its samples."""

    backend: str = "numpy"
    """Array library to generate with: numpy, array_api_strict, torch, jax, mlx or cupy.
    Default "numpy"."""

    device: str | None = None
    """Device name for ``backend`` (e.g. "cpu", "cuda:0", "device1"); None is the backend's
    default device. Default None."""

    dtype: str = "float32"
    """Output float dtype, "float32" or "float64". Default "float32"."""


def check_source_settings(s: Any) -> None:
    """Validate the fields every source has: fs, n_time, backend, device, dtype."""
    check_real("fs", s.fs)
    if s.fs <= 0:
        raise ValueError(f"fs: must be > 0 Hz, got {s.fs!r}")
    if s.n_time is not None:
        check_count("n_time", s.n_time)
    _backend.check_backend_name(s.backend)
    if s.device is not None and not isinstance(s.device, str):
        raise ValueError(f"device: must be a device name string or None, got {s.device!r}")
    if s.dtype not in FLOAT_DTYPES:
        raise ValueError(f"dtype: must be one of {', '.join(FLOAT_DTYPES)}, got {s.dtype!r}")


def check_seed(seed: Any) -> None:
    """``seed`` must be None or a non-negative int."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed: must be a non-negative integer or None, got {seed!r}")


def per_channel(name: str, value: Any, n_ch: int, *, minimum: float | None = None,
                below: float | None = None) -> np.ndarray:
    """A scalar or a list setting as a host float64 ``(n_ch,)`` array (validated; a list
    must have ``n_ch`` entries when ``n_ch`` > 1, and then sets the channel count)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f"{name}: the list is empty")
    for v in values:
        check_real(name, v, minimum=minimum)
        if below is not None and v >= below:
            raise ValueError(f"{name}: {v} must be below {below}")
    if isinstance(value, (list, tuple)):
        if n_ch not in (1, len(values)):
            raise ValueError(f"n_ch: {n_ch} does not match the {len(values)} values given in "
                             f"{name}")
        return np.asarray(values, dtype=np.float64)
    return np.full(n_ch, float(values[0]), dtype=np.float64)


def resolve_target(s: Any) -> tuple[Any, Any, Any]:
    """``(xp, device, dtype)`` for a source's settings; ``ValueError`` says what is available."""
    xp, device = _backend.resolve(s.backend, s.device)
    if s.dtype == "float64" and not _backend.supports_float64(xp, device):
        raise ValueError(
            f"dtype: float64 is not available for backend {s.backend!r} on {device} "
            "(for JAX enable jax_enable_x64); use dtype='float32'"
        )
    return xp, device, _backend.dtype_from_name(xp, s.dtype)


def channel_axis(n_ch: int) -> CoordinateAxis:
    """A ``ch`` axis labelled ``ch0 .. ch{n-1}`` (build once per stream and reuse)."""
    return CoordinateAxis(data=np.array([f"ch{i}" for i in range(n_ch)]), dims=["ch"],
                          unit="label")


def block(data: Any, time_axis: LinearAxis, ch: CoordinateAxis, key: str) -> AxisArray:
    """A source's output message: ``(time, ch)`` data, materialised (MLX), streaming on time."""
    return new_message(_backend.materialize(data), ["time", "ch"],
                       {"time": time_axis, "ch": ch}, key=key, stream_dim="time")


class SourceMixin:
    """Put first among the bases of a ``BaseClockDrivenProducer`` subclass.

    * The backend and device are resolved when the producer is built (and when new settings
      arrive), so an unknown or unavailable backend/device fails there, listing what is
      available, not on the first tick inside a running graph.
    * A tick with gain 0 (an unthrottled ``Clock``) without ``n_time`` raises a ``ValueError``
      naming ``n_time``.
    * A reset prepares for the current settings, then calls ``_start`` (override it for state
      beyond the sample counter).
    * Attributes listed in ``_CACHES`` (modules, device tables) are dropped when pickling and
      rebuilt from the settings; ``_prepare`` (override, call super) rebuilds them.
    * Every block's ``attrs[TICK_ATTR]`` ("tick") is the producing tick's ``offset``.
    """

    _CACHES: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._target = None
        self._prepared_for = None
        self._prepare()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_target"] = None
        for name in self._CACHES:
            state.pop(name, None)
        return state

    def _ensure_prepared(self) -> None:
        """Prepare for the current settings (after a reset, or after unpickling)."""
        if self._target is None or self._prepared_for is not self.settings:
            self._prepare()

    def _prepare(self) -> None:
        """Resolve ``(xp, device, dtype)``; subclasses also build their host constants and
        device tables (which must not depend on the live, non-resetting settings)."""
        self._target = resolve_target(self.settings)
        self._prepared_for = self.settings

    def _start(self) -> None:
        """Start the stream's own state beyond the sample counter (a generator, a filter
        state); called on every reset. Default: nothing."""

    def _reset_state(self, time_axis: Any) -> None:
        self._ensure_prepared()
        self._start()

    def update_settings(self, new_settings: Any) -> None:
        resolve_target(new_settings)  # fail now, with what is available, not at the next tick
        super().update_settings(new_settings)

    def _process(self, clock_tick: LinearAxis) -> AxisArray | None:
        out = super()._process(clock_tick)
        if out is not None:  # a message this producer just built: its attrs are its own
            out.attrs[TICK_ATTR] = float(clock_tick.offset)
        return out

    def _compute_samples_and_offset(self, clock_tick: LinearAxis) -> tuple[int, float] | None:
        if self.settings.n_time is None and clock_tick.gain == 0.0:
            raise ValueError(
                "n_time: a clock tick with gain 0 (a Clock with dispatch_rate=None, as fast as "
                "possible) does not say how many samples a block has; set n_time (samples per "
                "block) or give the Clock a finite dispatch_rate"
            )
        return super()._compute_samples_and_offset(clock_tick)
