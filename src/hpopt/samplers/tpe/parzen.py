"""Parzen estimators: weighted mixtures of product kernels over mixed search spaces.

Each parameter is modelled in its *model space*: the value itself for linear numeric
parameters, its logarithm for log parameters, and the choice index for categoricals.
Numeric kernels are Gaussians truncated to the parameter's range (widened by half a step for
stepped parameters, whose density is the probability mass of the grid cell); categorical
kernels are smoothed one-hot rows. One extra *prior* component (uniform-ish over the range)
keeps the estimator broad where there is little data.

A :class:`ParzenEstimator` over one parameter is the univariate TPE density; over several it
is the joint (multivariate) one: component ``k`` is the product of the kernels of
observation ``k`` in every dimension, so correlations between parameters are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = [
    "CategoricalDim",
    "Dim",
    "NumericDim",
    "ParzenEstimator",
    "dim_for",
    "from_model",
    "to_model",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_TINY = 1e-300


@dataclass(frozen=True)
class NumericDim:
    """A numeric parameter in model space: kernel support ``[low, high]`` (log scale if
    ``log``), grid ``step`` (``None`` for continuous) and the external grid ends."""

    low: float
    high: float
    log: bool
    step: float | None
    grid_low: float
    grid_high: float


@dataclass(frozen=True)
class CategoricalDim:
    """A categorical parameter with ``n_choices`` choices (model space: the index)."""

    n_choices: int


Dim = NumericDim | CategoricalDim


def dim_for(dist: Distribution) -> Dim:
    """The model-space description of ``dist``."""
    if isinstance(dist, Categorical):
        return CategoricalDim(len(dist.choices))
    if not isinstance(dist, (Float, Int)):
        raise TypeError(f"unsupported distribution {dist!r}")
    step = None if isinstance(dist, Float) and dist.step is None else float(dist.step or 1)
    low, high = float(dist.low), float(dist.high)
    if step is not None:
        low, high = low - 0.5 * step, high + 0.5 * step
    if dist.log:
        low, high = math.log(low), math.log(high)
    return NumericDim(low, high, dist.log, step, float(dist.low), float(dist.high))


def to_model(dim: Dim, internal: np.ndarray) -> np.ndarray:
    """Map internal values (numbers, or choice indices) to model space."""
    if isinstance(dim, CategoricalDim):
        return internal
    x = np.clip(internal, dim.grid_low, dim.grid_high)
    return np.asarray(np.log(x)) if dim.log else np.asarray(x)


def from_model(dim: Dim, x: np.ndarray) -> np.ndarray:
    """Map model-space values back to internal values, snapped onto the grid."""
    if isinstance(dim, CategoricalDim):
        return x
    v = np.exp(x) if dim.log else x
    if dim.step is not None:
        v = dim.grid_low + np.round((v - dim.grid_low) / dim.step) * dim.step
    return np.asarray(np.clip(v, dim.grid_low, dim.grid_high))


def _gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Phi(b) - Phi(a)`` for ``a <= b``; right-tail intervals are mirrored to the left
    tail, where ``ndtr`` keeps its relative precision."""
    from scipy.special import ndtr

    flip = a > 0
    return np.asarray(ndtr(np.where(flip, -a, b)) - ndtr(np.where(flip, -b, a)))


def _log_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(np.maximum(_gauss_mass(a, b), _TINY)))


def _sample_truncnorm(
    rng: np.random.Generator, mu: np.ndarray, sigma: np.ndarray, low: float, high: float
) -> np.ndarray:
    """Inverse-CDF sampling of Gaussians truncated to ``[low, high]`` (tails by symmetry)."""
    from scipy.special import ndtr, ndtri

    a, b = (low - mu) / sigma, (high - mu) / sigma
    flip = a > 0  # sample the mirrored left tail, where ndtr keeps relative precision
    a2, b2 = np.where(flip, -b, a), np.where(flip, -a, b)
    pa, pb = ndtr(a2), ndtr(b2)
    u = rng.random(mu.shape)
    z = ndtri(np.clip(pa + u * (pb - pa), _TINY, 1.0 - 1e-16))
    z = np.clip(z, a2, b2)
    z = np.where(flip, -z, z)
    return np.asarray(np.clip(mu + sigma * z, low, high))


def _neighbor_sigmas(
    mus: np.ndarray, low: float, high: float, consider_endpoints: bool
) -> np.ndarray:
    """Bandwidth of each kernel: the larger gap to its sorted neighbours (range ends count)."""
    order = np.argsort(mus)
    padded = np.concatenate(([low], mus[order], [high]))
    gaps = np.diff(padded)
    sigmas = np.maximum(gaps[:-1], gaps[1:])
    if not consider_endpoints and len(mus) >= 2:
        sigmas[0] = padded[2] - padded[1]
        sigmas[-1] = padded[-2] - padded[-3]
    out = np.empty_like(sigmas)
    out[order] = sigmas
    return out


class ParzenEstimator:
    """A weighted mixture of product kernels centred on observations, plus a prior.

    Parameters
    ----------
    dims
        Model-space description of each column.
    observations
        ``(n, len(dims))`` model-space values (choice indices for categoricals).
    weights
        ``(n,)`` non-negative observation weights.
    prior_weight
        Weight of the prior component relative to one observation.
    consider_endpoints
        Let the range ends widen the outermost kernels.
    bandwidth
        ``"neighbor"``: each kernel's width is its larger gap to a neighbour (per dimension);
        ``"scott"``: one width per dimension, ``0.2 * n ** (-1 / (d + 4))`` of the range.
        Both are clipped below by ``range / min(100, n + 2)`` (the "magic clip").

    Notes
    -----
    Numeric dimensions are rescaled to ``[0, 1]`` inside the estimator. The Gaussian
    exponents of all continuous dimensions are evaluated together as two matrix products
    (expanding ``(x - mu)^2 / s^2``; safe because both ``x`` and ``mu`` lie in ``[0, 1]`` and
    ``s >= 0.01``), the categorical kernels as one product with a one-hot matrix.
    """

    def __init__(
        self,
        dims: list[Dim],
        observations: np.ndarray,
        weights: np.ndarray,
        *,
        prior_weight: float = 1.0,
        consider_endpoints: bool = False,
        bandwidth: str = "neighbor",
    ) -> None:
        n = len(observations)
        self.dims = dims
        w = np.append(np.asarray(weights, dtype=float)[:n], prior_weight if n else 1.0)
        self.weights = w / w.sum()
        n_kernels = n + 1
        const = np.log(np.maximum(self.weights, _TINY))
        self._kernels: list[tuple[int, Any]] = []
        cont_inv_var, cont_scaled_mu, cat_log_probs = [], [], []
        self._cont = [j for j, d in enumerate(dims) if isinstance(d, NumericDim) and d.step is None]
        self._cat = [j for j, d in enumerate(dims) if isinstance(d, CategoricalDim)]
        self._stepped = [
            j for j, d in enumerate(dims) if isinstance(d, NumericDim) and d.step is not None
        ]
        for j, dim in enumerate(dims):
            col = observations[:, j] if n else np.empty(0)
            if isinstance(dim, CategoricalDim):
                probs = np.full((n_kernels, dim.n_choices), prior_weight / n_kernels)
                probs[np.arange(n), col.astype(int)] += 1.0
                probs[-1] = 1.0
                probs /= probs.sum(axis=1, keepdims=True)
                self._kernels.append((j, probs))
                cat_log_probs.append(np.log(probs.T))
                continue
            unit = (col - dim.low) / (dim.high - dim.low)
            if n == 0:
                sigmas = np.empty(0)
            elif bandwidth == "scott":
                sigmas = np.full(n, 0.2 * n ** (-1.0 / (len(dims) + 4)))
            else:
                sigmas = _neighbor_sigmas(unit, 0.0, 1.0, consider_endpoints)
            sigmas = np.clip(sigmas, 1.0 / min(100.0, 1.0 + n_kernels), 1.0)
            mus = np.append(unit, 0.5)
            sigmas = np.append(sigmas, 1.0)
            inv = 1.0 / sigmas
            const -= _log_mass(-mus * inv, (1.0 - mus) * inv)
            self._kernels.append((j, (mus, sigmas, inv)))
            if dim.step is None:
                const -= np.log(sigmas * (dim.high - dim.low)) + _LOG_SQRT_2PI
                cont_inv_var.append(inv * inv)
                cont_scaled_mu.append(mus * inv * inv)
        if cont_inv_var:
            inv_var, scaled_mu = np.array(cont_inv_var), np.array(cont_scaled_mu)
            const -= 0.5 * (scaled_mu * scaled_mu / inv_var).sum(axis=0)
            self._inv_var, self._scaled_mu = -0.5 * inv_var, scaled_mu  # (d_cont, K)
        if cat_log_probs:
            self._cat_log_probs = np.vstack(cat_log_probs)  # (sum of n_choices, K)
            sizes = [probs_t.shape[0] for probs_t in cat_log_probs]
            self._cat_offsets = np.cumsum([0, *sizes[:-1]])
        self._const = const

    def _to_unit(self, j: int, x: np.ndarray) -> np.ndarray:
        dim = self.dims[j]
        assert isinstance(dim, NumericDim)
        return (x - dim.low) / (dim.high - dim.low)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``(size, d)`` model-space draws (stepped values snapped onto their grid)."""
        comp = rng.choice(len(self.weights), size=size, p=self.weights)
        out = np.empty((size, len(self.dims)))
        for j, par in self._kernels:
            dim = self.dims[j]
            if isinstance(dim, CategoricalDim):
                cum = np.cumsum(par[comp], axis=1)
                u = rng.random((size, 1)) * cum[:, -1:]
                out[:, j] = np.minimum((cum < u).sum(axis=1), dim.n_choices - 1)
                continue
            mus, sigmas, _ = par
            unit = _sample_truncnorm(rng, mus[comp], sigmas[comp], 0.0, 1.0)
            x = dim.low + unit * (dim.high - dim.low)
            out[:, j] = to_model(dim, from_model(dim, x)) if dim.step is not None else x
        return out

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """Log density (log mass on stepped dimensions) of ``(m, d)`` model-space points."""
        total = np.empty((len(x), len(self.weights)))
        total[:] = self._const
        if self._cont:
            u = np.column_stack([self._to_unit(j, x[:, j]) for j in self._cont])
            total += (u * u) @ self._inv_var
            total += u @ self._scaled_mu
        if self._cat:
            idx = x[:, self._cat].astype(int) + self._cat_offsets
            total += self._cat_log_probs[idx].sum(axis=1)
        kernels = dict(self._kernels)
        for j in self._stepped:
            dim = self.dims[j]
            assert isinstance(dim, NumericDim) and dim.step is not None
            mus, _, inv = kernels[j]
            # candidates share few grid values: one row of cell masses per distinct value
            v, row = np.unique(from_model(dim, x[:, j]), return_inverse=True)
            lo, hi = v - 0.5 * dim.step, v + 0.5 * dim.step
            if dim.log:
                lo, hi = np.log(lo), np.log(hi)
            a = np.subtract.outer(self._to_unit(j, lo), mus)
            a *= inv
            b = np.subtract.outer(self._to_unit(j, hi), mus)
            b *= inv
            total += _log_mass(a, b)[row.ravel()]
        peak = total.max(axis=1)
        total -= peak[:, None]
        np.exp(total, out=total)
        return np.asarray(peak + np.log(total.sum(axis=1)))
