"""Learn family, linear models: the adaptive linear regressor (every ``model_type``), the
static linear regressor and ``SGDDecoder``, ours beside ezmsg-learn 1.16.2's (``cases()`` in
the format of ``benchmarks.learn``)."""

from __future__ import annotations

from collections.abc import Callable

LABEL_WEIGHTS = {"left": 1.0, "right": 1.0}


def _factory(module: str, settings: str, transformer: str, **kw: object) -> Callable:
    """A fresh processor of ``<module>`` (ours: ``ezmsg_sigproc_units.learn``, the peer's:
    ``ezmsg.learn``), imported when called."""
    def make() -> object:
        import importlib

        mod = importlib.import_module(module)
        return getattr(mod, transformer)(getattr(mod, settings)(**kw))
    return make


def _pair(sub: str, stem: str, **kw: object) -> tuple[Callable, Callable]:
    names = (f"{stem}Settings", f"{stem}Transformer")
    return (_factory(f"ezmsg_sigproc_units.learn.process.{sub}", *names, **kw),
            _factory(f"ezmsg.learn.process.{sub}", *names, **kw))


def cases() -> list[tuple]:
    out: list[tuple] = []
    for kind in ("linear", "logistic", "sgd", "par"):
        ours, peer = _pair("adaptive_linear_regressor", "AdaptiveLinearRegressor",
                           model_type=kind)
        for op in ("predict", "partial_fit"):
            out.append((f"AdaptiveLinearRegressor[{kind}] {op}", op, ours, peer, "targets"))
    static = _pair("linear_regressor", "LinearRegressor", model_type="ridge")
    sgd = _pair("sgd", "SGDDecoder", label_weights=LABEL_WEIGHTS)
    for op in ("predict", "partial_fit"):
        out.append((f"LinearRegressor[ridge] {op}", op, *static, "targets"))
        out.append((f"SGDDecoder {op}", op, *sgd, "classes"))
    return out
