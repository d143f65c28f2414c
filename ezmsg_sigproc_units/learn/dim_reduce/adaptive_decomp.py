"""Adaptive decompositions (incremental PCA, online NMF) trained with ``partial_fit``.

ezmsg-learn's ``dim_reduce.adaptive_decomp`` (same names and settings), computed natively in
the input's array namespace on its device: ``IncrementalPCA*`` equals scikit-learn's
``IncrementalPCA.partial_fit`` on the same batches; ``MiniBatchNMF*`` equals scikit-learn's
``MiniBatchNMF.partial_fit`` (same random start with the same ``random_state``).

Layout (as ezmsg-learn): ``axis=None`` decomposes every dim but the stream dim (observations
along the stream dim); naming a dim decomposes it, observing every index of the stream dim
and of the remaining dims. The output is ``[stream dim, remaining dims..., target]`` where
the target dim is the named one, or ``"components"`` when several dims were flattened.
"""

from __future__ import annotations

import math
import typing
from typing import Any

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import (
    BaseAdaptiveTransformer,
    processor_state,
    warn_axis_deprecated,
)
from ezmsg.util.messages.axisarray import AxisArray

from ..._backend import float_dtype_for, namespace_and_device, zeros
from ..._messages import axis_index, replace_fields
from ..._processors import stream_axis
from ..._units import AdaptiveUnit
from .._learn_common import features, finite_batch, log_feature_change, warn_not_fitted
from ..util import with_fingerprint
from ._decomp_models import BETA_LOSSES, IncrementalPCAModel, MiniBatchNMFModel


class AdaptiveDecompSettings(ez.Settings):
    axis: str | None = None
    """The dim to decompose. None (default): every dim except the stream dim (the message's
    ``stream_dim``, else ``"time"``/``"win"``, else the first dim), flattened; observations
    run along the stream dim. A dim name: that dim is decomposed; every index of the stream
    dim and the other dims is an observation. ``"!dim"`` (deprecated, as in ezmsg-learn):
    observations along ``dim``, every other dim decomposed."""

    n_components: int = 2
    """Number of components kept. Default 2."""

    def __post_init__(self) -> None:
        if self.axis is not None and (not isinstance(self.axis, str)
                                      or self.axis in ("", "!")):
            raise ValueError(f"axis: must be a dim name, '!dim' or None, got {self.axis!r}")
        if (not isinstance(self.n_components, int) or isinstance(self.n_components, bool)
                or self.n_components < 1):
            raise ValueError(f"n_components: must be a positive int, got {self.n_components!r}")
        if self.axis is not None and self.axis.startswith("!"):
            warn_axis_deprecated(self, package="ezmsg-learn", removal="2.0")


@processor_state
class AdaptiveDecompState:
    template: AxisArray | None = None
    """Unused (kept for ezmsg-learn's field name); outputs are built per message."""

    axis_groups: tuple[str, list[str], list[str]] | None = None
    """``(observation dim, decomposed dims, other dims)`` of the last message's layout."""

    estimator: Any = None
    """The model (``IncrementalPCAModel`` / ``MiniBatchNMFModel``): arrays on the device."""


class AdaptiveDecompTransformer(BaseAdaptiveTransformer[AdaptiveDecompSettings, AxisArray,
                                                        AxisArray, AdaptiveDecompState]):
    """Base of ``IncrementalPCATransformer`` and ``MiniBatchNMFTransformer``: training is
    explicit (``partial_fit``; see ``IncrementalDecompTransformer`` for training from the
    stream itself). Before the first fit, messages give None (one warning); a feature
    count that changes resets the model (one log line). Output in the input's float dtype."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state.estimator = self._create_estimator()

    @classmethod
    def get_message_type(cls, dir: str) -> type[AxisArray]:
        return AxisArray

    def _create_estimator(self) -> Any:
        raise NotImplementedError

    def _hash_message(self, message: AxisArray) -> int:
        return 0  # the model outlives layout changes; the feature count is checked

    def _reset_state(self, message: AxisArray) -> None:
        pass

    def _calculate_axis_groups(self, message: AxisArray) -> tuple[str, list[str], list[str]]:
        axis, dims = self.settings.axis, list(message.dims)
        groups = self._state.axis_groups
        if groups is not None and self.__dict__.get("_groups_key") == (tuple(dims), axis,
                                                                       message.stream_dim):
            return groups
        if axis is not None and axis.startswith("!"):
            it = axis[1:]
            axis_index(message, it)
            targ, off = [d for d in dims if d != it], []
        else:
            it = stream_axis(self, message, None)
            axis_index(message, it)
            if axis is None:
                targ, off = [d for d in dims if d != it], []
            else:
                axis_index(message, axis)
                if axis == it:
                    raise ValueError(f"axis: the decomposed dim {axis!r} is the dim "
                                     f"observations run along")
                targ, off = [axis], [d for d in dims if d not in (it, axis)]
        self._state.axis_groups = groups = (it, targ, off)
        self._groups_key = (tuple(dims), axis, message.stream_dim)
        return groups

    def _matrix(self, message: AxisArray) -> tuple[Any, Any, tuple]:
        """``(xp, x (observations, features), groups)``: the data reordered to
        ``[observation dim, other dims, decomposed dims]`` and flattened."""
        it, targ, off = groups = self._calculate_axis_groups(message)
        data = message.data
        xp, dev = namespace_and_device(data)
        order = [message.dims.index(d) for d in (it, *off, *targ)]
        if order != list(range(data.ndim)):
            data = xp.permute_dims(data, tuple(order))
        if not xp.isdtype(data.dtype, "real floating"):
            data = xp.astype(data, float_dtype_for(xp, data.dtype, dev))
        lead = data.ndim - len(targ)
        if lead > 1:
            data = xp.reshape(data, (math.prod(data.shape[:lead]), *data.shape[lead:]))
        return xp, features(xp, data, 0), groups

    def _check_features(self, p: int) -> bool:
        est = self._state.estimator
        if est.n_features is not None and est.n_features != p:
            log_feature_change(type(self).__name__, est.n_features, p)
            self._state.estimator = self._create_estimator()
            return False
        return True

    def partial_fit(self, message: AxisArray) -> None:
        xp, x, _ = self._matrix(message)
        if x.shape[0] == 0:
            return
        self._check_features(x.shape[1])
        if finite_batch(self, xp, x):
            self._state.estimator.partial_fit(xp, x)

    def _process(self, message: AxisArray) -> AxisArray | None:
        est = self._state.estimator
        if not est.fitted:
            warn_not_fitted(self)
            return None
        xp, x, (it, targ, off) = self._matrix(message)
        if not self._check_features(x.shape[1]):
            warn_not_fitted(self)
            return None
        k = self.settings.n_components
        if x.shape[0]:
            y = est.transform(xp, x)
        else:
            y = zeros(xp, (0, k), dtype=x.dtype, device=namespace_and_device(x)[1])
        shape = [message.data.shape[message.dims.index(d)] for d in (it, *off)]
        y = xp.reshape(y, (*shape, k))
        name = targ[0] if len(targ) == 1 else "components"
        axes = {d: message.axes[d] for d in (it, *off) if d in message.axes}
        axes[name] = self._component_axis(name)
        return replace_fields(message, y, dims=[it, *off, name], axes=axes, stream_dim=it)

    def _component_axis(self, name: str) -> AxisArray.CoordinateAxis:
        cached = self.__dict__.get("_comp_axis")
        if cached is None or cached.dims[0] != name:
            cached = with_fingerprint(AxisArray.CoordinateAxis(
                data=np.arange(self.settings.n_components).astype(str), dims=[name],
                unit="component"))
            self._comp_axis = cached
        return cached


class IncrementalPCASettings(AdaptiveDecompSettings):
    whiten: bool = False
    """Divide each component's score by its standard deviation. Default False."""

    batch_size: int | None = None
    """Accepted for ezmsg-learn's configs; ``partial_fit`` takes each batch as it comes."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.whiten, bool):
            raise ValueError(f"whiten: must be a bool, got {self.whiten!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int)
                                            or self.batch_size < 1):
            raise ValueError(f"batch_size: must be a positive int or None, "
                             f"got {self.batch_size!r}")


class IncrementalPCATransformer(AdaptiveDecompTransformer):
    """Incremental PCA (scikit-learn's ``IncrementalPCA.partial_fit``); scores are
    ``(x - mean) @ components.T``, whitened on request."""

    @classmethod
    def get_settings_type(cls) -> type[IncrementalPCASettings]:
        return IncrementalPCASettings

    def _create_estimator(self) -> IncrementalPCAModel:
        return IncrementalPCAModel(self.settings.n_components, self.settings.whiten)


class MiniBatchNMFSettings(AdaptiveDecompSettings):
    init: str | None = "random"
    """Initial components: ``"random"`` (default; scikit-learn's draw, seeded by
    ``random_state``). The SVD-based starts (``"nndsvd*"``, None) are not offered."""

    batch_size: int = 1024
    """With ``forget_factor``, sets the forgetting per batch:
    ``rho = forget_factor ** (min(batch_size, n) / n)`` (n: the first batch's size)."""

    beta_loss: str | float = "frobenius"
    """``"frobenius"`` (2), ``"kullback-leibler"`` (1), ``"itakura-saito"`` (0) or a float.
    Losses <= 0 need strictly positive data."""

    tol: float = 1e-4
    """Relative change of the activations that stops their solve (and the transform's)."""

    max_no_improvement: int | None = None
    """Accepted for ezmsg-learn's configs (used by full fits, not by ``partial_fit``)."""

    max_iter: int = 200
    """Iterations of the transform's activation solve at most. Default 200."""

    alpha_W: float = 0.0
    """Regularisation of the activations (scaled by the feature count). Default 0."""

    alpha_H: float | str = "same"
    """Regularisation of the components (scaled by the batch size); "same": ``alpha_W``."""

    l1_ratio: float = 0.0
    """L1 share of the regularisation (0: L2 only). Default 0."""

    forget_factor: float = 0.7
    """Weight of past batches in the component statistics. Default 0.7."""

    random_state: int | None = None
    """Seed of the random start (ours; ezmsg-learn's start is unseeded). Default None."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.init != "random":
            raise ValueError(f"init: only 'random' is computed natively, got {self.init!r}")
        if not (self.beta_loss in BETA_LOSSES or (isinstance(self.beta_loss, (int, float))
                                                  and not isinstance(self.beta_loss, bool))):
            raise ValueError(f"beta_loss: one of {list(BETA_LOSSES)} or a float, "
                             f"got {self.beta_loss!r}")
        for name in ("tol", "alpha_W", "l1_ratio"):
            if not isinstance(getattr(self, name), (int, float)) or getattr(self, name) < 0:
                raise ValueError(f"{name}: must be a non-negative number")
        if self.alpha_H != "same" and (not isinstance(self.alpha_H, (int, float))
                                       or self.alpha_H < 0):
            raise ValueError("alpha_H: must be 'same' or a non-negative number")
        if not 0 < self.forget_factor <= 1:
            raise ValueError(f"forget_factor: must be in (0, 1], got {self.forget_factor!r}")
        for name in ("batch_size", "max_iter"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name}: must be a positive int")


class MiniBatchNMFTransformer(AdaptiveDecompTransformer):
    """Online NMF (scikit-learn's ``MiniBatchNMF.partial_fit``); the output is the
    activations of each observation (scikit-learn's ``transform``)."""

    @classmethod
    def get_settings_type(cls) -> type[MiniBatchNMFSettings]:
        return MiniBatchNMFSettings

    def _create_estimator(self) -> MiniBatchNMFModel:
        s = self.settings
        return MiniBatchNMFModel(
            s.n_components, beta_loss=s.beta_loss, tol=s.tol, max_iter=s.max_iter,
            alpha_W=s.alpha_W, alpha_H=s.alpha_H, l1_ratio=s.l1_ratio,
            forget_factor=s.forget_factor, batch_size=s.batch_size, random_state=s.random_state)


SettingsType = typing.TypeVar("SettingsType", bound=AdaptiveDecompSettings)
TransformerType = typing.TypeVar("TransformerType", bound=AdaptiveDecompTransformer)


class BaseAdaptiveDecompUnit(
    AdaptiveUnit[SettingsType, AxisArray, AxisArray, TransformerType],
    typing.Generic[SettingsType, TransformerType],
):
    """``INPUT_SIGNAL`` -> decomposed ``OUTPUT_SIGNAL`` (materialised); ``INPUT_SAMPLE``
    trains (any AxisArray of the signal's layout; nothing is published for it)."""

    @ez.subscriber(AdaptiveUnit.INPUT_SAMPLE)
    async def on_sample(self, msg: AxisArray) -> None:
        await self._run_processor("apartial_fit", msg)  # the bases' fault handling


class IncrementalPCAUnit(BaseAdaptiveDecompUnit[IncrementalPCASettings,
                                                IncrementalPCATransformer]):
    SETTINGS = IncrementalPCASettings


class MiniBatchNMFUnit(BaseAdaptiveDecompUnit[MiniBatchNMFSettings, MiniBatchNMFTransformer]):
    SETTINGS = MiniBatchNMFSettings
