"""Standard-normal samples whose values do not depend on how the stream is cut into blocks.

Every backend's generator is drawn in fixed batches of ``BATCH`` rows (``(BATCH, n_ch)``); a
block is the next ``n`` rows of the batches. NumPy's generator gives the same numbers for any
split of one draw, but torch, JAX (a key split per draw) and MLX do not, so drawing exactly a
block's rows would make the stream depend on the block sizes. The batch lives on the device;
the only per-block work is a slice (and a concat when a block crosses a batch boundary).

Pickling keeps the generator as it was before the current batch plus the rows already used;
the batch is redrawn when the stream is restored, so it continues exactly. (A generator that
cannot be pickled at a batch start keeps its batch array in the pickle instead.)
"""

from __future__ import annotations

import pickle
from typing import Any

from .. import _backend

BATCH = 1024


class NormalStream:
    """``take(n)``: the next ``(n, n_ch)`` standard-normal rows, in ``dtype`` on the device
    of ``rng`` (a ``_backend.DeviceRNG``)."""

    def __init__(self, rng: _backend.DeviceRNG, n_ch: int, dtype: Any, batch: int = BATCH):
        self.rng = rng
        self.n_ch = n_ch
        self.dtype = dtype
        self.batch_rows = batch
        self._snapshot: bytes | None = None  # the generator before the current batch
        self._batch: Any = None
        self._used = batch  # rows of the current batch already handed out

    def _next_batch(self) -> None:
        try:
            self._snapshot = pickle.dumps(self.rng)
        except (TypeError, pickle.PicklingError):  # a generator that cannot be saved
            self._snapshot = None  # then the batch itself is pickled with the stream
        self._batch = self.rng.normal((self.batch_rows, self.n_ch), self.dtype)
        self._used = 0

    def take(self, n: int) -> Any:
        xp = self.rng.xp
        parts = []
        while n > 0:
            if self._used >= self.batch_rows:
                self._next_batch()
            k = min(n, self.batch_rows - self._used)
            parts.append(self._batch[self._used:self._used + k, ...])
            self._used += k
            n -= k
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return _backend.zeros(xp, (0, self.n_ch), dtype=self.dtype, device=self.rng.device)
        return xp.concat(parts, axis=0)

    def __getstate__(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_batch", "dtype")}
        state["dtype"] = _backend.dtype_name(self.dtype)
        if self._snapshot is not None:  # the generator rewound to the start of the batch
            state["rng"] = pickle.loads(self._snapshot)
        else:
            state["_batch"] = self._batch
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.dtype = _backend.dtype_from_name(self.rng.xp, state["dtype"])
        if self._snapshot is not None:
            used = self._used
            self._next_batch()  # redraw the same batch from the rewound generator
            self._used = used
