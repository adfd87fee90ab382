"""How model-based samplers rank trials that a scheduler pruned.

A pruned trial has no final value, only a learning curve. Ranking every complete trial
before every pruned one (Optuna's TPE order) misleads a model under ASHA: the first trials
reach every rung unopposed and complete whatever their value, while better trials that come
later are stopped at a rung by the best ones. So trials are compared at a *common budget*,
the largest step that at least a given number of them reached (as BOHB models the largest
budget with enough observations), by their first value reported at or past it (a complete
trial's final value if that budget is the end); trials that stopped before it rank after
them, the further they got the better, then by their last value. With enough complete trials
the common budget is the end, and the order is Optuna's.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = ["COMMON_FRACTION", "Curve", "compare_at", "common_budget", "curve"]

#: Share of the ranked trials that must have reached the common budget.
COMMON_FRACTION = 0.25

#: A learning curve: steps (increasing; ``inf`` for a complete trial's final value) and the
#: signed values there (smaller is better; NaN as ``inf``).
Curve = tuple[NDArray[np.float64], NDArray[np.float64]]


def curve(trial: FrozenTrial, sign: float) -> Curve:
    """The curve of a COMPLETE or PRUNED ``trial`` (a pruned trial's recorded value is its
    last report, already in the curve)."""
    points = sorted((float(s), float(v)) for s, v in trial.intermediate_values.items())
    if trial.state is TrialState.COMPLETE and trial.values is not None:
        points.append((math.inf, float(trial.values[0])))
    if not points:
        return np.empty(0), np.empty(0)
    steps, values = (np.array(c, dtype=float) for c in zip(*points))
    values = sign * values
    return steps, np.where(np.isnan(values), np.inf, values)


def common_budget(last_steps: NDArray[np.float64], n_min: int) -> float:
    """The largest step that at least ``n_min`` trials reached (the smallest if fewer)."""
    if len(last_steps) == 0:
        return math.inf
    ordered = np.sort(last_steps)[::-1]
    return float(ordered[min(max(n_min, 1), len(ordered)) - 1])


def compare_at(curves: list[Curve], n_min: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """For each curve, the step and value it is ranked by, comparing at the common budget
    of at least ``n_min`` trials; rank by decreasing step, then increasing value."""
    last = np.array([s[-1] if len(s) else -math.inf for s, _ in curves])
    budget = common_budget(last, n_min)
    steps = np.empty(len(curves))
    values = np.empty(len(curves))
    for i, (s, v) in enumerate(curves):
        if len(s) == 0:
            steps[i], values[i] = -math.inf, math.inf
            continue
        j = int(np.searchsorted(s, budget))  # first report at or past the budget
        if j < len(s):
            steps[i], values[i] = budget, v[j]
        else:
            steps[i], values[i] = s[-1], v[-1]
    return steps, values
