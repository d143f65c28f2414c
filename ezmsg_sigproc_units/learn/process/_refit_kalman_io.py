"""What ``RefitKalmanFilterProcessor`` reads and writes besides its stream: the states a
training sample carries, and checkpoints (ezmsg-learn's layout: a pickled dict of ``A``,
``W``, ``H``, ``Q``)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ezmsg.util.messages.axisarray import AxisArray

from ..._backend import array_namespace, to_host
from ..._messages import axis_index
from .._learn_common import features

PEER_KEYS = ("intention_velocity_indices", "target_positions", "cursor_positions",
             "hold_flags")
"""The optional entries of ezmsg-learn's training dict, besides ``Y_state``."""

CHECKPOINT_FIELDS = ("A_state_transition_matrix", "W_process_noise_covariance",
                     "H_observation_matrix", "Q_measurement_noise_covariance")


def states_of(value: Any, axis_of: Callable[[AxisArray], str]) -> tuple[Any, dict]:
    """``(Y_state, refit kwargs)`` from a sample's ``trigger.value``: ezmsg-learn's dict
    (``Y_state`` and optionally ``PEER_KEYS``; ``hold_flags`` becomes ``hold_indices``), an
    AxisArray of states (sample dim by ``axis_of``, the rest flattened) or an array; the
    states as given (any namespace)."""
    if isinstance(value, dict):
        if "Y_state" not in value:
            raise ValueError("partial_fit: trigger.value dict needs 'Y_state'")
        y = value["Y_state"]
        kw = {k if k != "hold_flags" else "hold_indices": value[k]
              for k in PEER_KEYS if value.get(k) is not None}
    elif isinstance(value, AxisArray):
        y = features(array_namespace(value.data), value.data, axis_index(value, axis_of(value)))
        kw = {}
    elif value is None:
        raise ValueError("partial_fit: the sample carries no states (trigger.value)")
    else:
        y, kw = value, {}
    return y, kw


def read_checkpoint(path: str) -> dict:
    """The matrices of a checkpoint (only load files you trust: pickle)."""
    with open(Path(path), "rb") as f:
        return pickle.load(f)  # noqa: S301 - a checkpoint the user names


def write_checkpoint(model: Any, path: str) -> None:
    """Pickle the model's matrices as NumPy arrays (any backend, and ezmsg-learn, reads them)."""
    data = {name: to_host(getattr(model, name)) for name in CHECKPOINT_FIELDS}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(data, f)
