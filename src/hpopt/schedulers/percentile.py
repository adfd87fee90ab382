"""Stop a trial whose best value so far is worse than a percentile of finished trials."""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from hpopt.schedulers._common import (
    IncrementalScan,
    check_int,
    linear_percentile,
    loss,
    objective_sign,
)
from hpopt.schedulers.base import BaseScheduler, Decision
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.view import StudyView

__all__ = ["PercentileScheduler"]


class _CompletedIndex:
    """Sorted losses of the COMPLETE trials at each step, updated incrementally."""

    def __init__(self) -> None:
        self.scan = IncrementalScan()
        self.n_complete = 0
        self.by_step: dict[int, list[float]] = {}

    def add(self, trial: FrozenTrial, sign: float) -> None:
        self.n_complete += 1
        for step, value in trial.intermediate_values.items():
            bisect.insort(self.by_step.setdefault(step, []), loss(value, sign))


class PercentileScheduler(BaseScheduler):
    """Stops a trial whose best value so far is worse than the ``percentile``-th best of the
    COMPLETE trials' values at the same step.

    ``percentile=50`` is the median rule; ``percentile=25`` keeps only trials in the best
    quarter. A non-finite report counts as the worst value.

    Parameters
    ----------
    percentile
        In ``[0, 100]``; the share of finished trials a running trial must be at least as
        good as, counted from the best.
    n_startup_trials
        Never stop anything until this many trials are COMPLETE.
    n_warmup_steps
        Never stop a trial before this step.
    interval_steps
        Decide only every ``interval_steps`` steps after the warm-up.
    n_min_trials
        Decide only when at least this many COMPLETE trials reported the same step.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(
    ...     scheduler=hpopt.PercentileScheduler(25.0, n_startup_trials=5, n_warmup_steps=2)
    ... )
    """

    def __init__(
        self,
        percentile: float,
        *,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        n_min_trials: int = 1,
    ) -> None:
        if isinstance(percentile, bool) or not isinstance(percentile, (int, float)):
            raise ValueError(f"percentile must be a number in [0, 100], got {percentile!r}")
        if not 0.0 <= percentile <= 100.0:
            raise ValueError(f"percentile must be in [0, 100], got {percentile}")
        self.percentile = float(percentile)
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, 0)
        self.n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, 0)
        self.interval_steps = check_int("interval_steps", interval_steps, 1)
        self.n_min_trials = check_int("n_min_trials", n_min_trials, 1)
        # An index of the COMPLETE trials' curves (derived from the records only).
        self._indexes: dict[tuple[str, float], _CompletedIndex] = {}

    def _index(self, view: StudyView, sign: float) -> _CompletedIndex:
        index = self._indexes.get((view.study_name, sign))
        if index is None:
            index = self._indexes[(view.study_name, sign)] = _CompletedIndex()
        for t in index.scan.changed(view.get_trials()):
            if t.state is TrialState.COMPLETE:
                index.add(t, sign)
        return index

    def on_report(self, view: StudyView, trial: FrozenTrial, step: int, value: float) -> Decision:
        sign = objective_sign(view)
        if step < self.n_warmup_steps:
            return Decision.CONTINUE
        if (step - self.n_warmup_steps) % self.interval_steps != 0:
            return Decision.CONTINUE
        index = self._index(view, sign)
        if index.n_complete < self.n_startup_trials:
            return Decision.CONTINUE
        others = index.by_step.get(step, [])
        if not others or len(others) < self.n_min_trials:
            return Decision.CONTINUE
        best = min(
            (loss(v, sign) for s, v in trial.intermediate_values.items() if s <= step),
            default=math.inf,
        )
        threshold = linear_percentile(others, self.percentile)
        return Decision.STOP if best > threshold else Decision.CONTINUE

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(percentile={self.percentile}, "
            f"n_startup_trials={self.n_startup_trials}, n_warmup_steps={self.n_warmup_steps}, "
            f"interval_steps={self.interval_steps}, n_min_trials={self.n_min_trials})"
        )
