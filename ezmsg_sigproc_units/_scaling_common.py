"""What the EWMA-based processors share (ewma, detrend, scaler): the ``passthrough`` gate of
the peer's settings, read live on every message."""

from __future__ import annotations

import math
from typing import Any


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
