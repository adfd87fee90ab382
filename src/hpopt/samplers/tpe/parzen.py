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

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = [
    "CategoricalDim",
    "Dim",
    "ModelSpace",
    "NumericDim",
    "ParzenEstimator",
    "dim_for",
    "from_model",
    "log_density_ratio",
    "model_space",
    "to_model",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_TINY = 1e-300
_EDGE = 8.5  # kernel widths beyond which a Gaussian tail is below half an ulp of 1
_NEGLIGIBLE = 50.0  # log-ratio to the largest term below which a mixture term is dropped
_BLAS_SINGLE_THREAD = 1 << 18  # m * k * n of a matrix product that OpenBLAS runs on one thread


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


class ModelSpace:
    """The column layout of a list of dims, shared by every estimator over it.

    Holds which columns are numeric (continuous or stepped) and categorical, the numeric
    ranges as arrays, and the row-wise model-space transforms. Get one with
    :func:`model_space`, which caches them.
    """

    def __init__(self, dims: tuple[Dim, ...]) -> None:
        self.dims = dims
        numeric = [j for j, d in enumerate(dims) if isinstance(d, NumericDim)]
        num = [d for d in dims if isinstance(d, NumericDim)]
        cont = [q for q, d in enumerate(num) if d.step is None]
        self.numeric = np.array(numeric, dtype=int)
        self.low = np.array([d.low for d in num])[:, None]  # (numeric, 1)
        self.span = np.array([d.high - d.low for d in num])[:, None]
        self.continuous = np.array(cont, dtype=int)  # positions among the numeric columns
        self.cont_columns = self.numeric[self.continuous]
        self.cont_low, self.cont_span = self.low[self.continuous], self.span[self.continuous]
        #: sum over continuous columns of log(range) + log(sqrt(2 pi)) (density normalizer)
        log_spans = sum(math.log(num[q].high - num[q].low) for q in cont)
        self.cont_log_norm = len(cont) * _LOG_SQRT_2PI + log_spans
        #: ``(column, numeric position, dim)`` of each stepped dimension
        self.stepped = tuple((numeric[q], q, d) for q, d in enumerate(num) if d.step is not None)
        #: ``(column, n_choices)`` of each categorical dimension
        self.categorical = tuple(
            (j, d.n_choices) for j, d in enumerate(dims) if isinstance(d, CategoricalDim)
        )
        sizes = [c for _, c in self.categorical]
        self.n_choices = sum(sizes)  # one-hot width of all categorical columns together
        self.choice_offsets = tuple(int(o) for o in np.cumsum([0, *sizes[:-1]]))
        grid = [
            (d.grid_low, d.grid_high) if isinstance(d, NumericDim) else (-np.inf, np.inf)
            for d in dims
        ]
        self._grid_low = np.array([g[0] for g in grid])
        self._grid_high = np.array([g[1] for g in grid])
        self._log_columns = np.array(
            [j for j, d in enumerate(dims) if isinstance(d, NumericDim) and d.log], dtype=int
        )

    def to_model(self, internal: np.ndarray) -> np.ndarray:
        """Rows of internal values ``(n, d)`` in model space (NaN stays NaN)."""
        x: np.ndarray = np.clip(internal, self._grid_low, self._grid_high)
        if len(self._log_columns):
            x[:, self._log_columns] = np.log(x[:, self._log_columns])
        return x

    def from_model_row(self, x: Sequence[float]) -> list[float]:
        """One model-space point as internal values, snapped onto the grids."""
        out = []
        for dim, value in zip(self.dims, x):
            v = float(value)
            if isinstance(dim, NumericDim):
                if dim.log:
                    v = float(np.exp(v))
                if dim.step is not None:
                    v = dim.grid_low + round((v - dim.grid_low) / dim.step) * dim.step
                v = min(max(v, dim.grid_low), dim.grid_high)
            out.append(v)
        return out


@functools.lru_cache(maxsize=256)
def model_space(dims: tuple[Dim, ...]) -> ModelSpace:
    """The (cached) :class:`ModelSpace` of ``dims``."""
    return ModelSpace(dims)


def _gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Phi(b) - Phi(a)`` for ``a <= b``; right-tail intervals are mirrored to the left
    tail, where ``ndtr`` keeps its relative precision."""
    from scipy.special import ndtr

    flip = a > 0
    return np.asarray(ndtr(np.where(flip, -a, b)) - ndtr(np.where(flip, -b, a)))


def _log_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(np.maximum(_gauss_mass(a, b), _TINY)))


def _log_unit_mass(mus: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Log mass that Gaussians ``(mus, 1 / inv)`` put on ``[0, 1]``, elementwise.

    Only kernels within ``_EDGE`` widths of a range end are evaluated: beyond that both
    tails are below half an ulp of 1, so the mass is exactly 1.0 in float64 anyway.
    """
    a = -mus * inv
    b = inv + a
    near = (a > -_EDGE) | (b < _EDGE)
    out: np.ndarray = np.zeros_like(a)
    out[near] = _log_mass(a[near], b[near])
    return out


def _sample_truncnorm(
    u: np.ndarray, mu: np.ndarray, sigma: np.ndarray, low: float, high: float
) -> np.ndarray:
    """Inverse-CDF draws (uniforms ``u``) of Gaussians truncated to ``[low, high]``."""
    from scipy.special import ndtr, ndtri

    a, b = (low - mu) / sigma, (high - mu) / sigma
    flip = a > 0  # sample the mirrored left tail, where ndtr keeps relative precision
    a2, b2 = np.where(flip, -b, a), np.where(flip, -a, b)
    pa, pb = ndtr(a2), ndtr(b2)
    z = ndtri(np.clip(pa + u * (pb - pa), _TINY, 1.0 - 1e-16))
    z = np.clip(z, a2, b2)
    z = np.where(flip, -z, z)
    return np.asarray(np.clip(mu + sigma * z, low, high))


def _neighbor_sigmas(unit: np.ndarray, consider_endpoints: bool) -> tuple[np.ndarray, np.ndarray]:
    """Bandwidth of each kernel, per row of ``(d, n)`` unit values: the larger gap to its
    sorted neighbours (the range ends 0 and 1 count). Also returns each row's sort order."""
    d, n = unit.shape
    order = np.argsort(unit, axis=1)
    flat = (order + np.arange(0, d * n, n)[:, None]).ravel()  # positions in the (d, n) array
    padded = np.empty((d, n + 2))
    padded[:, 0], padded[:, -1] = 0.0, 1.0
    padded[:, 1:-1] = unit.ravel()[flat].reshape(d, n)
    gaps = np.diff(padded, axis=1)
    sigmas = np.maximum(gaps[:, :-1], gaps[:, 1:])
    if not consider_endpoints and n >= 2:
        sigmas[:, 0] = gaps[:, 1]
        sigmas[:, -1] = gaps[:, -2]
    out = np.empty(d * n)
    out[flat] = sigmas.ravel()
    return out.reshape(d, n), order


def _distinct_kernels(
    mus: np.ndarray, sigmas: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse equal (centre, width) kernels of one dimension.

    ``order`` sorts ``mus``; equal kernels are then adjacent (up to a few runs per centre,
    which is enough). Returns the distinct centres and widths and, per kernel, its index
    among them.
    """
    mu_s, sigma_s = mus[order], sigmas[order]
    new = np.empty(len(order), dtype=bool)
    new[0] = True
    new[1:] = (mu_s[1:] != mu_s[:-1]) | (sigma_s[1:] != sigma_s[:-1])
    which = np.empty(len(order), dtype=np.intp)
    which[order] = np.cumsum(new) - 1
    return mu_s[new], sigma_s[new], which


class ParzenEstimator:
    """A weighted mixture of product kernels centred on observations, plus a prior.

    Parameters
    ----------
    dims
        Model-space description of each column (or their :class:`ModelSpace`).
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
    Numeric dimensions are rescaled to ``[0, 1]`` inside the estimator and held as one
    ``(dims, kernels)`` array. The log kernel weights, the Gaussian exponents of all
    continuous dimensions (expanding ``(x - mu)^2 / s^2``; safe because both ``x`` and
    ``mu`` lie in ``[0, 1]`` and ``s >= 0.01``) and the categorical log probabilities (by a
    one-hot encoding of the points) are evaluated together as one matrix product. Stepped
    dimensions use the probability mass of the point's grid cell, computed once per
    distinct (centre, width) kernel and distinct point value. Truncation masses are
    evaluated only for kernels near a range end, and mixture terms more than ``exp(-50)``
    below the largest one are skipped; both are below float64 resolution.
    """

    def __init__(
        self,
        dims: Sequence[Dim] | ModelSpace,
        observations: np.ndarray,
        weights: np.ndarray,
        *,
        prior_weight: float = 1.0,
        consider_endpoints: bool = False,
        bandwidth: str = "neighbor",
    ) -> None:
        space = dims if isinstance(dims, ModelSpace) else model_space(tuple(dims))
        self.space = space
        self.dims = list(space.dims)
        n = len(observations)
        n_kernels = n + 1
        w = np.empty(n_kernels)
        w[:n] = weights[:n]
        w[n] = prior_weight if n else 1.0
        self.weights = w / w.sum()
        obs = np.asarray(observations, dtype=float).T  # (d, n)
        # rows of the matrix that log_pdf multiplies by [1, u^2, u, one-hot choices]
        dc = len(space.continuous)
        table = np.empty((1 + 2 * dc + space.n_choices, n_kernels))
        const = table[0]
        const[:] = np.log(np.maximum(self.weights, _TINY))
        self._stepped_kernels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if len(space.numeric):
            mus = np.empty((len(space.numeric), n_kernels))
            sigmas = np.empty_like(mus)
            unit = (obs[space.numeric] - space.low) / space.span
            mus[:, :n] = unit
            mus[:, n] = 0.5
            sigmas[:, n] = 1.0
            order = None
            if n and bandwidth == "scott":
                sigmas[:, :n] = 0.2 * n ** (-1.0 / (len(space.dims) + 4))
            elif n:
                sigmas[:, :n], order = _neighbor_sigmas(unit, consider_endpoints)
            np.clip(sigmas, 1.0 / min(100.0, 1.0 + n_kernels), 1.0, out=sigmas)
            inv = 1.0 / sigmas
            const -= _log_unit_mass(mus, inv).sum(axis=0)
            self._mus, self._sigmas = mus, sigmas
            if dc:
                mu_c, inv_c = mus[space.continuous], inv[space.continuous]
                inv_var = table[1 : 1 + dc]
                np.multiply(inv_c, inv_c, out=inv_var)
                scaled_mu = table[1 + dc : 1 + 2 * dc]
                np.multiply(mu_c, inv_var, out=scaled_mu)
                const += np.log(inv_c).sum(axis=0) - space.cont_log_norm
                const -= 0.5 * (scaled_mu * mu_c).sum(axis=0)
                inv_var *= -0.5
            for _, q, _ in space.stepped:
                sort = np.argsort(mus[q, :n]) if order is None else order[q]
                sort = np.append(sort, n)  # the prior kernel
                self._stepped_kernels.append(_distinct_kernels(mus[q], sigmas[q], sort))
        # categorical kernel k: (prior_weight / K + [c == c_k]) / (n_choices prior_weight / K
        # + 1); the prior kernel is uniform
        self._cat_choices: list[np.ndarray] = []
        self._cat_probs: list[tuple[float, float]] = []  # (not chosen, chosen)
        p = prior_weight / n_kernels
        kernels = np.arange(n)
        for (j, n_choices), offset in zip(space.categorical, space.choice_offsets):
            chosen = obs[j].astype(np.intp)
            other, hit = p / (n_choices * p + 1.0), (p + 1.0) / (n_choices * p + 1.0)
            log_probs = table[1 + 2 * dc + offset : 1 + 2 * dc + offset + n_choices]
            log_probs[:] = math.log(other)
            log_probs[chosen, kernels] = math.log(hit)
            log_probs[:, n] = math.log(1.0 / n_choices)
            self._cat_choices.append(chosen)
            self._cat_probs.append((other, hit))
        self._table = table

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``(size, d)`` model-space draws (stepped values snapped onto their grid)."""
        space = self.space
        n = len(self.weights) - 1
        # the draws of Generator.choice(p=weights), without its argument checks
        cdf = np.cumsum(self.weights)
        cdf /= cdf[-1]
        comp = cdf.searchsorted(rng.random(size), side="right")
        uniforms = rng.random((len(self.dims), size))  # row j drives column j
        out = np.empty((len(self.dims), size))
        if len(space.numeric):
            unit = _sample_truncnorm(
                uniforms[space.numeric], self._mus[:, comp], self._sigmas[:, comp], 0.0, 1.0
            )
            out[space.numeric] = space.low + unit * space.span
            for j, _, dim in space.stepped:
                out[j] = to_model(dim, from_model(dim, out[j]))
        observed = comp < n
        for (j, n_choices), chosen, (other, hit) in zip(
            space.categorical, self._cat_choices, self._cat_probs
        ):
            probs = np.full((size, n_choices), other)
            probs[observed, chosen[comp[observed]]] = hit
            probs[~observed] = 1.0 / n_choices
            cum = np.cumsum(probs, axis=1)
            u = uniforms[j][:, None] * cum[:, -1:]
            out[j] = np.minimum((cum < u).sum(axis=1), n_choices - 1)
        return out.T

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """Log density (log mass on stepped dimensions) of ``(m, d)`` model-space points."""
        return _log_mixtures([self], x)[0]


def log_density_ratio(
    numerator: ParzenEstimator, denominator: ParzenEstimator, x: np.ndarray
) -> np.ndarray:
    """``log l(x) - log g(x)`` of two estimators over the same space, in one pass."""
    log_l, log_g = _log_mixtures([numerator, denominator], x)
    ratio: np.ndarray = log_l - log_g
    return ratio


def _log_mixtures(estimators: list[ParzenEstimator], x: np.ndarray) -> list[np.ndarray]:
    """Log densities of ``(m, d)`` points under estimators that share one space: their
    kernels are laid side by side and evaluated together."""
    space = estimators[0].space
    if any(e.space is not space for e in estimators):
        raise ValueError("the estimators must share one ModelSpace")
    xt = np.asarray(x, dtype=float).T
    m = xt.shape[1]
    dc = len(space.continuous)
    table = np.concatenate([e._table for e in estimators], axis=1)
    bounds = np.cumsum([0, *(e._table.shape[1] for e in estimators)])
    features = np.zeros((m, len(table)))
    features[:, 0] = 1.0
    if dc:
        u = (xt[space.cont_columns] - space.cont_low) / space.cont_span
        features[:, 1 : 1 + dc] = (u * u).T
        features[:, 1 + dc : 1 + 2 * dc] = u.T
    points = np.arange(m)
    for (j, _), offset in zip(space.categorical, space.choice_offsets):
        features[points, 1 + 2 * dc + offset + xt[j].astype(np.intp)] = 1.0
    total = np.empty((m, table.shape[1]))
    # column blocks keep each product under OpenBLAS's threading threshold: waking its
    # threads costs milliseconds on a busy machine, far more than the product itself
    block = max(32, _BLAS_SINGLE_THREAD // (m * len(table)))
    for start in range(0, table.shape[1], block):
        cols = slice(start, start + block)
        np.matmul(features, table[:, cols], out=total[:, cols])
    for s, (j, q, dim) in enumerate(space.stepped):
        assert dim.step is not None
        kernels = [e._stepped_kernels[s] for e in estimators]
        centres = np.concatenate([k[0] for k in kernels])
        widths = np.concatenate([k[1] for k in kernels])
        first = np.cumsum([0, *(len(k[0]) for k in kernels[:-1])])
        which = np.concatenate([k[2] + f for k, f in zip(kernels, first)])
        # points share few grid values: one row of cell masses per distinct value
        v, row = np.unique(from_model(dim, xt[j]), return_inverse=True)
        edges = np.concatenate([v - 0.5 * dim.step, v + 0.5 * dim.step])
        if dim.log:
            edges = np.log(edges)
        edges = (edges - space.low[q]) / space.span[q]
        z = np.subtract.outer(edges, centres)
        z *= 1.0 / widths
        mass = _log_mass(z[: len(v)], z[len(v) :])
        total += mass[row.ravel()][:, which]
    peaks = []
    for a, b in itertools.pairwise(bounds):
        peaks.append(total[:, a:b].max(axis=1))
        total[:, a:b] -= peaks[-1][:, None]
    # exponentiate only the terms that can change the float64 sums: most kernels are far
    # from a given point, and float64 exp is slow without AVX-512
    kept = total > -_NEGLIGIBLE
    np.exp(total, out=total, where=kept)
    return [
        peak + np.log(np.add.reduce(total[:, a:b], axis=1, where=kept[:, a:b]))
        for peak, (a, b) in zip(peaks, itertools.pairwise(bounds))
    ]
