"""The plan of the block state-space IIR kernel: coefficients, and the matrices derived from
them for one compute dtype and device, built when first needed.

``IIRPlan`` pickles as what cannot be recomputed, its coefficients (``sos``, float64), the
block length and the dtype name: a few hundred bytes. Its host design (``iir_design``) and
its device matrices (``IIRMatrices``) are caches, dropped when pickled and rebuilt on first
use from the namespace and device of the data (``plan.on(xp, like)``). Tail products ``G_r``
and scan jumps are built per chunk length / level the first time one is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import asarray, device_of, dtype_from_name, is_numpy_namespace
from .iir_design import BlockDesign


class IIRMatrices:
    """Device matrices of one plan (``xp``, ``device``, the plan's dtype). Attributes:
    ``hs`` ``[H; S]`` ``(L + n, L)``; ``obs`` ``O`` ``(L, n)``; ``steady`` ``(n, 1)``, the
    state under a unit constant input; ``to_scipy`` ``(2 n_sections, n)`` / ``from_scipy`` map
    to and from scipy's flattened ``zi``; ``numpy`` ``(S, [I, A^L], [O, H])`` for the NumPy
    native loop (None elsewhere). ``tail(r)``, ``jumps(levels)`` and ``states`` are built on
    first use."""

    def __init__(self, design: BlockDesign, xp: Any, device: Any, dtype: Any) -> None:
        self._design, self._xp, self.device, self.dtype = design, xp, device, dtype
        self.n, self.block = design.n, design.block
        self.hs, self.obs = self._put(design.hs), self._put(design.obs)
        self.steady = self._put(design.steady)
        self.to_scipy, self.from_scipy = self._put(design.to_scipy), self._put(design.from_scipy)
        self.numpy = (tuple(self._put(a) for a in design.numpy_step())
                      if is_numpy_namespace(xp) else None)
        self._tails: dict[int, Any] = {}
        self._jumps: tuple = ()
        self._states: Any = None

    def _put(self, a: np.ndarray) -> Any:
        return asarray(self._xp, np.ascontiguousarray(a), dtype=self.dtype, device=self.device)

    def tail(self, r: int) -> Any:
        """``G_r`` ``(r + n, n + r)`` for a run of ``r < L`` samples."""
        g = self._tails.get(r)
        if g is None:
            g = self._tails[r] = self._put(self._design.tail(r))
        return g

    def jumps(self, levels: int) -> tuple:
        """``(A^L, A^(2L), .., A^(L 2^(levels-1)))``."""
        if len(self._jumps) < levels:
            self._jumps = tuple(self._put(j) for j in self._design.jumps(levels))
        return self._jumps[:levels]

    @property
    def states(self) -> Any:
        """Block states of up to ``DIRECT_BLOCKS`` blocks in one product (see ``iir``)."""
        if self._states is None:
            self._states = self._put(self._design.states())
        return self._states


class IIRPlan:
    """One SOS cascade for one compute dtype: ``sos`` ``(n_sections, 6)`` float64 host,
    ``block`` ``L``, ``dtype`` (a name: MLX dtypes do not pickle). ``n`` the state size,
    ``realisation`` "balanced" or "sections" (``iir_design``). ``on(xp, like)`` gives the
    device matrices, built on the device of ``like`` the first time (after unpickling too)."""

    def __init__(self, sos: np.ndarray, block: int, dtype: str) -> None:
        self.sos, self.block, self.dtype = sos, block, dtype
        self.n_sections = sos.shape[0]
        self._design: BlockDesign | None = None
        self._dev: IIRMatrices | None = None

    @property
    def design(self) -> BlockDesign:
        if self._design is None:
            self._design = BlockDesign(self.sos, self.block, self.dtype)
        return self._design

    @property
    def n(self) -> int:
        return self.design.n

    @property
    def realisation(self) -> str:
        return self.design.kind

    def on(self, xp: Any, like: Any = None) -> IIRMatrices:
        """The device matrices; built on ``like``'s device when there are none yet."""
        dev = self._dev
        if dev is None:
            if like is None:
                raise ValueError("like: the plan has no device matrices yet (it was unpickled); "
                                 "pass an array on the target device")
            dev = self._dev = IIRMatrices(self.design, xp, device_of(like),
                                          dtype_from_name(xp, self.dtype))
        return dev

    def build(self, xp: Any, device: Any) -> IIRPlan:
        """Build the device matrices now, on ``device`` (returns the plan)."""
        self._dev = IIRMatrices(self.design, xp, device, dtype_from_name(xp, self.dtype))
        return self

    @property
    def from_scipy(self) -> Any:
        """Device map from scipy's flattened ``zi`` to our state (``on`` must have run)."""
        return self.on(None).from_scipy

    def __getstate__(self) -> dict:
        """Only what cannot be recomputed: the caches are rebuilt on first use."""
        return {"sos": self.sos, "block": self.block, "dtype": self.dtype}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["sos"], state["block"], state["dtype"])

