"""Training batches with NaN or infinite values are skipped, with one warning per owner: one
such sample would otherwise poison a model's sufficient statistics for the rest of the
stream (its outputs all NaN). Costs one scalar read back from the device per training
batch (``partial_fit`` only, never the prediction path)."""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez


def finite_batch(owner: Any, xp: Any, x: Any) -> bool:
    """True when every value of ``x`` is finite; else False and a warning (once per
    ``owner``) that the batch was left out of training."""
    if math.isfinite(float(xp.sum(x))):
        return True
    if not owner.__dict__.get("_nonfinite_warned"):
        owner._nonfinite_warned = True
        ez.logger.warning(f"{type(owner).__name__}: a training batch with NaN or infinite "
                          f"values was skipped (and any later ones will be)")
    return False
