"""Products shared by the block kernels (``iir``, ``fir``), on every backend.

``matmul(xp, a, b)``: ``a @ b`` for a 2-D ``a`` and a ``(..., k, C)`` ``b`` (batched over the
leading dims of ``b``). On NumPy it is split into products that each stay on one BLAS thread
(``linalg_numpy``); elsewhere it is the namespace's own ``@``. Kernels are compiled with
``_backend.compile_kernel``.
"""

from __future__ import annotations

from typing import Any

from .._backend import is_numpy_namespace
from . import linalg_numpy


def matmul(xp: Any, a: Any, b: Any) -> Any:
    """``a @ b``; ``(..., m, C)`` for ``a`` ``(m, k)`` and ``b`` ``(..., k, C)``."""
    if is_numpy_namespace(xp):
        return linalg_numpy.matmul(a, b)
    return a @ b
