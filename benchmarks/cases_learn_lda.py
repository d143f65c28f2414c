"""Learn family, shrinkage LDA and the adaptive decompositions: ours beside ezmsg-learn
1.16.2's (``cases()`` in the format of ``benchmarks.learn``).

ezmsg-learn's SLDA cannot be trained online: its figure is for a scikit-learn
``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")`` fitted on random data and
loaded from a pickle (what its ``settings_path`` requires); there is no peer figure for SLDA's
``partial_fit``. The decompositions train on the sample messages (their trigger is ignored).
ezmsg-learn's IncrementalPCA cannot start from a 1-sample batch with 8 components
(scikit-learn refuses it), so that case has a peer figure at 50 samples only. NMF is fed
the absolute value of the messages on both sides.
"""

from __future__ import annotations

from collections.abc import Callable


def _ours_slda() -> object:
    from ezmsg_sigproc_units.learn.process.slda import SLDASettings, SLDATransformer

    return SLDATransformer(SLDASettings())


def _peer_slda() -> object:
    import pickle
    import tempfile

    import numpy as np
    from ezmsg.learn.process.slda import SLDASettings, SLDATransformer
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from .learn import LABELS, N_FEATURES

    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, N_FEATURES)).astype(np.float32)
    y = np.array(LABELS * 100)
    lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x, y)
    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
        pickle.dump(lda, f)
    proc = SLDATransformer(SLDASettings(settings_path=f.name))

    class _Fixed:  # the peer's SLDA has no partial_fit: its model is the loaded one
        def __call__(self, msg: object) -> object:
            return proc(msg)

        def partial_fit(self, msg: object) -> None:
            return None

    return _Fixed()


def _decomp(package: str, stem: str, **kw: object) -> Callable:
    def make() -> object:
        import importlib

        mod = importlib.import_module(f"{package}.dim_reduce.adaptive_decomp")
        return getattr(mod, f"{stem}Transformer")(settings=getattr(mod, f"{stem}Settings")(**kw))
    return make


def _nonnegative(factory: Callable) -> Callable:
    """``factory``'s processor fed ``|data|`` (NMF needs non-negative data; the runner's
    messages are Gaussian): the same small extra cost on both sides."""
    def make() -> object:
        from array_api_compat import array_namespace
        from ezmsg.util.messages.util import replace

        proc = factory()

        def absolute(msg: object) -> object:
            return replace(msg, data=array_namespace(msg.data).abs(msg.data))

        class _Abs:
            def __call__(self, msg: object) -> object:
                return proc(absolute(msg))

            def partial_fit(self, msg: object) -> None:
                return proc.partial_fit(absolute(msg))

        return _Abs()
    return make


def cases() -> list[tuple]:
    out: list[tuple] = [
        ("SLDA predict", "predict", _ours_slda, _peer_slda, "classes"),
        ("SLDA partial_fit", "partial_fit", _ours_slda, None, "classes"),
    ]
    for k in (1, 8):
        ours = _decomp("ezmsg_sigproc_units.learn", "IncrementalPCA", n_components=k)
        peer = _decomp("ezmsg.learn", "IncrementalPCA", n_components=k)
        for op in ("predict", "partial_fit"):
            out.append((f"IncrementalPCA[k={k}] {op}", op, ours, peer, "classes"))
    ours = _nonnegative(_decomp("ezmsg_sigproc_units.learn", "MiniBatchNMF", n_components=2,
                                random_state=0))
    peer = _nonnegative(_decomp("ezmsg.learn", "MiniBatchNMF", n_components=2))
    for op in ("predict", "partial_fit"):
        out.append((f"MiniBatchNMF[k=2] {op}", op, ours, peer, "classes"))
    return out
