"""From objective values to the standardized, warped targets the GP models.

Single objective: ``sign * value`` (so the GP always minimizes). Several objectives: a random
augmented-Chebyshev scalarization per ask, as in ParEGO (Knowles, 2006): each objective is
rescaled to ``[0, 1]`` over the observed trials, a weight vector is drawn uniformly from the
simplex and ``max_i w_i f_i + 0.05 * sum_i w_i f_i`` is minimized. Over many asks the weights
sweep the Pareto front.

Heavy-tailed objectives (a few huge losses, as on Rosenbrock or diverging training runs) would
make a Gaussian model of the raw values useless near the optimum, so the standardized values
are passed through a Yeo-Johnson power transform fitted by maximum likelihood (as HEBO does)
and standardized again. The transform is monotone, so the ranking of trials is kept.

Trials stopped by a scheduler (PRUNED) have no final value, only a learning curve. With a
scheduler such as ASHA most trials end that way, and a model of the few complete ones alone
would stay in its quasi-random startup or learn little, so single-objective targets then come
from a ranking of all finished trials (:func:`ranked_targets`): trials are compared at a
common budget, the largest step that enough of them reached (as BOHB models the largest
budget with enough observations), by their first value reported at or past it (a complete
trial's final value if the budget is its end); trials that stopped before it rank after
those, the further they got the better, then by their last value (the order Optuna's TPE
uses for pruned trials). Ranks are turned into normal scores (a Gaussian copula, as in
Salinas et al., 2020), which the GP models like any other target. Comparing at a common
budget rather than ranking complete trials first matters under ASHA: the first trials reach
every rung unopposed and complete whatever their value, while good trials that come later
are stopped at a rung by the best ones. Without pruned trials the targets are the warped
values above.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["ranked_targets", "scalarize", "warp_targets"]

Array = NDArray[np.float64]

_AUGMENT = 0.05
_LAMBDA_BOUNDS = (-3.0, 3.0)


def scalarize(values: Array, rng: np.random.Generator) -> Array:
    """ParEGO scalarization of ``values`` (n, m), already signed for minimization."""
    lo, hi = values.min(0), values.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    f = (values - lo) / span
    w = rng.dirichlet(np.ones(values.shape[1]))
    wf = f * w
    return np.asarray(wf.max(1) + _AUGMENT * wf.sum(1), dtype=float)


def ranked_targets(steps: Array, values: Array) -> Array:
    """Normal scores of trials ranked by the step they are compared at, then by value.

    Parameters
    ----------
    steps
        The step each trial is compared at (``inf`` for a final value); larger is better.
    values
        Its signed value there (minimization; NaN counts as the worst).

    Returns
    -------
    ``Phi^-1((rank + 1/2) / n)`` of each trial's rank (0 is the best) in the order of
    decreasing step, then increasing value; tied trials share their mean rank.
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    neg_step = -np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    value = np.where(np.isnan(values), np.inf, values)
    order = np.lexsort((value, neg_step))
    keys = np.stack([neg_step, value], axis=1)[order]
    # Ids of distinct keys in sorted order, then the mean rank of each tie group.
    new = np.ones(len(order), dtype=bool)
    new[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    ranks = np.empty(len(order))
    ranks[order] = rankdata(np.cumsum(new), method="average") - 1.0
    return np.asarray(ndtri((ranks + 0.5) / len(order)), dtype=float)


def _standardize(y: Array) -> Array:
    sd = float(y.std())
    if not math.isfinite(sd) or sd <= 1e-12 * max(1.0, float(np.abs(y).max())):
        return np.zeros_like(y)
    return np.asarray((y - y.mean()) / sd, dtype=float)


def warp_targets(y: Array, *, warp: bool = True) -> Array:
    """Standardize ``y`` and, with ``warp``, Gaussianize it by a Yeo-Johnson transform."""
    z = _standardize(np.asarray(y, dtype=float))
    if not warp or len(z) < 4 or not z.any():
        return z
    lam = _LAMBDAS[int(np.argmax(_yeo_johnson_loglik(z, _LAMBDAS)))]
    warped = _standardize(_yeo_johnson(z, float(lam)))
    return warped if np.isfinite(warped).all() else z


#: Candidate exponents; the likelihood is smooth in lambda, so a grid is enough.
_LAMBDAS = np.linspace(*_LAMBDA_BOUNDS, 61)


def _yeo_johnson(z: Array, lam: float) -> Array:
    pos = z >= 0
    out = np.empty_like(z)
    if abs(lam) < 1e-8:
        out[pos] = np.log1p(z[pos])
    else:
        out[pos] = np.expm1(lam * np.log1p(z[pos])) / lam
    if abs(lam - 2.0) < 1e-8:
        out[~pos] = -np.log1p(-z[~pos])
    else:
        out[~pos] = -np.expm1((2.0 - lam) * np.log1p(-z[~pos])) / (2.0 - lam)
    return out


def _yeo_johnson_loglik(z: Array, lambdas: Array) -> Array:
    """Profile log-likelihood of each exponent (Gaussian with fitted mean and variance)."""
    jacobian = float((np.sign(z) * np.log1p(np.abs(z))).sum())
    out = np.empty(len(lambdas))
    for i, lam in enumerate(lambdas):
        var = float(_yeo_johnson(z, float(lam)).var())
        out[i] = -np.inf if not var > 0 else -0.5 * len(z) * np.log(var)
        out[i] += (lam - 1.0) * jacobian
    return out
