"""A decomposition that trains itself from the stream it decomposes.

ezmsg-learn's ``dim_reduce.incremental_decomp`` (same names and settings): the first
messages train the decomposition until it has a model; after that, with
``update_interval > 0``, every ``update_interval`` seconds of the stream (windows from our
``window.WindowTransformer``) is one more ``partial_fit`` batch. Every message is decomposed
with the model as it stands after its own training.
"""

from __future__ import annotations

from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import (
    BaseStatefulProcessor,
    CompositeProcessor,
    warn_axis_deprecated,
)
from ezmsg.util.messages.axisarray import AxisArray

from ..._units import TransformerUnit
from ...window import WindowSettings, WindowTransformer, split_windows
from .adaptive_decomp import (
    IncrementalPCASettings,
    IncrementalPCATransformer,
    MiniBatchNMFSettings,
    MiniBatchNMFTransformer,
)


class IncrementalDecompSettings(ez.Settings):
    axis: str | None = None
    """The dim to decompose (see ``AdaptiveDecompSettings.axis``). Default None: every dim
    but the stream dim."""

    n_components: int = 2
    """Number of components. Default 2."""

    update_interval: float = 0.0
    """Seconds of stream per further training batch once a model exists; 0 (default): the
    model is trained by the first messages only."""

    method: str = "pca"
    """``"pca"`` (incremental PCA) or ``"nmf"`` (online NMF)."""

    batch_size: int | None = None
    """Passed to the decomposition (NMF: None means 1024)."""

    whiten: bool = False
    """PCA: whiten the scores. Default False."""

    init: str = "random"
    """NMF: initial components (``"random"``)."""

    beta_loss: str = "frobenius"
    """NMF: the beta divergence (see ``MiniBatchNMFSettings.beta_loss``)."""

    tol: float = 1e-3
    """NMF: stopping tolerance of the activation solve. Default 1e-3."""

    alpha_W: float = 0.0
    """NMF: regularisation of the activations."""

    alpha_H: float | str = "same"
    """NMF: regularisation of the components ("same": ``alpha_W``)."""

    l1_ratio: float = 0.0
    """NMF: L1 share of the regularisation."""

    forget_factor: float = 0.7
    """NMF: weight of past batches."""

    def __post_init__(self) -> None:
        if self.method not in ("pca", "nmf"):
            raise ValueError(f"method: 'pca' or 'nmf', got {self.method!r}")
        if not isinstance(self.update_interval, (int, float)) or self.update_interval < 0:
            raise ValueError(f"update_interval: must be >= 0 seconds, "
                             f"got {self.update_interval!r}")
        if self.axis is not None and isinstance(self.axis, str) and self.axis.startswith("!"):
            warn_axis_deprecated(self, package="ezmsg-learn", removal="2.0")


class IncrementalDecompTransformer(CompositeProcessor[IncrementalDecompSettings, AxisArray,
                                                      AxisArray]):
    """``IncrementalPCATransformer`` or ``MiniBatchNMFTransformer`` fed by the stream: the
    first messages train it until it has a model, then each completed window of
    ``update_interval`` seconds is a further ``partial_fit`` batch."""

    @staticmethod
    def _initialize_processors(settings: IncrementalDecompSettings
                               ) -> dict[str, BaseStatefulProcessor]:
        s = settings
        if s.method == "pca":
            decomp: Any = IncrementalPCATransformer(settings=IncrementalPCASettings(
                axis=s.axis, n_components=s.n_components, batch_size=s.batch_size,
                whiten=s.whiten))
        else:
            decomp = MiniBatchNMFTransformer(settings=MiniBatchNMFSettings(
                axis=s.axis, n_components=s.n_components, batch_size=s.batch_size or 1024,
                init=s.init, beta_loss=s.beta_loss, tol=s.tol, alpha_W=s.alpha_W,
                alpha_H=s.alpha_H, l1_ratio=s.l1_ratio, forget_factor=s.forget_factor))
        if s.update_interval <= 0:
            return {"decomp": decomp}
        it = s.axis[1:] if (s.axis or "").startswith("!") else None
        windowing = WindowTransformer(WindowSettings(
            axis=it, window_dur=s.update_interval, window_shift=s.update_interval,
            zero_pad_until="none"))
        return {"decomp": decomp, "windowing": windowing}

    def _train(self, message: AxisArray, windows: AxisArray | None) -> None:
        decomp = self._procs["decomp"]
        if not decomp.state.estimator.fitted:
            decomp.partial_fit(message)
            return
        if windows is None:
            return
        win = self._procs["windowing"]
        for w in split_windows(windows, win.state.newaxis, win._axis(message)):
            decomp.partial_fit(w)

    def _windows(self, message: AxisArray) -> AxisArray | None:
        if "windowing" not in self._procs or not self._procs["decomp"].state.estimator.fitted:
            return None
        return self._procs["windowing"](message)

    def _process(self, message: AxisArray) -> AxisArray | None:
        self._train(message, self._windows(message))
        return self._procs["decomp"](message)

    async def _aprocess(self, message: AxisArray) -> AxisArray | None:
        return self._process(message)

    def stateful_op(self, state: dict[str, tuple[Any, int]] | None,
                    message: AxisArray) -> tuple[dict[str, tuple[Any, int]], AxisArray | None]:
        state = state or {}
        for k, proc in self._procs.items():
            if k in state:
                proc.state, proc._hash = state[k]
        result = self._process(message)
        return {k: (p.state, p._hash) for k, p in self._procs.items()}, result


class IncrementalDecompUnit(TransformerUnit[IncrementalDecompSettings, AxisArray, AxisArray,
                                            IncrementalDecompTransformer]):
    SETTINGS = IncrementalDecompSettings


__all__ = ["IncrementalDecompSettings", "IncrementalDecompTransformer",
           "IncrementalDecompUnit"]
