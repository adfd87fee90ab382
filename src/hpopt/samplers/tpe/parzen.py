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
    return np.log(x) if dim.log else x


def from_model(dim: Dim, x: np.ndarray) -> np.ndarray:
    """Map model-space values back to internal values, snapped onto the grid."""
    if isinstance(dim, CategoricalDim):
        return x
    v = np.exp(x) if dim.log else x
    if dim.step is not None:
        v = dim.grid_low + np.round((v - dim.grid_low) / dim.step) * dim.step
    return np.clip(v, dim.grid_low, dim.grid_high)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends."""
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for ``a <= b``, without cancellation in either tail."""
    from scipy.special import log_ndtr, ndtr

    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape)
    left = b <= 0  # both in the left tail
    right = a > 0  # both in the right tail: use symmetry
    mid = ~(left | right)
    with np.errstate(divide="ignore", invalid="ignore"):
        if left.any():
            la, lb = log_ndtr(a[left]), log_ndtr(b[left])
            out[left] = lb + _log1mexp(la - lb)
        if right.any():
            la, lb = log_ndtr(-b[right]), log_ndtr(-a[right])
            out[right] = lb + _log1mexp(la - lb)
        if mid.any():
            out[mid] = np.log1p(-ndtr(a[mid]) - ndtr(-b[mid]))
    return np.maximum(out, math.log(_TINY))


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


def _neighbor_sigmas(mus: np.ndarray, low: float, high: float, consider_endpoints: bool) -> np.ndarray:
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
        self.log_weights = np.log(np.maximum(self.weights, _TINY))
        self._params: list[Any] = []
        n_kernels = n + 1
        for j, dim in enumerate(dims):
            col = observations[:, j] if n else np.empty(0)
            if isinstance(dim, CategoricalDim):
                probs = np.full((n_kernels, dim.n_choices), prior_weight / n_kernels)
                probs[np.arange(n), col.astype(int)] += 1.0
                probs[-1] = 1.0
                probs /= probs.sum(axis=1, keepdims=True)
                self._params.append(probs)
                continue
            span = dim.high - dim.low
            if n == 0:
                sigmas = np.empty(0)
            elif bandwidth == "scott":
                sigmas = np.full(n, 0.2 * n ** (-1.0 / (len(dims) + 4)) * span)
            else:
                sigmas = _neighbor_sigmas(col, dim.low, dim.high, consider_endpoints)
            sigmas = np.clip(sigmas, span / min(100.0, 1.0 + n_kernels), span)
            mus = np.append(col, 0.5 * (dim.low + dim.high))
            sigmas = np.append(sigmas, span)
            log_z = _log_gauss_mass((dim.low - mus) / sigmas, (dim.high - mus) / sigmas)
            self._params.append((mus, sigmas, log_z))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``(size, d)`` model-space draws (stepped values snapped onto their grid)."""
        comp = rng.choice(len(self.weights), size=size, p=self.weights)
        out = np.empty((size, len(self.dims)))
        for j, (dim, par) in enumerate(zip(self.dims, self._params)):
            if isinstance(dim, CategoricalDim):
                cum = np.cumsum(par[comp], axis=1)
                u = rng.random((size, 1)) * cum[:, -1:]
                out[:, j] = np.minimum((cum < u).sum(axis=1), dim.n_choices - 1)
            else:
                mus, sigmas, _ = par
                x = _sample_truncnorm(rng, mus[comp], sigmas[comp], dim.low, dim.high)
                out[:, j] = to_model(dim, from_model(dim, x)) if dim.step is not None else x
        return out

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """Log density (log mass on stepped dimensions) of ``(m, d)`` model-space points."""
        total = np.broadcast_to(self.log_weights, (len(x), len(self.weights))).copy()
        for j, (dim, par) in enumerate(zip(self.dims, self._params)):
            col = x[:, j]
            if isinstance(dim, CategoricalDim):
                total += np.log(par[:, col.astype(int)].T)
                continue
            mus, sigmas, log_z = par
            if dim.step is None:
                z = (col[:, None] - mus) / sigmas
                total += -0.5 * z * z - np.log(sigmas) - _LOG_SQRT_2PI - log_z
            else:
                v = from_model(dim, col)
                lo = np.maximum(v - 0.5 * dim.step, dim.grid_low - 0.5 * dim.step)
                hi = np.minimum(v + 0.5 * dim.step, dim.grid_high + 0.5 * dim.step)
                if dim.log:
                    lo, hi = np.log(lo), np.log(hi)
                a = (lo[:, None] - mus) / sigmas
                b = (hi[:, None] - mus) / sigmas
                total += _log_gauss_mass(a, b) - log_z
        peak = total.max(axis=1, keepdims=True)
        return np.asarray(peak[:, 0] + np.log(np.exp(total - peak).sum(axis=1)))
