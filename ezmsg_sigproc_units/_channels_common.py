"""What the channels family (quantize, digitize, ...) shares: the per-layout plan of
``_kernels.quantize.to_grid``, cached on the processor (host work once per settings,
namespace, device and dtype)."""

from __future__ import annotations

from typing import Any

from ._backend import namespace_and_device
from ._kernels import quantize as qk
from ._validate import check_real


def check_range(min_val: object, max_val: object) -> None:
    """``min_val`` and ``max_val`` real and finite, ``max_val > min_val``."""
    check_real("min_val", min_val)
    check_real("max_val", max_val)
    if not max_val > min_val:  # type: ignore[operator]
        raise ValueError(f"max_val: must be greater than min_val ({min_val!r}), "
                         f"got {max_val!r}")


class GridPlanCache:
    """Mixin for a stateless processor with a ``_grid()`` method returning its ``qk.Grid``:
    ``_on_grid(x)`` maps ``x`` onto it."""

    _plan: tuple | None = None

    def _grid(self) -> qk.Grid:
        raise NotImplementedError

    def _on_grid(self, x: Any) -> Any:
        xp, dev = namespace_and_device(x)
        plan = self._plan
        settings = self.settings  # type: ignore[attr-defined]
        if (plan is None or plan[0] is not settings or plan[1] is not xp
                or plan[2] != x.dtype or plan[3] != dev):
            grid = self._grid()
            out_dtype, clamp = qk.grid_plan(xp, dev, x.dtype, grid)
            plan = self._plan = (settings, xp, x.dtype, dev, grid,
                                 qk.grid_kernel(xp, grid, out_dtype, clamp))
        return plan[5](x)
