"""ReFIT Kalman decoding of a stream (ezmsg-learn's ``process.refit_kalman``).

``RefitKalmanFilterProcessor`` turns messages of neural features ``(time, ...)`` into decoded
states ``(time, state)``. The sample dim is the message's ``stream_dim`` (else ``"time"``,
else the first dim); every other dim is flattened into features.

Training (``partial_fit``, the Unit's ``INPUT_SAMPLE``): a sample message (``Sampler``'s,
``attrs["trigger"].value``) carries the states, either as ezmsg-learn's dict (``Y_state``
``(n, s)`` and optionally ``intention_velocity_indices``, ``target_positions``,
``cursor_positions``, ``hold_flags``) or as an AxisArray or array of states ``(n, s)``. The
first sample fits the whole model (``A``, ``W``, ``H``, ``Q``); later samples refit the
observation model (``H``, ``Q``), as ezmsg-learn's refit (ReFIT's intention remapping when
the dict carries target and cursor positions).
``fit(X, y)``, a checkpoint (``checkpoint_path``) or ``log_for_refit`` + ``refit_model`` are
the other ways, as in ezmsg-learn.

Shared policies: before any fit, ``_process`` returns None and warns once; a feature count
that differs from the model's resets the model (one INFO line); singular ``Q``/``W`` are
ridged with a warning (``learn.model.refit_kalman``).

Filtering runs in the message's namespace, device and float dtype (the model is cast once
per (re)fit). With ``steady_state`` the constant-gain recursion is vectorised over the chunk
(a log-depth scan); otherwise the covariance recursion runs per sample in ``(s, s)``
information form (the ``(m, m)`` inverse of ezmsg-learn's loop is never formed). Outputs equal
one call over the whole stream for any split into messages.
"""

from __future__ import annotations

import os
from typing import Any

import ezmsg.core as ez
from ezmsg.baseproc import BaseAdaptiveTransformer, processor_state
from ezmsg.util.messages.axisarray import AxisArray

from ..._backend import (
    array_namespace,
    compile_kernel,
    eye,
    float_dtype_for,
    move,
    namespace_and_device,
    zeros,
)
from ..._kernels import kalman
from ..._messages import axis_index, replace_fields
from ..._processors import StreamAxisMixin
from ..._units import AdaptiveUnit
from .._learn_common import (
    NotFittedError,
    features,
    log_feature_change,
    trigger_value,
    warn_not_fitted,
)
from ..model.refit_kalman import RefitKalmanFilter, as_compute
from ._refit_kalman_io import read_checkpoint, states_of, write_checkpoint


class RefitKalmanFilterSettings(ez.Settings):
    checkpoint_path: str | None = None
    """Pickle of ``A_state_transition_matrix``, ``W_process_noise_covariance``,
    ``H_observation_matrix``, ``Q_measurement_noise_covariance`` (``save_checkpoint``'s, or
    ezmsg-learn's) loaded at the first message instead of learning from data. Default None.
    Only load files you trust (pickle)."""

    steady_state: bool = False
    """True: the constant steady-state gain (vectorised over each message). False (default):
    the gain follows the covariance recursion sample by sample, from the steady-state
    covariance after each (re)fit."""

    velocity_indices: tuple[int, int] = (2, 3)
    """State columns of the 2-D velocity, for ``refit_model``'s intention remapping (the first
    is used; the velocity is that column and the next). Default (2, 3)."""

    def __post_init__(self) -> None:
        cp = self.checkpoint_path
        if cp is not None and not isinstance(cp, (str, os.PathLike)):
            raise ValueError(f"checkpoint_path: must be a path or None, got {cp!r}")
        if not isinstance(self.steady_state, bool):
            raise ValueError(f"steady_state: must be a bool, got {self.steady_state!r}")
        vi = self.velocity_indices
        if (not isinstance(vi, (tuple, list)) or len(vi) != 2
                or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                           for i in vi)):
            raise ValueError(f"velocity_indices: must be two non-negative ints, got {vi!r}")


@processor_state
class RefitKalmanFilterState:
    model: RefitKalmanFilter | None = None
    """The model (None until the first message, fit or checkpoint)."""

    x: Any = None
    """Current state estimate ``(s,)`` in the messages' namespace, device and float dtype."""

    P: Any = None
    """Current posterior covariance ``(s, s)`` (not ``steady_state``); reset to the model's
    steady-state covariance after every (re)fit."""

    ops: tuple | None = None
    """The model's filtering terms cast for the messages: ``(F', K')`` with ``steady_state``,
    ``(A, W, Q^-1 H, G, alpha^2)`` otherwise; None when they must be rebuilt (after a
    (re)fit or a reset)."""

    layout: tuple | None = None
    """``(sample dim, its index)`` of the stream, set with ``ops`` (the compute dtype is
    ``x``'s)."""

    buffer_neural: list | None = None
    """Last sample of each message given to ``log_for_refit`` ``(m,)`` (copies)."""

    buffer_state: list | None = None
    """The state estimate at each ``log_for_refit``."""

    buffer_cursor_positions: list | None = None
    """Cursor positions ``(2,)`` given to ``log_for_refit``."""

    buffer_target_positions: list | None = None
    """Target positions ``(2,)`` given to ``log_for_refit``."""

    buffer_hold_flags: list | None = None
    """Hold flags given to ``log_for_refit``."""


class RefitKalmanFilterProcessor(StreamAxisMixin, BaseAdaptiveTransformer[
        RefitKalmanFilterSettings, AxisArray, AxisArray, RefitKalmanFilterState]):
    """Decodes states from neural features with a (re)fittable Kalman filter (see module)."""

    # -- model management (ezmsg-learn's methods) ----------------------------------------
    def _config_from_settings(self) -> dict:
        return {"steady_state": self.settings.steady_state}

    def _init_model(self, **kwargs: Any) -> None:
        config = self._config_from_settings()
        config.update(kwargs)
        self._state.model = RefitKalmanFilter(**config)
        self._state.ops = None

    def _ensure_model(self) -> RefitKalmanFilter:
        if self._state.model is None:
            if self.settings.checkpoint_path:
                self.load_from_checkpoint(self.settings.checkpoint_path)
            else:
                self._init_model()
        return self._state.model

    def fit(self, X: Any, y: Any) -> None:
        """Fit the whole model from neural data ``X`` ``(n, m)`` and states ``y`` ``(n, s)``."""
        self._ensure_model().fit(X, y)
        self._state.ops = None

    def load_from_checkpoint(self, checkpoint_path: str) -> None:
        """Load ``A``, ``W``, ``H``, ``Q`` from a pickle and compute the gain."""
        self._init_model(**read_checkpoint(checkpoint_path))
        self._state.model._compute_gain()
        self._state.model.is_fitted = True

    def save_checkpoint(self, checkpoint_path: str) -> None:
        """Pickle ``A``, ``W``, ``H``, ``Q`` as NumPy arrays (readable on any backend and by
        ezmsg-learn); ``ValueError`` before a fit."""
        model = self._state.model
        if model is None or not model.is_fitted:
            raise ValueError("checkpoint_path: cannot save a checkpoint before a fit")
        write_checkpoint(model, checkpoint_path)

    # -- stream bookkeeping --------------------------------------------------------------
    def _n_features(self, message: AxisArray) -> int:
        ix = axis_index(message, self._axis(message))
        n = 1
        for i, d in enumerate(message.data.shape):
            n *= d if i != ix else 1
        return n

    def _reset_state(self, message: AxisArray) -> None:
        st = self._state
        model = self._ensure_model()
        m = self._n_features(message)
        if model.is_fitted and model.n_features != m:
            log_feature_change(type(self).__name__, model.n_features, m)
            self._init_model()
        st.x = st.P = st.ops = None
        self._clear_buffers()

    def _clear_buffers(self) -> None:
        st = self._state
        st.buffer_neural, st.buffer_state = [], []
        st.buffer_cursor_positions, st.buffer_target_positions = [], []
        st.buffer_hold_flags = []

    def _build_ops(self, xp: Any, dev: Any, dt: Any) -> None:
        """Cast the model's terms for the messages (once per (re)fit or reset)."""
        st, model = self._state, self._state.model
        a = move(model.A_state_transition_matrix, xp, dev, dt)
        k = move(model.K_kalman_gain, xp, dev, dt)
        qih, g = (move(t, xp, dev, dt) for t in model.info_terms)
        s = a.shape[0]
        if model.steady_state:
            h = move(model.H_observation_matrix, xp, dev, dt)
            f = (eye(xp, s, dtype=dt, device=dev) - k @ h) @ a
            st.ops = (xp.permute_dims(f, (1, 0)), xp.permute_dims(k, (1, 0)))
        else:
            alpha2 = float(model.alpha_fading_memory) ** 2
            st.ops = (a, move(model.W_process_noise_covariance, xp, dev, dt), qih, g, alpha2)
            st.P = move(model.P_state_covariance, xp, dev, dt)
        if st.x is None or st.x.shape[0] != s:
            st.x = zeros(xp, (s,), dtype=dt, device=dev)

    def _process(self, message: AxisArray) -> AxisArray | None:
        st = self._state
        data = message.data
        xp, dev = namespace_and_device(data)
        if st.ops is None and not self._prepare(message, xp, dev):
            return None
        axis, ix = st.layout
        dt = st.x.dtype
        z = data if ix == 0 and data.ndim == 2 else features(xp, data, ix)
        if z.dtype != dt:
            z = xp.astype(z, dt)
        if z.shape[0] == 0:
            xs = zeros(xp, (0, st.x.shape[0]), dtype=dt, device=dev)
        elif len(st.ops) == 2:  # steady state
            xs, st.x = compile_kernel(xp, kalman.filter_steady)(z, st.x, *st.ops)
        else:
            xs, st.x, st.P = kalman.filter_adaptive(xp, z, st.x, st.P, *st.ops)
        ax = message.axes.get(axis)
        return replace_fields(message, xs, dims=[axis, "state"],
                              axes={axis: ax} if ax is not None else {},
                              key=f"{message.key}_filtered")

    def _prepare(self, message: AxisArray, xp: Any, dev: Any) -> bool:
        """Before the first message after a (re)fit or reset: check the model against the
        message, cast its terms (``_build_ops``). False (nothing to publish) without a fitted
        model for these features."""
        model = self._state.model
        if model is None or not model.is_fitted:
            warn_not_fitted(self)
            return False
        m = self._n_features(message)
        if m != model.n_features:  # a model fitted elsewhere with other features
            log_feature_change(type(self).__name__, model.n_features, m)
            self._init_model()
            warn_not_fitted(self)
            return False
        self._build_ops(xp, dev, float_dtype_for(xp, message.data.dtype, dev))
        axis = self._axis(message)
        self._state.layout = (axis, axis_index(message, axis))
        return True

    # -- training ------------------------------------------------------------------------
    def partial_fit(self, message: AxisArray) -> None:
        """Fit (first sample) or refit (later ones) from a sample message (see module)."""
        value = trigger_value(message, type(self).__name__ + ".partial_fit")
        xp, dev = namespace_and_device(message.data)
        dt = float_dtype_for(xp, message.data.dtype, dev)
        z = features(xp, message.data, axis_index(message, self._axis(message)))
        if z.shape[0] == 0:
            return
        z = z if z.dtype == dt else xp.astype(z, dt)
        y, kw = states_of(value, self._axis)
        y = as_compute(y, xp, dev, dt)
        if y.ndim == 1:
            y = xp.reshape(y, (y.shape[0], 1))
        if y.shape[0] != z.shape[0]:
            raise ValueError(f"partial_fit: {y.shape[0]} states for {z.shape[0]} samples")
        model = self._ensure_model()
        if model.is_fitted and model.n_features != z.shape[1]:
            log_feature_change(type(self).__name__, model.n_features, z.shape[1])
            self._init_model()
            model = self._state.model
        if model.is_fitted:
            model.refit(z, y, **kw)
        else:
            model.fit(z, y)
        self._state.ops = None

    def log_for_refit(self, message: AxisArray, target_position: Any = None,
                      hold_flag: bool | None = None, cursor_position: Any = None) -> None:
        """Buffer the message's last sample and the current state estimate (and optional
        target, cursor position and hold flag) for ``refit_model``. ``cursor_position`` is an
        addition: ezmsg-learn never buffers cursor positions, so its remapping never ran."""
        st = self._state
        if st.buffer_neural is None:
            self._clear_buffers()
        model = st.model
        if model is None or not model.is_fitted:
            raise NotFittedError("log_for_refit: fit the model first")
        xp, dev = namespace_and_device(message.data)
        dt = float_dtype_for(xp, message.data.dtype, dev)
        z = features(xp, message.data, axis_index(message, self._axis(message)))
        if z.shape[0] == 0:
            return
        if st.ops is None and not self._prepare(message, xp, dev):
            raise NotFittedError("log_for_refit: the model does not fit these features")
        st.buffer_neural.append(xp.astype(z[-1, ...], dt) * 1)
        st.buffer_state.append(st.x * 1)
        for buf, v in ((st.buffer_target_positions, target_position),
                       (st.buffer_cursor_positions, cursor_position)):
            if v is not None:
                buf.append(as_compute(v, xp, dev, dt) * 1)
        if hold_flag is not None:
            st.buffer_hold_flags.append(bool(hold_flag))

    def refit_model(self) -> None:
        """Refit ``H``, ``Q`` from the buffered samples (intention remapping when targets and
        cursor positions were buffered for every sample), then clear the buffers."""
        st = self._state
        if not st.buffer_neural:
            ez.logger.info(f"{type(self).__name__}: no buffered data to refit")
            return
        xp = array_namespace(st.buffer_neural[0])
        n = len(st.buffer_neural)
        kw: dict[str, Any] = {"intention_velocity_indices": self.settings.velocity_indices[0]}
        if st.buffer_target_positions and st.buffer_cursor_positions:
            if not len(st.buffer_target_positions) == len(st.buffer_cursor_positions) == n:
                raise ValueError("log_for_refit: give a target and a cursor position with "
                                 "every sample, or neither")
            kw["target_positions"] = xp.stack(st.buffer_target_positions)
            kw["cursor_positions"] = xp.stack(st.buffer_cursor_positions)
            if st.buffer_hold_flags:
                if len(st.buffer_hold_flags) != n:
                    raise ValueError("log_for_refit: give a hold flag with every sample")
                kw["hold_indices"] = list(st.buffer_hold_flags)
        st.model.refit(xp.stack(st.buffer_neural), xp.stack(st.buffer_state), **kw)
        self._clear_buffers()
        st.ops = None


class RefitKalmanFilterUnit(AdaptiveUnit[
        RefitKalmanFilterSettings, AxisArray, AxisArray, RefitKalmanFilterProcessor]):
    """Unit of ``RefitKalmanFilterProcessor``: ``INPUT_SIGNAL`` messages are decoded;
    ``INPUT_SAMPLE`` messages (fit, then refit) train it. Published outputs are materialised
    (MLX), which also computes the filter state they end with."""

    SETTINGS = RefitKalmanFilterSettings
