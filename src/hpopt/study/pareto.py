"""Pareto fronts of multi-objective studies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hpopt.study.direction import StudyDirection
from hpopt.trial.frozen import FrozenTrial

__all__ = ["dominates", "non_dominated_mask", "pareto_front"]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether ``a`` Pareto-dominates ``b`` (all objectives minimized)."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def non_dominated_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (minimized) that no other row dominates."""
    n = len(points)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        if not mask[i]:
            continue
        dominated_by_i = np.all(points[i] <= points, axis=1) & np.any(points[i] < points, axis=1)
        mask[dominated_by_i] = False
        if np.any(np.all(points <= points[i], axis=1) & np.any(points < points[i], axis=1)):
            mask[i] = False
    return mask


def pareto_front(
    trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection]
) -> list[FrozenTrial]:
    """The trials (with values) that no other trial dominates."""
    trials = [t for t in trials if t.values is not None]
    if not trials:
        return []
    signs = np.array([d.sign for d in directions])
    points = np.array([t.values for t in trials], dtype=float) * signs
    mask = non_dominated_mask(points)
    return [t for t, keep in zip(trials, mask) if keep]
