"""Maximize log expected improvement over a mixed space.

1. Score a pool of candidates: a scrambled Sobol sample of the space and perturbations of
   the best observed points at several scales (categoricals resampled with a small
   probability).
2. From the best few, run L-BFGS-B from each start on its own over the numeric columns,
   integers relaxed to the continuum, in coordinates scaled by the fitted lengthscales (so
   that the search is equally well conditioned along short and long ones, as Optuna does).
   One joint run over the sum of the objectives would share one line search and one curvature
   estimate between unrelated starts.
3. Snap integers and stepped floats onto their grids, then run a discrete local search:
   repeatedly take the best single change of one categorical (any other choice) or one grid
   parameter (its neighbours) while it improves.
4. If the discrete search moved a point, polish its continuous floats once more.

Points already evaluated (or running) are excluded: their acquisition is ``-inf``, so the
search moves to the best point not tried yet. With a continuous parameter an exact repeat is
a null event; in a discrete space (integers, grids, categoricals) it is what a GP with a
little fitted noise otherwise proposes often, wasting an evaluation of a deterministic
objective. Only when every candidate found has been tried is a repeat returned.
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
#: Projected-gradient tolerance of the acquisition search (Optuna: sqrt(1e-4)).
_GTOL = 1e-2


def optimize_log_ei(
    model: GPModel,
    enc: SpaceEncoding,
    best: float,
    incumbents: Array,
    rng: np.random.Generator,
    *,
    n_sobol: int = 2048,
    n_local: int = 48,
    n_starts: int = 10,
    max_iter: int = 200,
    exclude: Array | None = None,
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
    exclude
        Encoded rows (on their grids) that must not be proposed again if anything else can.
    """
    from scipy.stats import qmc

    acq = _Acquisition(model, best, exclude)

    sobol = qmc.Sobol(enc.dim, scramble=True, seed=rng).random(n_sobol)
    pool = [enc.from_uniform(sobol), _perturb(enc, incumbents, n_local, rng)]
    cand = np.vstack(pool)
    values = acq(cand)
    order = np.argsort(-values)
    starts = _distinct(cand[order], n_starts)

    if enc.is_num.any():
        starts = _lbfgs(acq, enc, starts, enc.is_num, max_iter)
    snapped = enc.snap(starts.copy())
    swept, moved = _discrete_search(acq, enc, snapped)
    floats = enc.is_num & np.array([g is None for g in enc.grids])
    if moved.any() and floats.any():
        swept[moved] = _lbfgs(acq, enc, swept[moved], floats, max_iter)

    final = np.vstack([swept, cand[order]])
    final_values = acq(final)
    if not np.isfinite(final_values).any():  # every candidate was tried: allow a repeat
        final_values = log_ei(model, final, best)
    best_row: Array = final[int(np.argmax(final_values))]
    return best_row


class _Acquisition:
    """Log EI with ``-inf`` at excluded rows (exact matches after snapping)."""

    def __init__(self, model: GPModel, best: float, exclude: Array | None) -> None:
        self.model = model
        self.best = best
        self._seen = set(_keys(exclude)) if exclude is not None and len(exclude) else set()

    def _mask(self, x: Array, values: Array) -> Array:
        if self._seen:
            hit = np.array([k in self._seen for k in _keys(x)], dtype=bool)
            values = np.where(hit, -np.inf, values)
        return values

    def __call__(self, x: Array) -> Array:
        return self._mask(x, log_ei(self.model, x, self.best))

    def with_grad(self, x: Array, num: BoolArray) -> tuple[Array, Array]:
        # The gradient search works on relaxed points, which never match exactly.
        return log_ei_with_grad(self.model, x, self.best, num)


def _keys(rows: Array) -> list[bytes]:
    """Hashable keys of the rows, equal for rows that agree to 9 decimals."""
    # ``+ 0.0`` turns -0.0 into 0.0, which compare equal but differ in their bytes.
    rounded = np.ascontiguousarray(np.round(rows, 9) + 0.0)
    return [r.tobytes() for r in rounded]


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
    acq: _Acquisition, enc: SpaceEncoding, x0: Array, move: BoolArray, max_iter: int
) -> Array:
    """L-BFGS-B from each row of ``x0`` over the columns ``move`` (numeric columns).

    The search runs in ``x / lengthscale`` so that its steps are in units of the model's
    correlation length along every column.
    """
    from scipy.optimize import minimize

    cols = np.flatnonzero(move)
    grad_pos = np.searchsorted(np.flatnonzero(enc.is_num), cols)
    scale = 1.0 / np.sqrt(acq.model.rho[cols])
    bounds = [(0.0, float(1.0 / s)) for s in scale]
    out = x0.copy()
    for i in range(len(x0)):
        row = x0[i : i + 1].copy()

        def objective(z: Array, row: Array = row) -> tuple[float, Array]:
            row[0, cols] = z * scale
            v, g = acq.with_grad(row, enc.is_num)
            return -float(v[0]), -(g[0, grad_pos] * scale)

        res = minimize(
            objective,
            x0[i, cols] / scale,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "gtol": _GTOL},
        )
        out[i, cols] = np.clip(np.asarray(res.x) * scale, 0.0, 1.0)
    # Keep the start where the search ended worse (e.g. a failed line search).
    worse = acq(out) < acq(x0)
    out[worse] = x0[worse]
    return out


def _discrete_search(
    acq: _Acquisition, enc: SpaceEncoding, x: Array, max_rounds: int = 4
) -> tuple[Array, BoolArray]:
    """Greedy one-coordinate moves over categoricals and grids; returns points and who moved."""
    x = x.copy()
    moved = np.zeros(len(x), dtype=bool)
    discrete = [j for j in range(enc.dim) if enc.is_cat[j] or enc.grids[j] is not None]
    if not discrete:
        return x, moved
    current = acq(x)
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
        vals = acq(cand)
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
