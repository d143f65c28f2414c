"""Learn family, self-supervised regression: ``LRRTransformer`` ours beside ezmsg-learn
1.16.2's (``cases()`` in the format of ``benchmarks.learn``).

Cases (256 channels, one group):

* ``LRR apply``: rereferencing with a given weight matrix (the ``weights`` setting: the
  least-squares ``W`` of 2000 training samples), inputs ``"signal"``: the per-message cost of
  ``y = x @ (I - W)``.
* ``LRR partial_fit``: a training message (the sample's data; LRR ignores its label). Ours
  adds ``X^T X`` to the covariance and solves at the next message to transform; ezmsg-learn
  inverts the covariance at every call.
* ``LRR fit+apply``: the self-supervised loop of a graph that trains on the signal it
  rereferences: ``partial_fit(msg)`` then ``proc(msg)`` per message, inputs ``"signal"``
  (both sides solve once per message here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

N_CH = 256


def _weights() -> Any:
    """``(256, 256)`` least-squares weights of each channel on the others (zero diagonal)."""
    import numpy as np

    rng = np.random.default_rng(11)
    x = rng.standard_normal((2000, N_CH)) @ (np.eye(N_CH) + 0.05 * rng.standard_normal(
        (N_CH, N_CH)))
    p = np.linalg.inv(x.T @ x)
    w = -p / np.diag(p)[None, :]
    np.fill_diagonal(w, 0.0)
    return w


class _FitThenApply:
    """Trains on each message, then rereferences it (the self-supervised loop)."""

    def __init__(self, proc: Any) -> None:
        self.proc = proc

    def __call__(self, message: Any) -> Any:
        self.proc.partial_fit(message)
        return self.proc(message)

    def partial_fit(self, message: Any) -> None:
        self.proc.partial_fit(message)


def _ours(**kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        from ezmsg_sigproc_units.learn.process.ssr import LRRSettings, LRRTransformer

        return LRRTransformer(LRRSettings(**kw))

    return make


def _peer(**kw: Any) -> Callable[[], Any]:
    def make() -> Any:
        from ezmsg.learn.process.ssr import LRRSettings, LRRTransformer

        return LRRTransformer(LRRSettings(**kw))

    return make


def _weighted(factory: Callable[..., Callable[[], Any]]) -> Callable[[], Any]:
    return lambda: factory(weights=_weights())()


def _looped(factory: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: _FitThenApply(factory())


def cases() -> list[tuple[str, str, Callable, Callable | None, str]]:
    return [
        ("LRR apply", "predict", _weighted(_ours), _weighted(_peer), "signal"),
        ("LRR partial_fit", "partial_fit", _ours(), _peer(), "classes"),
        ("LRR fit+apply", "predict", _looped(_ours()), _looped(_peer()), "signal"),
    ]
