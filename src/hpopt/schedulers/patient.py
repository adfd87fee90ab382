"""Stop a trial only once it has stopped improving."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from hpopt.schedulers._common import check_int, loss, objective_sign
from hpopt.schedulers.base import BaseScheduler, Decision
from hpopt.trial.frozen import FrozenTrial

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["PatientScheduler"]


class PatientScheduler(BaseScheduler):
    """Lets a trial go on while it still improves; once its best value over the last
    ``patience + 1`` reports is no better (by more than ``min_delta``) than its best before,
    defers to ``wrapped`` (or stops the trial when ``wrapped`` is ``None``).

    Non-finite reports count as the worst value (they are never an improvement).

    Parameters
    ----------
    wrapped
        The scheduler consulted once the trial stagnates, or ``None`` (stop it).
    patience
        Reports without improvement to wait for.
    min_delta
        Smallest change that counts as an improvement.

    Examples
    --------
    >>> import hpopt
    >>> scheduler = hpopt.PatientScheduler(hpopt.MedianScheduler(), patience=3)
    """

    def __init__(
        self, wrapped: BaseScheduler | None, patience: int, *, min_delta: float = 0.0
    ) -> None:
        if wrapped is not None and not isinstance(wrapped, BaseScheduler):
            raise ValueError(f"wrapped must be a scheduler or None, got {wrapped!r}")
        self.wrapped = wrapped
        self.patience = check_int("patience", patience, 0)
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)):
            raise ValueError(f"min_delta must be a number >= 0, got {min_delta!r}")
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta}")
        self.min_delta = float(min_delta)

    def on_trial_start(self, view: StudyView, trial: Trial) -> None:
        if self.wrapped is not None:
            self.wrapped.on_trial_start(view, trial)

    def history_filter(self, view: StudyView, trial: Trial) -> Callable[[FrozenTrial], bool] | None:
        return None if self.wrapped is None else self.wrapped.history_filter(view, trial)

    def suggest_resume(self, view: StudyView) -> FrozenTrial | None:
        return None if self.wrapped is None else self.wrapped.suggest_resume(view)

    def on_report(self, view: StudyView, trial: FrozenTrial, step: int, value: float) -> Decision:
        sign = objective_sign(view)
        iv = trial.intermediate_values
        losses = [loss(iv[s], sign) for s in sorted(iv) if s <= step]
        if len(losses) <= self.patience + 1:
            return Decision.CONTINUE
        before = min(losses[: -self.patience - 1])
        recent = min(losses[-self.patience - 1 :])
        if recent < before - self.min_delta:  # still improving
            return Decision.CONTINUE
        if self.wrapped is None:
            return Decision.STOP
        return self.wrapped.on_report(view, trial, step, value)

    def __repr__(self) -> str:
        return (
            f"PatientScheduler({self.wrapped!r}, patience={self.patience}, "
            f"min_delta={self.min_delta})"
        )
