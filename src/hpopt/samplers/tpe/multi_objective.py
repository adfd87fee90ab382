"""Good/bad split of multi-objective trials (MOTPE): Pareto ranks, then hypervolume.

The good set is filled front by front (non-domination rank 0, 1, ...). The front that does
not fit whole is cut by hypervolume contribution: with two objectives the point of least
exclusive contribution is dropped one at a time (exact); with more, the points of largest
exclusive contribution are kept, estimated once by Monte Carlo with a fixed seed.
"""

from __future__ import annotations

import numpy as np

from hpopt.study.pareto import non_dominated_mask

__all__ = ["exclusive_contributions", "non_domination_ranks", "split_multi_objective"]

_MC_SAMPLES = 4096


def non_domination_ranks(points: np.ndarray, n_needed: int | None = None) -> np.ndarray:
    """Front index of each row (all objectives minimized).

    Peeling stops once ``n_needed`` rows are ranked; the remaining rows get the next rank.
    """
    n = len(points)
    ranks = np.full(n, -1, dtype=int)
    remaining = np.arange(n)
    rank = 0
    ranked = 0
    while len(remaining) and (n_needed is None or ranked < n_needed):
        mask = non_dominated_mask(points[remaining])
        ranks[remaining[mask]] = rank
        ranked += int(mask.sum())
        remaining = remaining[~mask]
        rank += 1
    ranks[remaining] = rank
    return ranks


def _reference_point(points: np.ndarray) -> np.ndarray:
    worst = points.max(axis=0)
    ref = np.asarray(np.maximum(1.1 * worst, 0.9 * worst))
    ref[ref == 0] = 1e-12
    return ref


def exclusive_contributions(points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Hypervolume that each point of a mutually non-dominated set alone dominates.

    Exact for two objectives; a Monte Carlo estimate (fixed seed) otherwise.
    """
    if points.shape[1] == 2:
        order = np.argsort(points[:, 0], kind="stable")
        p = points[order]
        next_x = np.append(p[1:, 0], ref[0])
        prev_y = np.insert(p[:-1, 1], 0, ref[1])
        contrib = np.empty(len(p))
        contrib[order] = (next_x - p[:, 0]) * (prev_y - p[:, 1])
        return contrib
    low = points.min(axis=0)
    rng = np.random.default_rng(0)
    samples = low + rng.random((_MC_SAMPLES, points.shape[1])) * (ref - low)
    dominated = np.all(points[None, :, :] <= samples[:, None, :], axis=2)  # (samples, points)
    alone = dominated.sum(axis=1) == 1
    return np.asarray(dominated[alone].sum(axis=0), dtype=float)


def _select_by_hypervolume(points: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` rows of a non-dominated set that keep much hypervolume."""
    ref = _reference_point(points)
    if points.shape[1] != 2:
        return np.sort(np.argsort(-exclusive_contributions(points, ref), kind="stable")[:k])
    keep = np.arange(len(points))
    while len(keep) > k:
        contrib = exclusive_contributions(points[keep], ref)
        keep = np.delete(keep, int(np.argmin(contrib)))
    return keep


def split_multi_objective(points: np.ndarray, n_good: int) -> np.ndarray:
    """Boolean mask of the ``n_good`` best rows of ``points`` (minimized objectives)."""
    n = len(points)
    good = np.zeros(n, dtype=bool)
    if n_good <= 0 or n == 0:
        return good
    if n_good >= n:
        good[:] = True
        return good
    ranks = non_domination_ranks(points, n_good)
    counts = np.bincount(ranks)
    full = int(np.searchsorted(np.cumsum(counts), n_good, side="right"))  # fronts that fit
    good[ranks < full] = True
    short = n_good - int(good.sum())
    if short > 0:
        tie = np.flatnonzero(ranks == full)
        good[tie[_select_by_hypervolume(points[tie], short)]] = True
    return good
