"""Gaussian-process regression with hyperparameters fitted by maximum a posteriori.

The model assumes standardized targets and a zero mean. Its covariance is

    k(a, b) = s2 * m(r^2) + s2r * m(c * r^2) + noise * [a = b],

with ``m`` the Matern 5/2 kernel of the ARD distance ``r`` (:mod:`~hpopt.samplers.gp.kernel`).
The second, *rough* term has the same relevances but lengthscales ``sqrt(c)`` times shorter
(``c`` in [4, 10^4]): small-scale structure such as the ripples of a deterministic function.
Where observations are far apart it acts like noise, so the smooth term still finds the
basin; where the search has put points close together it correlates them, so the model can
resolve the ripples there and refine, which a white-noise term (explaining them away) cannot.
The rough term is optional (``rough=False`` in :func:`fit_gp`). Its hyperparameters, all on a
log scale, are one inverse squared lengthscale per input column, the signal variance, the
noise variance and, with the rough term, its variance ``s2r`` and lengthscale ratio ``c``.
They are fitted by L-BFGS-B on the log marginal likelihood plus log priors:

* inverse squared lengthscales ``rho``: ``log p = -0.1 / rho - 0.1 rho``, centred on a
  lengthscale of 1 (the width of the unit cube, and the distance of one categorical
  mismatch); it penalizes short lengthscales linearly in ``rho``, which keeps a few points
  from being explained by one very wiggly dimension;
* signal variance: Gamma(2, 1);
* noise variance: Gamma(1.1, 30), bounded below by ``min_noise`` (the objective is
  presumed nearly deterministic unless the data say otherwise), or fixed at ``min_noise``
  when the objective is declared deterministic;
* rough variance: Gamma(1.1, 30), like the noise (small unless the data say otherwise);
  the ratio ``c`` has a flat prior on its bounded log scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hpopt.samplers.gp.kernel import matern52, matern52_dr2, sq_dist, sq_dist_weighted_sum

__all__ = ["GPModel", "fit_gp"]

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_LOG_RHO_BOUNDS = (-2.0 * math.log(100.0), -2.0 * math.log(0.01))
_LOG_S2_BOUNDS = (math.log(0.05), math.log(20.0))
_LOG_NOISE_MAX = 0.0
_NOISE_PRIOR = (1.1, 30.0)
_S2_PRIOR = (2.0, 1.0)
_RHO_PRIOR = 0.1
_FANTASY_NOISE = 1e-6
_LOG_S2R_BOUNDS = (math.log(1e-6), 0.0)
_LOG_C_BOUNDS = (math.log(4.0), math.log(1e4))
_S2R_PRIOR = (1.1, 30.0)


@dataclass
class GPModel:
    """A fitted GP: training inputs, targets and the factorized kernel matrix.

    Attributes
    ----------
    x, y
        Encoded inputs (n, d) and standardized targets (n,).
    is_cat
        Which columns are categorical.
    theta
        Log hyperparameters ``[log rho_1..d, log s2, log noise]``, followed by
        ``[log s2r, log c]`` when the model has the rough term.
    n_fantasies
        How many of the last rows are kriging-believer fantasies (modelled without noise).
    """

    x: Array
    y: Array
    is_cat: BoolArray
    theta: Array
    n_fantasies: int = 0

    def __post_init__(self) -> None:
        from scipy.linalg import cho_factor, cho_solve

        d = self.x.shape[1]
        self.rho = np.exp(self.theta[:d])
        self.s2 = float(np.exp(self.theta[d]))
        self.noise = float(np.exp(self.theta[d + 1]))
        rough = len(self.theta) == d + 4
        self.s2r = float(np.exp(self.theta[d + 2])) if rough else 0.0
        self.c = float(np.exp(self.theta[d + 3])) if rough else 1.0
        k = self._k(sq_dist(self.x, self.x, self.rho, self.is_cat))
        diag = np.full(len(self.y), self.noise + 1e-9 * self.s2)
        if self.n_fantasies:
            # Fantasies are taken as exact, so that no variance is left to improve on there.
            diag[-self.n_fantasies :] = _FANTASY_NOISE * self.s2
        k[np.diag_indices_from(k)] += diag
        self._chol = cho_factor(k, lower=True)
        self._lower = np.tril(self._chol[0])
        self.alpha = cho_solve(self._chol, self.y)

    def _k(self, r2: Array) -> Array:
        """The kernel (without noise) as a function of the squared ARD distance."""
        k = self.s2 * matern52(r2)
        if self.s2r:
            k += self.s2r * matern52(self.c * r2)
        return k

    def _dk(self, r2: Array) -> Array:
        """Derivative of :meth:`_k` with respect to ``r^2``."""
        g = self.s2 * matern52_dr2(r2)
        if self.s2r:
            g += self.s2r * self.c * matern52_dr2(self.c * r2)
        return g

    @property
    def prior_var(self) -> float:
        """Prior variance of the latent function (both kernel terms)."""
        return self.s2 + self.s2r

    def _solve_lower(self, ks: Array) -> Array:
        from scipy.linalg import solve_triangular

        return np.asarray(solve_triangular(self._lower, ks.T, lower=True, check_finite=False))

    def with_fantasies(self, x_new: Array) -> GPModel:
        """The kriging-believer model: ``x_new`` added with its posterior mean as target,
        but no better than the best target observed.

        The floor keeps the best real value the incumbent: a running point is not believed
        to beat it before it has, and a point predicted below it gets no sure improvement
        left right next to it.
        """
        if len(x_new) == 0:
            return self
        mu, _ = self.predict(x_new)
        mu = np.maximum(mu, float(self.y.min()))
        return GPModel(
            np.vstack([self.x, x_new]),
            np.concatenate([self.y, mu]),
            self.is_cat,
            self.theta,
            n_fantasies=self.n_fantasies + len(x_new),
        )

    def predict(self, xs: Array) -> tuple[Array, Array]:
        """Posterior mean and variance of the latent function at the rows of ``xs``."""
        ks = self._k(sq_dist(xs, self.x, self.rho, self.is_cat))
        mu = ks @ self.alpha
        v = self._solve_lower(ks)
        var = self.prior_var - np.einsum("ij,ij->j", v, v)
        return mu, np.maximum(var, 1e-12 * self.s2)

    def predict_with_grad(self, xs: Array, num: BoolArray) -> tuple[Array, Array, Array, Array]:
        """Mean, variance and their gradients along the numeric columns ``num``."""
        r2 = sq_dist(xs, self.x, self.rho, self.is_cat)
        ks = self._k(r2)
        g = self._dk(r2)  # dk / d r^2
        from scipy.linalg import solve_triangular

        v = self._solve_lower(ks)
        w = solve_triangular(self._lower.T, v, lower=False, check_finite=False).T
        mu = ks @ self.alpha
        var = self.prior_var - np.einsum("ij,ij->j", v, v)
        xn, tn, rho = xs[:, num], self.x[:, num], self.rho[num]
        ga = g * self.alpha[None, :]
        dmu = 2.0 * rho * (xn * ga.sum(1)[:, None] - ga @ tn)
        gw = g * w
        dvar = -4.0 * rho * (xn * gw.sum(1)[:, None] - gw @ tn)
        small = var < 1e-12 * self.s2
        var = np.where(small, 1e-12 * self.s2, var)
        dvar[small] = 0.0
        return mu, var, dmu, dvar


def _neg_log_posterior(theta: Array, x: Array, y: Array, is_cat: BoolArray) -> tuple[float, Array]:
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    n, d = x.shape
    rho = np.exp(theta[:d])
    s2, noise = float(np.exp(theta[d])), float(np.exp(theta[d + 1]))
    rough = len(theta) == d + 4
    r2 = sq_dist(x, x, rho, is_cat)
    ku = matern52(r2)
    k = s2 * ku
    dk = s2 * matern52_dr2(r2)
    if rough:
        s2r, c = float(np.exp(theta[d + 2])), float(np.exp(theta[d + 3]))
        kr = matern52(c * r2)
        dkr = s2r * c * matern52_dr2(c * r2)
        k = k + s2r * kr
        dk = dk + dkr
    k[np.diag_indices_from(k)] += noise + 1e-9 * s2
    try:
        chol = cho_factor(k, lower=True)
    except LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve(chol, y)
    k_inv = _inverse_from_cholesky(chol[0])
    loglik = -0.5 * float(y @ alpha) - float(np.log(np.diag(chol[0])).sum())
    w = np.outer(alpha, alpha) - k_inv
    grad = np.empty_like(theta)
    grad[:d] = 0.5 * rho * sq_dist_weighted_sum(w * dk, x, is_cat)
    grad[d] = 0.5 * s2 * float((w * ku).sum())
    grad[d + 1] = 0.5 * noise * float(np.trace(w))
    if rough:
        grad[d + 2] = 0.5 * s2r * float((w * kr).sum())
        grad[d + 3] = 0.5 * float((w * dkr * r2).sum())

    # Priors (log densities up to constants) and their gradients in log space.
    c = _RHO_PRIOR
    logp = -float((c / rho + c * rho).sum())
    grad[:d] += c / rho - c * rho
    a, b = _S2_PRIOR
    logp += (a - 1.0) * float(theta[d]) - b * s2
    grad[d] += (a - 1.0) - b * s2
    a, b = _NOISE_PRIOR
    logp += (a - 1.0) * float(theta[d + 1]) - b * noise
    grad[d + 1] += (a - 1.0) - b * noise
    if rough:
        a, b = _S2R_PRIOR
        logp += (a - 1.0) * float(theta[d + 2]) - b * s2r
        grad[d + 2] += (a - 1.0) - b * s2r
    return -(loglik + logp) / n, -grad / n


def _inverse_from_cholesky(lower: Array) -> Array:
    from scipy.linalg import lapack

    inv, info = lapack.dpotri(lower, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("dpotri failed")
    inv = np.tril(inv)
    return np.asarray(inv + np.tril(inv, -1).T)


def default_theta(d: int, min_noise: float, rough: bool = False) -> Array:
    """The prior's central hyperparameters (a starting point for the fit)."""
    theta = np.concatenate([np.zeros(d), [0.0, math.log(max(1e-3, min_noise))]])
    if rough:
        theta = np.concatenate([theta, [math.log(1e-2), math.log(30.0)]])
    return theta


def fit_gp(
    x: Array,
    y: Array,
    is_cat: BoolArray,
    *,
    rng: np.random.Generator,
    warm_start: Array | None = None,
    n_restarts: int = 1,
    min_noise: float = 1e-6,
    fit_noise: bool = True,
    rough: bool = True,
    max_iter: int = 200,
) -> GPModel:
    """Fit the hyperparameters by MAP and return the model.

    Parameters
    ----------
    x, y
        Encoded inputs and standardized targets.
    is_cat
        Which columns of ``x`` are categorical.
    rng
        Random stream for the random restarts.
    warm_start
        Hyperparameters of a previous fit, the first starting point (else the prior's centre).
    n_restarts
        Additional starting points drawn from the lengthscale prior.
    min_noise
        Lower bound of the noise variance.
    fit_noise
        Whether to fit the noise variance; if not, it stays at ``min_noise`` (a deterministic
        objective, interpolated).
    rough
        Whether the kernel has the rough term (see the module docstring).
    """
    from scipy.optimize import minimize

    d = x.shape[1]
    noise_max = _LOG_NOISE_MAX if fit_noise else math.log(min_noise)
    bounds = [_LOG_RHO_BOUNDS] * d + [_LOG_S2_BOUNDS, (math.log(min_noise), noise_max)]
    if rough:
        bounds += [_LOG_S2R_BOUNDS, _LOG_C_BOUNDS]
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    if warm_start is not None and warm_start.shape == (len(bounds),):
        starts = [warm_start]
    else:
        starts = [default_theta(d, min_noise, rough)]
    for _ in range(n_restarts):
        t = default_theta(d, min_noise, rough)
        t[:d] = rng.normal(0.0, 1.5, size=d)
        starts.append(t)
    best_theta, best_val = starts[0], math.inf
    for start in starts:
        res = minimize(
            _neg_log_posterior,
            np.clip(start, lo, hi),
            args=(x, y, is_cat),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter},
        )
        if res.fun < best_val:
            best_theta, best_val = np.asarray(res.x, dtype=float), float(res.fun)
    return GPModel(x, y, is_cat, best_theta)
