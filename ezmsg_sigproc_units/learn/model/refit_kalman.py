"""The ReFIT Kalman filter model (ezmsg-learn's ``model.refit_kalman``), in the data's array
namespace and on its device.

``RefitKalmanFilter`` decodes kinematic states ``x`` ``(s,)`` (e.g. position and velocity)
from neural features ``z`` ``(m,)``. ``fit`` learns all four matrices by least squares (state
transition ``A``, process noise ``W``, observation ``H``, measurement noise ``Q``); ``refit``
learns ``H`` and ``Q`` again from new data whose states are first remapped to the user's
intention (ReFIT: velocities aimed at the target, zero while holding). The gain is the
steady-state gain of the discrete algebraic Riccati equation, solved with Array API operations
(``_kernels.riccati``); with ``steady_state=False``, ``predict``/``update`` also carry the
covariance. Everything stays in the namespace of the data it was fitted on: no NumPy, no SciPy.

Regularisation (never NaN): Grams of the least-squares fits are inverted by pseudo-inverse
(a rank-deficient state set gives the minimum-norm fit); a ``Q`` or ``W`` that is singular (fewer
samples than features plus states, a flat channel, a constant state) gets a ridge of
``sqrt(eps)`` times its mean diagonal, and the model warns once. Where the Riccati equation has
no stabilising solution the covariance falls back to the identity (warned). Deciding these reads
two small things on the host per ``fit``/``refit`` (a few conditioning numbers, whether the gain
is finite); decoding never does.
"""

from __future__ import annotations

import math
from typing import Any

import ezmsg.core as ez
import numpy as np

from ..._backend import (
    array_namespace,
    compile_kernel,
    eye,
    float_dtype_for,
    move,
    namespace_and_device,
    to_host,
    zeros,
)
from ..._kernels import kalman
from .._learn_common import NotFittedError, warn_regularised


def as_compute(x: Any, xp: Any, dev: Any, dtype: Any) -> Any:
    """``x`` (an array of any namespace, or host data) as ``xp``/``dev``/``dtype``."""
    try:
        array_namespace(x)
    except TypeError:
        from ..._backend import asarray

        return asarray(xp, x, dtype=dtype, device=dev)
    return move(x, xp, dev, dtype)


def _compute_dtype(x: Any) -> tuple[Any, Any, Any]:
    xp, dev = namespace_and_device(x)
    return xp, dev, float_dtype_for(xp, x.dtype, dev)


def _thresholds(xp: Any, dtype: Any) -> tuple[float, float]:
    """``(flag, ridge)``: a conditioning number below ``flag`` means singular; the ridge is
    ``ridge`` times the scale."""
    eps = float(xp.finfo(dtype).eps)
    return 100.0 * eps, math.sqrt(eps)


class RefitKalmanFilter:
    """Kalman filter whose observation model can be refitted online (ReFIT).

    Attributes (ezmsg-learn's names): ``A_state_transition_matrix`` ``(s, s)``,
    ``W_process_noise_covariance`` ``(s, s)``, ``H_observation_matrix`` ``(m, s)``,
    ``Q_measurement_noise_covariance`` ``(m, m)`` (as the filter uses it, ridge included when
    it was regularised), ``K_kalman_gain`` ``(s, m)``, ``P_state_covariance`` ``(s, s)`` (the
    steady-state predicted covariance after a (re)fit; the posterior after ``update`` in
    non-steady-state mode), ``steady_state``, ``is_fitted``.
    """

    def __init__(
        self,
        A_state_transition_matrix: Any = None,
        W_process_noise_covariance: Any = None,
        H_observation_matrix: Any = None,
        Q_measurement_noise_covariance: Any = None,
        steady_state: bool = False,
        enforce_state_structure: bool = False,
        alpha_fading_memory: float = 1.000,
        process_noise_scale: float = 1,
        measurement_noise_scale: float = 1.2,
    ) -> None:
        self.A_state_transition_matrix = A_state_transition_matrix
        self.W_process_noise_covariance = W_process_noise_covariance
        self.H_observation_matrix = H_observation_matrix
        self.Q_measurement_noise_covariance = Q_measurement_noise_covariance
        self.K_kalman_gain: Any = None
        self.P_state_covariance: Any = None
        self.alpha_fading_memory = alpha_fading_memory
        self.process_noise_scale = process_noise_scale
        self.measurement_noise_scale = measurement_noise_scale
        self.steady_state = steady_state
        self.enforce_state_structure = enforce_state_structure
        """Accepted for ezmsg-learn compatibility; unused (as there)."""
        self.is_fitted = False
        self.info_terms: tuple[Any, Any] | None = None
        """``(Q^-1 H, H' Q^-1 H)`` of the current model (the information form every gain
        and covariance step uses)."""

    # -- fitting -------------------------------------------------------------------------
    def _validate_state_vector(self, Y_state: Any) -> None:
        """``ValueError`` unless ``Y_state`` is ``(n, s)`` with the fitted model's ``s``."""
        if Y_state.ndim != 2:
            raise ValueError(f"Y_state: state vector must be 2D, got {Y_state.ndim}D")
        if self.H_observation_matrix is None:
            raise ValueError("Y_state: model must be fitted before refitting")
        expected = self.H_observation_matrix.shape[1]
        if Y_state.shape[1] != expected:
            raise ValueError(f"Y_state: state vector has {Y_state.shape[1]} dimensions, "
                             f"expected {expected}")

    def fit(self, X_train: Any, y_train: Any) -> None:
        """Learn ``A``, ``W``, ``H``, ``Q`` from neural data ``X_train`` ``(n, m)`` and states
        ``y_train`` ``(n, s)`` (moved to ``X_train``'s namespace, device and float dtype):
        ``A`` regresses ``x_t`` on ``x_{t-1}`` and ``W`` is its residual covariance over
        ``n - 1`` (times ``process_noise_scale``); ``H`` regresses ``z_t`` on ``x_t`` and ``Q``
        is its residual covariance over ``n`` (times ``measurement_noise_scale``). Then the
        gain."""
        xp, dev, dt = _compute_dtype(X_train)
        z = X_train if X_train.dtype == dt else xp.astype(X_train, dt)
        y = as_compute(y_train, xp, dev, dt)
        if z.ndim != 2 or y.ndim != 2 or z.shape[0] != y.shape[0]:
            raise ValueError(f"X_train, y_train: need (n, features) and (n, states) with the "
                             f"same n; got {tuple(z.shape)} and {tuple(y.shape)}")
        n, m = z.shape
        s = y.shape[1]
        if n == 0:
            raise ValueError("X_train: no samples to fit")
        a, rss_w, g_prev = kalman.fit_kinematics(xp, y)
        w = rss_w * (float(self.process_noise_scale) / max(n - 1, 1))
        h_t, rss_q, g_state = kalman.regress(xp, y, z)
        q = rss_q * (float(self.measurement_noise_scale) / n)
        flag, _ = _thresholds(xp, dt)
        cond = to_host(kalman.diagnostics(xp, [g_prev, g_state], [w, q]))  # the host read
        fix_w = (n - 1) - s < s or cond[2] < flag
        fix_q = n - s < m or cond[3] < flag
        self.A_state_transition_matrix = a
        self.W_process_noise_covariance = self._ridge(xp, w, y) if fix_w else w
        self.H_observation_matrix = xp.permute_dims(h_t, (1, 0))
        self.Q_measurement_noise_covariance = self._ridge(xp, q, z) if fix_q else q
        if fix_w or fix_q or min(cond[0], cond[1]) < flag:
            ridged = " and ".join(k for k, f in (("W", fix_w), ("Q", fix_q)) if f)
            warn_regularised(self, "least squares by pseudo-inverse"
                             + (f"; {ridged} ridged by sqrt(eps) x mean variance"
                                if ridged else ""))
        self._gain(xp)
        self.is_fitted = True

    @staticmethod
    def _ridge(xp: Any, c: Any, data: Any) -> Any:
        _, lam = _thresholds(xp, c.dtype)
        return kalman.ridge(xp, c, lam, xp.mean(data * data))

    def refit(
        self,
        X_neural: Any,
        Y_state: Any,
        intention_velocity_indices: Any = None,
        target_positions: Any = None,
        cursor_positions: Any = None,
        hold_indices: Any = None,
    ) -> None:
        """Learn ``H`` and ``Q`` again (``A``, ``W`` kept) from ``X_neural`` ``(n, m)`` and
        the states ``Y_state`` ``(n, s)`` remapped to the intended ones when both
        ``target_positions`` and ``cursor_positions`` ``(n, 2)`` are given (see
        ``_kernels.kalman.remap_intention``; ``hold_indices`` ``(n,)`` flags holds).
        ``intention_velocity_indices``: the first velocity column (an int or a 1-element
        sequence); default 2 for 4+ states, else 0. ``Q`` is the plain residual covariance
        (no ``measurement_noise_scale``, as ezmsg-learn)."""
        self._validate_state_vector(Y_state)
        s = Y_state.shape[1]
        if intention_velocity_indices is None:
            vel = 2 if s >= 4 else 0
            ez.logger.debug(f"RefitKalmanFilter: no velocity index given; using {vel}")
        elif isinstance(intention_velocity_indices, (list, tuple)):
            if len(intention_velocity_indices) != 1:
                raise ValueError("intention_velocity_indices: give one velocity start index")
            vel = int(intention_velocity_indices[0])
        else:
            vel = int(intention_velocity_indices)
        xp, dev, dt = _compute_dtype(X_neural)
        z = X_neural if X_neural.dtype == dt else xp.astype(X_neural, dt)
        y = as_compute(Y_state, xp, dev, dt)
        n, m = z.shape
        if n == 0:
            raise ValueError("X_neural: no samples to refit")
        if target_positions is not None and cursor_positions is not None:
            if not 0 <= vel <= s - 2:
                raise ValueError(f"intention_velocity_indices: velocity columns {vel}, "
                                 f"{vel + 1} do not fit {s} states")
            hold = (zeros(xp, (n,), dtype=dt, device=dev) != 0 if hold_indices is None
                    else as_compute(hold_indices, xp, dev, dt) != 0)
            y = kalman.remap_intention(xp, y, as_compute(cursor_positions, xp, dev, dt),
                                       as_compute(target_positions, xp, dev, dt), hold, vel)
        h_t, rss_q, g_state = kalman.regress(xp, y, z)
        q = rss_q / n
        flag, _ = _thresholds(xp, dt)
        cond = to_host(kalman.diagnostics(xp, [g_state], [q]))  # the host read
        fix_q = n - s < m or cond[1] < flag
        self.A_state_transition_matrix = as_compute(self.A_state_transition_matrix, xp, dev, dt)
        self.W_process_noise_covariance = as_compute(self.W_process_noise_covariance, xp, dev, dt)
        self.H_observation_matrix = xp.permute_dims(h_t, (1, 0))
        self.Q_measurement_noise_covariance = self._ridge(xp, q, z) if fix_q else q
        if fix_q or cond[0] < flag:
            warn_regularised(self, "Q ridged by sqrt(eps) x mean variance" if fix_q
                             else "H by pseudo-inverse")
        self._gain(xp)

    # -- gain ----------------------------------------------------------------------------
    def _gain(self, xp: Any) -> None:
        """Gain and covariance; where the Riccati equation has no stabilising solution (an
        unstable ``A`` in directions ``H`` does not observe, e.g. a refit on states that are
        all zero) the doubling diverges: then ``P = I`` and its one-step gain, with a warning
        (ezmsg-learn falls back to ``P = I`` too). Checking costs one host read."""
        qih, g = kalman.information(xp, self.H_observation_matrix,
                                    self.Q_measurement_noise_covariance)
        self.info_terms = (qih, g)
        a = self.A_state_transition_matrix
        with np.errstate(over="ignore", invalid="ignore"):  # a divergence is handled below
            k, p = compile_kernel(xp, kalman.steady_gain)(a, qih, g,
                                                          self.W_process_noise_covariance)
        if not bool(to_host(xp.all(xp.isfinite(k)) & xp.all(xp.isfinite(p)))):
            p = eye(xp, a.shape[0], dtype=a.dtype, device=namespace_and_device(a)[1])
            k = kalman.gain_from_covariance(xp, p, qih, g)
            warn_regularised(self, "no stabilising Riccati solution; P = I")
        self.K_kalman_gain, self.P_state_covariance = k, p

    def _compute_gain(self) -> None:
        """The steady-state gain and covariance from the current ``A``, ``W``, ``H``, ``Q``
        (e.g. loaded from a checkpoint). A singular ``Q`` (smallest over largest eigenvalue
        below ``100 eps``, read once on the host) is ridged first, with a warning."""
        a = self.A_state_transition_matrix
        xp, dev, dt = _compute_dtype(a)
        for name in ("W_process_noise_covariance", "H_observation_matrix",
                     "Q_measurement_noise_covariance"):
            setattr(self, name, as_compute(getattr(self, name), xp, dev, dt))
        a = xp.astype(a, dt) if a.dtype != dt else a
        self.A_state_transition_matrix = a
        q = self.Q_measurement_noise_covariance
        flag, _ = _thresholds(xp, dt)
        if to_host(kalman.diagnostics(xp, [q], []))[0] < flag:
            self.Q_measurement_noise_covariance = self._ridge(xp, q, self.H_observation_matrix)
            warn_regularised(self, "Q ridged by sqrt(eps) x mean variance")
        self._gain(xp)

    # -- filtering -----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.K_kalman_gain is None or self.A_state_transition_matrix is None:
            raise NotFittedError("RefitKalmanFilter: fit it (or load a checkpoint) first")

    def predict(self, x_current: Any) -> tuple[Any, Any]:
        """``(A x, P-)``: the predicted state and, unless ``steady_state``, the predicted
        covariance ``alpha_fading_memory^2 (A P A' + W)`` (else None)."""
        self._check_fitted()
        xp = array_namespace(x_current)
        a = self.A_state_transition_matrix
        x_pred = a @ x_current
        if self.steady_state is True:
            return x_pred, None
        p_pred = (float(self.alpha_fading_memory) ** 2
                  * (a @ self.P_state_covariance @ xp.permute_dims(a, (1, 0))
                     + self.W_process_noise_covariance))
        return x_pred, p_pred

    def update(self, z_measurement: Any, x_predicted: Any, P_predicted: Any = None) -> Any:
        """The state after measurement ``z`` ``(m,)``: with the steady-state gain, or (not
        ``steady_state``) with the gain of ``P_predicted``, which also updates
        ``P_state_covariance`` (Joseph form) and ``K_kalman_gain``."""
        self._check_fitted()
        xp = array_namespace(x_predicted)
        h = self.H_observation_matrix
        innovation = z_measurement - h @ x_predicted
        if self.steady_state:
            return x_predicted + self.K_kalman_gain @ innovation
        if P_predicted is None:
            raise ValueError("P_predicted: must be given when not steady_state")
        qih, g = self.info_terms
        s = g.shape[0]
        ident = eye(xp, s, dtype=g.dtype, device=namespace_and_device(g)[1])
        mg = xp.linalg.solve(ident + P_predicted @ g, P_predicted)
        k = mg @ xp.permute_dims(qih, (1, 0))
        img = ident - mg @ g
        self.P_state_covariance = (img @ P_predicted @ xp.permute_dims(img, (1, 0))
                                   + mg @ g @ xp.permute_dims(mg, (1, 0)))
        self.K_kalman_gain = k
        return x_predicted + k @ innovation

    @property
    def n_features(self) -> int | None:
        """``m`` of the fitted observation model (None before a fit)."""
        h = self.H_observation_matrix
        return None if h is None else int(h.shape[0])

    @property
    def n_states(self) -> int | None:
        a = self.A_state_transition_matrix
        return None if a is None else int(a.shape[0])
