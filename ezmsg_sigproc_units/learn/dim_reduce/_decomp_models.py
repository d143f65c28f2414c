"""The estimators behind ``dim_reduce.adaptive_decomp``: plain picklable objects holding the
model arrays on the data's device, updated by ``_kernels.decomp``.

``partial_fit(xp, x)`` and ``transform(xp, x)`` take ``x`` (n, p) in the data's namespace;
``fitted`` says whether ``transform`` can run.
"""

from __future__ import annotations

from typing import Any

from ..._backend import compile_kernel, from_host, move, namespace_and_device
from ..._kernels import decomp

BETA_LOSSES = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}
FRESH_RESTARTS_MAX_ITER = 30
"""Iterations of the activation solve inside ``partial_fit`` (scikit-learn's default)."""


class IncrementalPCAModel:
    """Incremental PCA as scikit-learn's ``IncrementalPCA.partial_fit``: an SVD of the
    previous basis (scaled by its singular values), the mean-centred batch and a
    mean-correction row. The first fit waits until ``n_components`` observations have
    arrived (scikit-learn requires that many in its first batch); they are fitted as one
    batch."""

    def __init__(self, n_components: int, whiten: bool = False) -> None:
        self.n_components, self.whiten = n_components, whiten
        self.n_features: int | None = None
        self.n_seen = 0
        self.pending: list = []
        self.mean = self.components = self.singular = None
        self.explained_variance = self.scale = None
        self._cast: tuple | None = None

    @property
    def fitted(self) -> bool:
        return self.components is not None

    def partial_fit(self, xp: Any, x: Any) -> None:
        n, p = x.shape
        if self.n_features is None:
            if self.n_components > p:
                raise ValueError(f"n_components: {self.n_components} exceeds the "
                                 f"{p} features of the data")
            self.n_features = p
        if not self.fitted:
            self.pending.append(x * 1.0)  # a copy: inputs may be reused buffers
            if sum(a.shape[0] for a in self.pending) < self.n_components:
                return
            x = xp.concat(self.pending, axis=0) if len(self.pending) > 1 else self.pending[0]
            self.pending, n = [], x.shape[0]
            stack, mean = decomp.ipca_first(xp, x)
        else:
            x = move(x, *namespace_and_device(self.mean), self.mean.dtype)
            stack, mean = decomp.ipca_stack(xp, x, self.mean, self.components, self.singular,
                                            self.n_seen)
        comps, sing = decomp.ipca_svd(xp, stack, self.n_components)
        self.n_seen += n
        self.mean, self.components, self.singular = mean, comps, sing
        self.explained_variance = sing * sing / max(self.n_seen - 1, 1)
        if self.whiten:
            floor = float(xp.finfo(sing.dtype).eps)
            sd = xp.sqrt(self.explained_variance)
            self.scale = xp.where(sd < floor, xp.full_like(sd, floor), sd)
        self._cast = None

    def transform(self, xp: Any, x: Any) -> Any:
        key = (type(x), x.dtype, str(namespace_and_device(x)[1]))
        if self._cast is None or self._cast[0] != key:
            _, dev = namespace_and_device(x)
            conv = [None if a is None else move(a, xp, dev, x.dtype)
                    for a in (self.mean, self.components, self.scale)]
            self._cast = (key, *conv)
        _, mean, comps, scale = self._cast
        return compile_kernel(xp, decomp.ipca_transform)(x, mean, comps, scale)


class MiniBatchNMFModel:
    """Online NMF as scikit-learn's ``MiniBatchNMF.partial_fit``: per batch, the activations
    are solved afresh with the components fixed, then the components take one online
    multiplicative step (forgetting factor ``rho``). Data must be non-negative."""

    def __init__(self, n_components: int, *, beta_loss: str | float, tol: float,
                 max_iter: int, alpha_W: float, alpha_H: float | str, l1_ratio: float,
                 forget_factor: float, batch_size: int, random_state: Any = None) -> None:
        self.n_components = n_components
        self.beta = float(BETA_LOSSES.get(beta_loss, beta_loss))
        self.gamma = decomp.nmf_gamma(self.beta)
        self.tol, self.max_iter = tol, max_iter
        self.alpha_w = alpha_W
        self.alpha_h = alpha_W if alpha_H == "same" else alpha_H
        self.l1_ratio, self.forget_factor, self.batch_size = l1_ratio, forget_factor, batch_size
        self.random_state = random_state
        self.n_features: int | None = None
        self.h = self.a = self.b = None
        self.rho = 1.0
        self.n_steps = 0
        self._cast: tuple | None = None

    @property
    def fitted(self) -> bool:
        return self.h is not None

    def _reg(self, n: int, p: int) -> tuple:
        return decomp.nmf_regularization(n, p, self.alpha_w, self.alpha_h, self.l1_ratio)

    def partial_fit(self, xp: Any, x: Any) -> None:
        n, p = x.shape
        # One host read per training batch (tolerated outside the hot path): NMF is
        # undefined on negative data, and the random start needs the batch mean.
        lo, mean = float(xp.min(x)), float(xp.mean(x))
        if lo < 0 or (self.beta <= 0 and lo == 0):
            raise ValueError(f"MiniBatchNMF: training data must be "
                             f"{'positive' if self.beta <= 0 else 'non-negative'} for "
                             f"beta_loss={self.beta}; min is {lo}")
        if self.h is None:
            _, dev = namespace_and_device(x)
            h0 = decomp.nmf_random_init(mean, self.n_components, p, self.random_state)
            self.h = from_host(h0, xp, dev, x.dtype)
            self.a, self.b = self.h * 1.0, xp.ones_like(self.h)
            self.rho = self.forget_factor ** (min(self.batch_size, n) / n)
            self.n_features = p
        else:
            x = move(x, *namespace_and_device(self.h), self.h.dtype)
        self.h, self.a, self.b = decomp.nmf_minibatch(
            xp, x, self.h, self.a, self.b, beta=self.beta, reg=self._reg(n, p),
            gamma=self.gamma, rho=self.rho, max_iter=FRESH_RESTARTS_MAX_ITER, tol=self.tol)
        self.n_steps += 1
        self._cast = None

    def transform(self, xp: Any, x: Any) -> Any:
        key = (type(x), x.dtype, str(namespace_and_device(x)[1]))
        if self._cast is None or self._cast[0] != key:
            self._cast = (key, move(self.h, xp, namespace_and_device(x)[1], x.dtype))
        l1w, _, l2w, _ = self._reg(*x.shape)
        return decomp.nmf_solve_w(xp, x, self._cast[1], self.beta, l1w, l2w, self.gamma,
                                  self.max_iter, self.tol)

