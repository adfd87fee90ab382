"""Maximize log expected improvement over a mixed space.

1. Score a pool of candidates: a scrambled Sobol sample of the space and perturbations of
   the best observed points at several scales (categoricals resampled with a small
   probability).
2. From the best few, run L-BFGS-B (one batched call, the sum of independent objectives) over
   the numeric columns, integers relaxed to the continuum.
3. Snap integers and stepped floats onto their grids, then run a discrete local search:
   repeatedly take the best single change of one categorical (any other choice) or one grid
   parameter (its neighbours) while it improves.
4. If the discrete search moved a point, polish its continuous floats once more.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hpopt.samplers.gp.acquisition import log_ei, log_ei_with_grad
from hpopt.samplers.gp.encoding import SpaceEncoding
from hpopt.samplers.gp.model import GPModel

__all__ = ["optimize_log_ei"]

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_PERTURB_SCALES = (0.01, 0.05, 0.2)


def optimize_log_ei(
    model: GPModel,
    enc: SpaceEncoding,
    best: float,
    incumbents: Array,
    rng: np.random.Generator,
    *,
    n_sobol: int = 512,
    n_local: int = 48,
    n_starts: int = 6,
    max_iter: int = 60,
) -> Array:
    """Return the encoded point with the highest log EI found.

    Parameters
    ----------
    model
        The fitted GP (targets standardized, minimized).
    enc
        The space encoding.
    best
        The incumbent target value.
    incumbents
        Encoded rows of the best observed points, best first; local candidates perturb them.
    rng
        Random stream (Sobol scrambling, perturbations).
    """
    from scipy.stats import qmc

    sobol = qmc.Sobol(enc.dim, scramble=True, seed=rng).random(n_sobol)
    pool = [enc.from_uniform(sobol), _perturb(enc, incumbents, n_local, rng)]
    cand = np.vstack(pool)
    values = log_ei(model, cand, best)
    order = np.argsort(-values)
    starts = _distinct(cand[order], n_starts)

    if enc.is_num.any():
        starts = _lbfgs(model, enc, starts, best, enc.is_num, max_iter)
    snapped = enc.snap(starts.copy())
    swept, moved = _discrete_search(model, enc, snapped, best)
    floats = enc.is_num & np.array([g is None for g in enc.grids])
    if moved.any() and floats.any():
        swept[moved] = _lbfgs(model, enc, swept[moved], best, floats, max_iter)

    final = np.vstack([swept, cand[order[:1]]])
    final_values = log_ei(model, final, best)
    best_row: Array = final[int(np.argmax(final_values))]
    return best_row


def _perturb(enc: SpaceEncoding, incumbents: Array, n: int, rng: np.random.Generator) -> Array:
    if len(incumbents) == 0 or n == 0:
        return np.empty((0, enc.dim))
    base = incumbents[rng.integers(len(incumbents), size=n)]
    scale = rng.choice(_PERTURB_SCALES, size=(n, 1))
    out = base.copy()
    num = enc.is_num
    out[:, num] = np.clip(base[:, num] + scale * rng.standard_normal((n, int(num.sum()))), 0, 1)
    for j in np.flatnonzero(enc.is_cat):
        flip = rng.random(n) < max(0.2, 1.0 / enc.dim)
        out[flip, j] = rng.integers(enc.n_choices[j], size=int(flip.sum()))
    return enc.snap(out)


def _distinct(rows: Array, k: int) -> Array:
    picked: list[Array] = []
    for row in rows:
        if all(np.max(np.abs(row - p)) > 1e-6 for p in picked):
            picked.append(row)
            if len(picked) == k:
                break
    return np.array(picked)


def _lbfgs(
    model: GPModel, enc: SpaceEncoding, x0: Array, best: float, move: BoolArray, max_iter: int
) -> Array:
    """Batched L-BFGS-B over the columns ``move`` (a subset of the numeric columns)."""
    from scipy.optimize import minimize

    b = len(x0)
    cols = np.flatnonzero(move)
    grad_pos = np.searchsorted(np.flatnonzero(enc.is_num), cols)
    base = x0.copy()

    def objective(flat: Array) -> tuple[float, Array]:
        x = base.copy()
        x[:, cols] = flat.reshape(b, len(cols))
        v, g = log_ei_with_grad(model, x, best, enc.is_num)
        return -float(v.sum()), -g[:, grad_pos].ravel()

    res = minimize(
        objective,
        base[:, cols].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (b * len(cols)),
        options={"maxiter": max_iter},
    )
    out = base.copy()
    out[:, cols] = np.clip(np.asarray(res.x).reshape(b, len(cols)), 0.0, 1.0)
    # Keep the start where the search made a point worse (the summed objective may trade).
    worse = log_ei(model, out, best) < log_ei(model, base, best)
    out[worse] = base[worse]
    return out


def _discrete_search(
    model: GPModel, enc: SpaceEncoding, x: Array, best: float, max_rounds: int = 4
) -> tuple[Array, BoolArray]:
    """Greedy one-coordinate moves over categoricals and grids; returns points and who moved."""
    x = x.copy()
    moved = np.zeros(len(x), dtype=bool)
    discrete = [j for j in range(enc.dim) if enc.is_cat[j] or enc.grids[j] is not None]
    if not discrete:
        return x, moved
    current = log_ei(model, x, best)
    for _ in range(max_rounds):
        rows, owners = [], []
        for i, point in enumerate(x):
            for j in discrete:
                for v in enc.neighbours(j, float(point[j])):
                    row = point.copy()
                    row[j] = v
                    rows.append(row)
                    owners.append(i)
        if not rows:
            break
        cand = np.array(rows)
        vals = log_ei(model, cand, best)
        owner = np.array(owners)
        improved = False
        for i in range(len(x)):
            mine = np.flatnonzero(owner == i)
            k = mine[int(np.argmax(vals[mine]))]
            if vals[k] > current[i] + 1e-12:
                x[i], current[i] = cand[k], vals[k]
                moved[i] = improved = True
        if not improved:
            break
    return x, moved
