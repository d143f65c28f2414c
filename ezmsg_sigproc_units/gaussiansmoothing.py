"""Gaussian smoothing as a causal FIR filter.

The kernel is a sampled Gaussian normalised to unit sum: centred (``causal=False``, delay of
half the kernel) or its right half starting at the peak (``causal=True``). Designed once per
sampling rate on the host, applied by the FIR kernel on the data's backend and device.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validate import check_edge, check_real
from .filter import (
    BaseFilterByDesignTransformerUnit,
    FilterBaseSettings,
    FilterByDesignTransformer,
)


def _check_kernel_size(kernel_size: Any, minimum: int | None = None) -> None:
    if kernel_size is not None and (isinstance(kernel_size, bool)
                                    or not isinstance(kernel_size, (int, np.integer))
                                    or (minimum is not None and kernel_size < minimum)):
        at_least = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"kernel_size: must be None or an integer{at_least}, "
                         f"got {kernel_size!r}")


def smooths(sigma: float | None, width: float | None, kernel_size: int | None) -> bool:
    """False for the passthrough settings (as in ezmsg-sigproc): ``sigma`` None or 0,
    ``width`` None or <= 0, or ``kernel_size`` <= 1."""
    return not (sigma is None or sigma == 0 or width is None or width <= 0
                or (kernel_size is not None and kernel_size <= 1))


class GaussianSmoothingSettings(FilterBaseSettings):
    sigma: float | None = 0.01
    """Standard deviation of the Gaussian, in seconds (times fs gives samples); >= 0. None or
    0 means passthrough. Default 0.01."""

    width: int | None = 4
    """Half-width of the kernel in standard deviations, used when ``kernel_size`` is None:
    ``int(2 * width * sigma_samples) + 1`` taps (``int(width * sigma_samples) + 1`` causal).
    None or <= 0 means passthrough. Default 4."""

    kernel_size: int | None = None
    """Number of taps; overrides the size ``width`` gives. <= 1 means passthrough. Default
    None. A design that comes out at one tap (``sigma`` under about ``1 / (2 * width)``
    samples) is the identity: it warns (``UserWarning``) and passes data through."""

    causal: bool = False
    """False (default): symmetric kernel (delay of half the kernel). True: the kernel's right
    half, peak first (no delay of the peak, asymmetric smoothing)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sigma is not None:
            check_real("sigma", self.sigma, minimum=0.0)
        if self.width is not None:
            check_real("width", self.width)
        _check_kernel_size(self.kernel_size)
        if not isinstance(self.causal, bool):
            raise ValueError(f"causal: must be a bool, got {self.causal!r}")


def gaussian_smoothing_filter_design(
    sigma: float = 1.0,
    width: int = 4,
    kernel_size: int | None = None,
    causal: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(kernel, array([1.0]))``: a Gaussian of standard deviation ``sigma`` *samples*,
    normalised to unit sum, with ``kernel_size`` taps (default ``int(2 * width * sigma) + 1``,
    or ``int(width * sigma) + 1`` when causal). Causal kernels start at the peak.
    ``UserWarning`` for a kernel of fewer taps than that default (truncated) and for one
    tap (the identity)."""
    if sigma is None:
        raise ValueError("sigma: must be a number > 0, got None")
    check_edge("sigma", sigma)
    _check_kernel_size(kernel_size, minimum=1)
    if width is None:
        raise ValueError("width: must be a number > 0, got None")
    check_edge("width", width)
    expected = int((1 if causal else 2) * width * sigma) + 1
    if kernel_size is None:
        kernel_size = expected
    elif kernel_size < expected:
        warnings.warn(f"kernel_size {kernel_size} is below the {expected} taps that sigma="
                      f"{sigma} samples and width={width} call for: the Gaussian is truncated",
                      UserWarning, stacklevel=2)
    if kernel_size == 1:
        warnings.warn(f"sigma={sigma} samples with width={width} gives a one-tap (identity) "
                      f"kernel: no smoothing", UserWarning, stacklevel=2)
    if causal:
        x = np.arange(kernel_size, dtype=np.float64)
    else:
        x = np.arange(kernel_size, dtype=np.float64) - (kernel_size - 1) / 2.0
    kernel = np.exp(-0.5 * x**2 / sigma**2)
    return kernel / kernel.sum(), np.array([1.0])


class GaussianSmoothingFilterTransformer(
    FilterByDesignTransformer[GaussianSmoothingSettings, Any]
):
    """Streaming Gaussian smoothing along ``settings.axis``; output has the input's shape,
    namespace, device and float dtype. Redesigned when the sampling rate changes."""

    def get_design_function(self) -> Callable[[float], Any]:
        s = self.settings
        return functools.partial(_design_at_rate, sigma=s.sigma, width=s.width,
                                 kernel_size=s.kernel_size, causal=s.causal)


def _design_at_rate(fs: float, sigma: float | None, width: int | None,
                    kernel_size: int | None, causal: bool) -> Any:
    """The design for sampling rate ``fs`` (``sigma`` seconds become ``sigma * fs`` samples),
    or None for the passthrough settings."""
    if not smooths(sigma, width, kernel_size):
        return None
    return gaussian_smoothing_filter_design(sigma * fs, width, kernel_size, causal)


class GaussianSmoothingFilter(BaseFilterByDesignTransformerUnit[GaussianSmoothingSettings,
                                                                GaussianSmoothingFilterTransformer]):
    SETTINGS = GaussianSmoothingSettings
