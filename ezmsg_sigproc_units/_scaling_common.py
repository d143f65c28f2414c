"""What the EWMA-based processors share (ewma, detrend, scaler): the ``passthrough`` gate of
the peer's settings, read live on every message, and the stream's sample period."""

from __future__ import annotations

import math
from typing import Any

from ezmsg.util.messages.axisarray import LinearAxis

from ._messages import axis_index


def stream_period(message: Any, axis: str) -> tuple[int, float, int]:
    """``(index of axis, its sample period, channels = product of the other dims)``;
    ValueError naming ``time_constant`` when ``axis`` has no LinearAxis (an EWMA's alpha
    follows from the time constant and the sample period)."""
    ix = axis_index(message, axis)
    ax = message.axes.get(axis)
    if not isinstance(ax, LinearAxis):
        raise ValueError(f"time_constant: dim {axis!r} has no LinearAxis to read the "
                         f"sample period from")
    n_ch = math.prod(s for i, s in enumerate(message.data.shape) if i != ix)
    return ix, ax.gain, n_ch


class PassthroughGate:
    """Mixin for a stateful transformer whose settings have ``passthrough`` and
    ``reset_on_resume``: while ``passthrough`` is set a message goes out unchanged without
    touching the state; with ``reset_on_resume`` a message let by this way (one with samples)
    restarts the state at the next processed message. Put it before the processor base."""

    def _let_by(self, message: Any) -> bool:
        s = self.settings  # type: ignore[attr-defined]
        if not s.passthrough:
            return False
        if s.reset_on_resume and math.prod(message.data.shape) != 0:
            self._request_reset()  # type: ignore[attr-defined]
        return True

    def __call__(self, message: Any) -> Any:
        if self._let_by(message):
            return message
        return super().__call__(message)  # type: ignore[misc]

    async def __acall__(self, message: Any) -> Any:
        if self._let_by(message):
            return message
        return await super().__acall__(message)  # type: ignore[misc]
