"""What every decoder of the learn family does the same way (one place for each rule).

* ``features(xp, data, axis_idx)``: the message's data as ``(samples, features)``, the sample
  dim first and every other dim flattened in C order (a view or one copy; never a host trip).
* ``trigger_value(message, who)``: the label or target carried by a training sample
  (``attrs["trigger"].value``, the ``SampleTriggerMessage`` of ``Sampler``); ``ValueError``
  naming ``who`` for a message that is not a sample.
* The shared policies, so that every decoder behaves alike:

  - **predict before any fit**: a processor's ``_process`` returns ``None`` (its Unit
    publishes nothing) and logs one warning per processor (``warn_not_fitted``); a model
    object's ``predict`` raises ``learn.util.NotFittedError``;
  - **feature count changing mid-stream**: the model is reset, with one INFO log line
    (``log_feature_change``);
  - **ill-conditioned or rank-deficient training data**: regularise and warn once
    (``warn_regularised``); never NaNs;
  - **a training batch with NaN or infinite values** is left out, with one warning
    (``finite_batch``): one such sample would otherwise poison the model's statistics for the
    rest of the stream. It costs one scalar read back from the device per training batch
    (``partial_fit`` only, never the prediction path).
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez


class NotFittedError(ValueError, AttributeError):
    """A model was asked to predict before it was fitted (the same base classes as
    scikit-learn's exception of that name, so ``except ValueError`` catches both).
    Re-exported by ``learn.util``."""


def features(xp: Any, data: Any, axis_idx: int) -> Any:
    """``data`` as ``(n_samples, n_features)``: dim ``axis_idx`` first, the rest flattened."""
    if data.ndim == 0:
        raise ValueError("message data is a scalar; a decoder needs a sample dim")
    if axis_idx != 0:
        perm = (axis_idx,) + tuple(i for i in range(data.ndim) if i != axis_idx)
        data = xp.permute_dims(data, perm)
    n = data.shape[0]
    return xp.reshape(data, (n, math.prod(data.shape[1:])))


def trigger_value(message: Any, who: str) -> Any:
    """The training target of a sample message (``attrs["trigger"].value``)."""
    trig = getattr(message, "attrs", {}).get("trigger")
    if trig is None:
        raise ValueError(f"{who}: a training message needs attrs['trigger'] (a sample from "
                         f"Sampler); got attrs keys {sorted(getattr(message, 'attrs', {}))}")
    return getattr(trig, "value", None)


def warn_not_fitted(processor: Any) -> None:
    """Log once per processor that it has no model yet, so outputs are withheld."""
    if not processor.__dict__.get("_not_fitted_warned"):
        processor._not_fitted_warned = True
        ez.logger.warning(f"{type(processor).__name__}: no fitted model yet; messages are not "
                          f"decoded (nothing is published) until the first training sample "
                          f"arrives or a model is loaded")


def log_feature_change(name: str, before: int, now: int) -> None:
    """The one log line of a feature-count reset."""
    ez.logger.info(f"{name}: feature count changed from {before} to {now}; model reset")


def warn_regularised(owner: Any, what: str) -> None:
    """Warn once per ``owner`` that training data was ill-conditioned and ``what`` was done."""
    if not owner.__dict__.get("_regularised_warned"):
        owner._regularised_warned = True
        ez.logger.warning(f"{type(owner).__name__}: ill-conditioned or rank-deficient training "
                          f"data; {what}")


def finite_batch(owner: Any, xp: Any, x: Any) -> bool:
    """True when every value of ``x`` is finite; else False and a warning (once per
    ``owner``) that the batch was left out of training."""
    if bool(xp.all(xp.isfinite(x))):  # exact (a sum or a sum of squares can overflow)
        return True
    if not owner.__dict__.get("_nonfinite_warned"):
        owner._nonfinite_warned = True
        ez.logger.warning(f"{type(owner).__name__}: a training batch with NaN or infinite "
                          f"values was skipped (and any later ones will be)")
    return False
