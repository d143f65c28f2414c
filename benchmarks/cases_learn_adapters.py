"""Learn family, adapters: the lag-aware Flatten and SklearnModel around scikit-learn's
``SGDClassifier`` (log loss, class probabilities out), ours beside ezmsg-learn 1.16.2's
(``cases()`` in the format of ``benchmarks.learn``).

ezmsg-learn's SklearnModelProcessor cannot run this workload: a sample's single label is
passed to ``partial_fit`` as is (not one per sample), and its first prediction re-creates the
model it was trained on. Its column stays empty ('-').
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

CLASSES = ("left", "right")


def _build(module: str, stem: str, kwargs: dict) -> object:
    """``<stem>Processor``/``<stem>Transformer`` of ``module`` with ``<stem>Settings(**kwargs)``,
    imported now (the peer's only in its own environment)."""
    mod = importlib.import_module(module)
    proc = getattr(mod, f"{stem}Processor", None) or getattr(mod, f"{stem}Transformer")
    settings = getattr(mod, f"{stem}Settings")
    if "partial_fit_classes" in kwargs:
        import numpy as np

        kwargs = {**kwargs, "partial_fit_classes": np.array(kwargs["partial_fit_classes"])}
    return proc(settings(**kwargs))


def _both(sub: str, stem: str, **kwargs: object) -> tuple[Callable, Callable]:
    return tuple(functools.partial(_build, f"{root}.{sub}", stem, kwargs)
                 for root in ("ezmsg_sigproc_units.learn.process", "ezmsg.learn.process"))


def cases() -> list[tuple]:
    flatten = _both("flatten", "Flatten")
    sgd = _both("sklearn", "SklearnModel", model_class="sklearn.linear_model.SGDClassifier",
                model_kwargs={"loss": "log_loss", "random_state": 0},
                partial_fit_classes=CLASSES, predict_method="predict_proba")
    return [("learn.Flatten (time, ch)", "predict", *flatten, "signal"),
            ("SklearnModel[SGDClassifier] predict_proba", "predict", *sgd, "classes"),
            ("SklearnModel[SGDClassifier] partial_fit", "partial_fit", *sgd, "classes")]
