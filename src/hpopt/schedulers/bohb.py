"""BOHB: Hyperband brackets, with the sampler modelling the largest well-observed budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hpopt.schedulers._common import check_int
from hpopt.schedulers.hyperband import HyperbandScheduler
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.study import Study
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["BOHBScheduler", "bohb"]

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class BOHBScheduler(HyperbandScheduler):
    """Hyperband whose sampler models one budget at a time, as in BOHB (Falkner et al.).

    Trials are bracketed, promoted and stopped exactly as by :class:`HyperbandScheduler`.
    What differs is the history the sampler sees for a new trial: the finished trials that
    reached the largest budget (a rung resource or ``max_resource``) that at least
    ``min_points_in_model`` finished trials reached, across all brackets. A model-based
    sampler such as TPE therefore fits the largest budget it has enough data for, and moves
    to larger budgets as they fill. Until any budget has enough points the sampler sees all
    history (a model-based sampler is then still in its random start-up phase).

    The value the sampler sees for each trial is the trial's own value: the objective for a
    COMPLETE trial, the last reported value for a PRUNED one, i.e. a value at a budget of at
    least the modelled one. With learning curves that rarely cross late this ranks trials
    as their values at the modelled budget would.

    Use it with the TPE sampler (see :func:`bohb`); any sampler works.

    Parameters
    ----------
    min_resource, max_resource, reduction_factor, pause
        As for :class:`HyperbandScheduler`.
    min_points_in_model
        Finished trials a budget needs before the sampler models it.
    """

    def __init__(
        self,
        min_resource: float = 1,
        max_resource: float = 81,
        *,
        reduction_factor: int = 3,
        min_points_in_model: int = 10,
        pause: bool = False,
    ) -> None:
        super().__init__(min_resource, max_resource, reduction_factor=reduction_factor, pause=pause)
        self.min_points_in_model = check_int("min_points_in_model", min_points_in_model, 1)
        self.budgets = sorted({*self.brackets[0].rung_resources(), max_resource})

    def modelled_budget(self, view: StudyView) -> float | None:
        """The largest budget reached by ``min_points_in_model`` finished trials, if any."""
        reached = [0] * len(self.budgets)
        for t in view.get_trials(_FINISHED):
            last = t.last_step
            if last is None:
                continue
            for i, budget in enumerate(self.budgets):
                if last >= budget:
                    reached[i] += 1
        for i in reversed(range(len(self.budgets))):
            if reached[i] >= self.min_points_in_model:
                return self.budgets[i]
        return None

    def history_filter(self, view: StudyView, trial: Trial) -> Callable[[FrozenTrial], bool] | None:
        budget = self.modelled_budget(view)
        if budget is None:
            return None

        def reached_budget(t: FrozenTrial) -> bool:
            last = t.last_step
            return t.state in _FINISHED and last is not None and last >= budget

        return reached_budget

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_resource={self.min_resource}, "
            f"max_resource={self.max_resource}, reduction_factor={self.reduction_factor}, "
            f"min_points_in_model={self.min_points_in_model}, pause={self.pause})"
        )


def bohb(
    min_resource: float = 1,
    max_resource: float = 81,
    *,
    reduction_factor: int = 3,
    min_points_in_model: int = 10,
    seed: int | None = None,
    pause: bool = False,
    **study_kwargs: Any,
) -> Study:
    """Create a BOHB study: the TPE sampler with a :class:`BOHBScheduler`.

    ``study_kwargs`` go to :func:`hpopt.create_study` (``direction``, ``storage``, ...).

    Raises
    ------
    ImportError
        If this installation has no TPE sampler (``hpopt.samplers.tpe``).

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.bohb(1, 27, direction="maximize")  # doctest: +SKIP
    """
    from hpopt.samplers.tpe import TPESampler  # type: ignore[import-not-found,unused-ignore]
    from hpopt.study.study import create_study

    scheduler = BOHBScheduler(
        min_resource,
        max_resource,
        reduction_factor=reduction_factor,
        min_points_in_model=min_points_in_model,
        pause=pause,
    )
    return create_study(sampler=TPESampler(seed=seed), scheduler=scheduler, **study_kwargs)
