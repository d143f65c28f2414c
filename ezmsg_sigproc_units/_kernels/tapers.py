"""Window (taper) tables, computed on the host in float64 (NumPy; SciPy imported lazily).

All windows are the *symmetric* form (``sym=True`` in SciPy, as ``numpy.hamming`` etc.),
which is what a one-shot spectrum of a whole chunk uses.
"""

from __future__ import annotations

import numpy as np

#: window name -> (parameter name, default, (lo, hi) inclusive range) for parametric windows
PARAMETERS: dict[str, tuple[str, float, tuple[float, float]]] = {
    "tukey": ("alpha", 0.5, (0.0, 1.0)),
    "kaiser": ("beta", 14.0, (0.0, float("inf"))),
}

NAMES = ("none", "hamming", "hanning", "bartlett", "blackman", "blackman_harris", "flattop",
         "tukey", "kaiser")


def window(name: str, n: int, param: float | None = None) -> np.ndarray:
    """Symmetric window ``name`` of length ``n`` (float64). ``param`` is Tukey's alpha or
    Kaiser's beta (None: the default in ``PARAMETERS``)."""
    if name not in NAMES:
        raise ValueError(f"window: unknown window {name!r}; choose one of {NAMES}")
    if name in PARAMETERS and param is None:
        param = PARAMETERS[name][1]
    if n == 0:
        return np.zeros(0)
    if name == "none":
        return np.ones(n)
    if name == "hamming":
        return np.hamming(n)
    if name == "hanning":
        return np.hanning(n)
    if name == "bartlett":
        return np.bartlett(n)
    if name == "blackman":
        return np.blackman(n)
    if name == "kaiser":
        return np.kaiser(n, param)
    from scipy.signal import windows

    if name == "blackman_harris":
        return windows.blackmanharris(n, sym=True)
    if name == "flattop":
        return windows.flattop(n, sym=True)
    return windows.tukey(n, alpha=param, sym=True)


def dpss(n: int, nw: float, k: int) -> np.ndarray:
    """``k`` symmetric DPSS (Slepian) tapers of length ``n`` as ``(k, n)`` float64, each of
    unit energy (``scipy.signal.windows.dpss(n, nw, k, sym=True)``)."""
    if n == 0:
        return np.zeros((k, 0))
    if not nw < n / 2:
        raise ValueError(f"nw: must be less than half the chunk length ({n} samples), got {nw}")
    if k > n:
        raise ValueError(f"tapers: at most the chunk length ({n}), got {k}")
    from scipy.signal import windows

    return np.atleast_2d(windows.dpss(n, nw, k, sym=True))
