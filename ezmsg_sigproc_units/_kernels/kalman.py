"""Kalman decoding of neural data into kinematics (the ReFIT Kalman filter), Array API only.

Model: state ``x_t`` ``(s,)`` (kinematics), measurement ``z_t`` ``(m,)`` (neural features),
``x_t = A x_{t-1} + w_t``, ``z_t = H x_t + q_t``, ``w ~ N(0, W)``, ``q ~ N(0, Q)``. Data are
row-major: a chunk of states is ``(n, s)``, of measurements ``(n, m)``; time is axis 0.

* Fitting (least squares, Wu et al. 2006): ``fit_kinematics`` (``A``, ``W`` from consecutive
  states), ``regress`` (``H``, ``Q`` from states and measurements), ``diagnostics`` (the
  conditioning numbers the caller reads once, on the host, to decide on regularisation).
* ``remap_intention``: ReFIT's intended kinematics (Gilja et al. 2012): velocities turned
  towards the target at the decoded speed, zero during holds, positions frozen during holds;
  vectorised over samples (a running maximum by doubling finds each hold's anchor sample).
* Gain: ``information`` (``Q^-1 H`` and ``G = H' Q^-1 H``) and ``steady_gain`` (the predicted
  covariance from the discrete algebraic Riccati equation, ``riccati.solve_discrete_are_g``,
  and ``K = P H' (H P H' + Q)^-1`` computed as ``(I + P G)^-1 P H' Q^-1``: only ``(s, s)``
  solves besides the one with ``Q``).
* Filtering: ``filter_steady`` (constant gain: ``x_t = F x_{t-1} + K z_t``, ``F = (I - K H)
  A``, one matrix product for ``K z`` and a log-depth scan for the recursion) and
  ``filter_adaptive`` (the covariance recursion with fading memory, in information form so
  every per-sample step is ``(s, s)``; ezmsg-learn inverts the ``(m, m)`` innovation
  covariance by SVD for every sample).

Every function is pure (no writes into inputs), takes ``xp`` first, and reads every int it
needs from shapes (no host synchronisation), so the filters compile under ``jax.jit``.
"""

from __future__ import annotations

from typing import Any

from .._backend import arange, device_of, eye, zeros
from .riccati import solve_discrete_are_g


def _t(xp: Any, a: Any) -> Any:
    return xp.permute_dims(a, (1, 0))


def _diag(xp: Any, c: Any) -> Any:
    """The diagonal of square ``c`` (MLX has no ``linalg.diagonal``)."""
    return xp.sum(c * eye(xp, c.shape[0], dtype=c.dtype, device=device_of(c)), axis=1)


def regress(xp: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """``(coef, rss, gram)``: ``coef`` ``(p, q)`` minimises ``||y - x coef||`` for ``x``
    ``(n, p)``, ``y`` ``(n, q)`` (pseudo-inverse of the Gram ``x'x``, so a rank-deficient
    ``x`` gives the minimum-norm fit, never NaN); ``rss`` ``(q, q)`` the residuals' sum of
    outer products; ``gram`` ``(p, p)``."""
    xt = _t(xp, x)
    gram = xt @ x
    coef = xp.linalg.pinv(gram) @ (xt @ y)
    r = y - x @ coef
    return coef, _t(xp, r) @ r, gram


def fit_kinematics(xp: Any, states: Any) -> tuple[Any, Any, Any]:
    """``(A, rss, gram)`` of ``x_t = A x_{t-1}`` over consecutive rows of ``states``
    ``(n, s)``: ``A`` ``(s, s)``; ``rss`` the residuals' outer-product sum (``W`` times the
    caller's divisor); ``gram`` the Gram of ``x_{t-1}``."""
    coef, rss, gram = regress(xp, states[:-1, ...], states[1:, ...])
    return _t(xp, coef), rss, gram


def diagnostics(xp: Any, grams: list[Any], covs: list[Any]) -> Any:
    """One vector of conditioning numbers, read once on the host by the caller: for each
    Gram its smallest over largest eigenvalue, for each covariance its smallest diagonal
    entry over the mean diagonal (0 when all are 0)."""
    out = []
    for g in grams:
        ev = xp.linalg.eigvalsh((g + _t(xp, g)) * 0.5)
        out.append(ev[0] / (xp.abs(ev[-1]) + xp.finfo(g.dtype).smallest_normal))
    for c in covs:
        d = _diag(xp, c)
        out.append(xp.min(d) / (xp.abs(xp.mean(d)) + xp.finfo(c.dtype).smallest_normal))
    return xp.stack(out)


def ridge(xp: Any, c: Any, eps: float, floor: Any) -> Any:
    """``c + lam I`` with ``lam = eps * (mean diag(c) + floor) + tiny``: a covariance made
    positive definite at a level relative to its own scale (``floor``, a 0-d array, gives a
    scale when ``c`` is all zero, e.g. the data's mean square)."""
    n = c.shape[0]
    lam = eps * (xp.mean(_diag(xp, c)) + floor) + xp.finfo(c.dtype).smallest_normal
    return c + lam * eye(xp, n, dtype=c.dtype, device=device_of(c))


def remap_intention(xp: Any, states: Any, cursor: Any, target: Any, hold: Any,
                    vel: int) -> Any:
    """ReFIT's intended states ``(n, s)`` from decoded ``states`` ``(n, s)``, ``cursor`` and
    ``target`` positions ``(n, 2)`` and ``hold`` flags ``(n,)`` (bool); velocity in columns
    ``vel, vel + 1``.

    Outside holds the velocity keeps its speed and points at the target (unchanged where the
    target is within ``1e-5``). In a hold the velocity is 0 and columns 0-1 (position) repeat
    those of the row before, so a run of holds keeps the position of the last row before it
    (row 0 keeps its own).
    """
    n, s = states.shape
    dt, dev = states.dtype, device_of(states)
    v = states[:, vel:vel + 2]
    to_target = target - cursor
    dist = xp.sqrt(xp.sum(to_target * to_target, axis=1, keepdims=True))
    speed = xp.sqrt(xp.sum(v * v, axis=1, keepdims=True))
    far = dist > 1e-5
    aimed = xp.where(far, to_target / xp.where(far, dist, xp.ones_like(dist)) * speed, v)
    held = hold[:, None]
    new_v = xp.where(held, zeros(xp, (n, 2), dtype=dt, device=dev), aimed)
    base = xp.concat([states[:, :vel], new_v, states[:, vel + 2:]], axis=1)
    # The anchor of row i: the last row <= i that is not a hold (or row 0): a running
    # maximum of (i where anchor else 0), by doubling (log2(n) steps, no sample loop).
    idx = arange(xp, n, dtype=xp.int32, device=dev)
    src = xp.where(hold & (idx > 0), xp.zeros_like(idx), idx)
    step = 1
    while step < n:
        src = xp.maximum(src, xp.concat([xp.zeros_like(src[:step]), src[:-step]]))
        step *= 2
    pos = xp.take(base[:, :2], src, axis=0)
    return xp.concat([pos, base[:, 2:]], axis=1)


def information(xp: Any, h: Any, q: Any) -> tuple[Any, Any]:
    """``(Q^-1 H, H' Q^-1 H)``: ``(m, s)`` and ``(s, s)`` (symmetrised), ``q`` positive
    definite ``(m, m)``."""
    qih = xp.linalg.solve(q, h)
    g = _t(xp, h) @ qih
    return qih, (g + _t(xp, g)) * 0.5


def steady_gain(xp: Any, a: Any, qih: Any, g: Any, w: Any) -> tuple[Any, Any]:
    """``(K, P)``: the steady-state gain ``(s, m)`` and predicted covariance ``(s, s)``
    (``scipy.linalg.solve_discrete_are(A', H', W, Q)``) from ``information``'s terms."""
    p = solve_discrete_are_g(xp, _t(xp, a), g, w)
    return gain_from_covariance(xp, p, qih, g), p


def gain_from_covariance(xp: Any, p: Any, qih: Any, g: Any) -> Any:
    """``K = P H' (H P H' + Q)^-1 = (I + P G)^-1 P H' Q^-1`` ``(s, m)`` for a predicted
    covariance ``p`` ``(s, s)``."""
    ident = eye(xp, p.shape[0], dtype=p.dtype, device=device_of(p))
    return xp.linalg.solve(ident + p @ g, p @ _t(xp, qih))


def filter_steady(xp: Any, z: Any, x0: Any, ft: Any, kt: Any) -> tuple[Any, Any]:
    """``(xs, x_last)``: ``xs`` ``(n, s)`` with ``x_t = F x_{t-1} + K z_t`` from ``x0``
    ``(s,)`` over ``z`` ``(n, m)`` (``n >= 1``), given ``ft = F'`` and ``kt = K'`` (row
    form); ``x_last`` ``(s,)`` is the last row of ``xs`` (it may share its memory).

    ``K z`` for every sample is one product; the recursion is a Hillis-Steele scan: after
    the step of shift ``d`` each row holds the sum over its last ``2d`` inputs, so
    ``ceil(log2(n + 1))`` steps of ``(n, s) @ (s, s)``. One sample is one step.
    """
    s = ft.shape[0]
    if z.shape[0] == 1:
        xs = z @ kt + x0 @ ft
        return xs, xs[0, ...]
    y = xp.concat([xp.reshape(x0, (1, s)), z @ kt], axis=0)
    fd = ft  # (F^d)' for the current shift d
    d, rows = 1, y.shape[0]
    while d < rows:
        pad = zeros(xp, (d, s), dtype=y.dtype, device=device_of(y))
        y = y + xp.concat([pad, y[:-d, ...] @ fd], axis=0)
        d *= 2
        if d < rows:
            fd = fd @ fd
    return y[1:, ...], y[-1, ...]


def filter_adaptive(xp: Any, z: Any, x0: Any, p0: Any, a: Any, w: Any, qih: Any, g: Any,
                    alpha2: float) -> tuple[Any, Any, Any]:
    """``(xs, x_last, p_last)``: the Kalman filter with its covariance recursion over ``z``
    ``(n, m)`` (``n >= 1``) from ``x0`` ``(s,)`` and posterior covariance ``p0``:

        P- = alpha2 (A P A' + W)
        P  = (P-^-1 + G)^-1 = (I + P- G)^-1 P-   (the posterior; K = P H' Q^-1, K H = P G)
        x  = A x + P (H' Q^-1 z - G A x)

    ``P`` is what the Joseph form ``(I - K H) P- (I - K H)' + K Q K'`` gives for this optimal
    gain, and symmetric, so the state step is written on rows (``x @ P``). ``H' Q^-1 z`` is
    one product for the chunk; each sample then costs a few ``(s, s)`` operations (the
    recursion is sequential). The last gain is ``p_last @ qih'``.
    """
    s = a.shape[0]
    ident = eye(xp, s, dtype=a.dtype, device=device_of(a))
    at = _t(xp, a)
    v = z @ qih  # (n, s) rows of H' Q^-1 z_t
    x, p = x0, p0
    rows = []
    for t in range(z.shape[0]):
        p_pred = a @ p @ at + w
        if alpha2 != 1.0:
            p_pred = alpha2 * p_pred
        p = xp.linalg.solve(ident + p_pred @ g, p_pred)
        x_pred = x @ at
        x = x_pred + (v[t, ...] - x_pred @ g) @ p
        rows.append(x)
    return xp.stack(rows, axis=0), x, p
