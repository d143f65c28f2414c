"""NumPy fast path of ``decomp.nmf_solve_w``: the activation solve with scikit-learn's early
stop taken as a real loop exit.

The portable kernel cannot leave its loop early without reading a value back to the host,
so it runs all ``max_iter`` iterations with the converged iterate frozen. NumPy data already
live on the host: here the loop stops at convergence (the same result, typically tens of
iterations instead of ``max_iter``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def solve_w(step: Callable[[Any], Any], w: Any, max_iter: int, tol: float) -> Any:
    """Iterate ``w = step(w)`` up to ``max_iter`` times, stopping once
    ``||w - w_prev|| / ||w|| <= tol`` (``tol > 0``), as scikit-learn's ``_solve_W``."""
    prev = w
    for _ in range(max_iter):
        w = step(w)
        if tol > 0 and np.linalg.norm(w - prev) / np.linalg.norm(w) <= tol:
            break
        prev = w
    return w
