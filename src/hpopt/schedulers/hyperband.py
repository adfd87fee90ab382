"""Hyperband: several ASHA brackets that trade many short trials for few long ones."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hpopt.schedulers._common import objective_sign
from hpopt.schedulers.asha import ASHAScheduler, check_resources
from hpopt.schedulers.base import BaseScheduler, Decision
from hpopt.trial.frozen import FrozenTrial

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["BRACKET_KEY", "HyperbandScheduler"]

#: System attribute holding a trial's Hyperband bracket.
BRACKET_KEY = "hyperband_bracket"


class HyperbandScheduler(BaseScheduler):
    """Hyperband over asynchronous successive halving.

    With ``s_max = floor(log_η(max_resource / min_resource))`` there are ``s_max + 1``
    brackets; bracket ``b`` is an :class:`ASHAScheduler` with rungs at
    ``max_resource * η**-(s_max - b - k)`` below ``max_resource`` (``k = 0, 1, ...``), as in
    the Hyperband paper: bracket 0 stops early and often (its first rung is at
    ``max_resource / η**s_max``, which is ``min_resource`` when the ratio is a power of
    ``η`` and a little more otherwise), the last bracket runs every trial to
    ``max_resource``. Each trial is given a bracket when it
    starts (system attribute ``hyperband_bracket``), deterministically from its number, in
    proportion to the bracket budgets of the Hyperband paper and interleaved, so any prefix
    of trials is spread over all brackets. A trial competes only with its own bracket, and
    :meth:`history_filter` lets the sampler see only that bracket's trials.

    Parameters
    ----------
    min_resource
        Resource (step) of the first rung of the most aggressive bracket.
    max_resource
        The full budget.
    reduction_factor
        ``η`` >= 2.
    pause
        Pause/resume mode for every bracket (see :class:`ASHAScheduler`).

    Examples
    --------
    >>> import hpopt
    >>> scheduler = hpopt.HyperbandScheduler(min_resource=1, max_resource=27)
    >>> scheduler.n_brackets
    4
    """

    def __init__(
        self,
        min_resource: float = 1,
        max_resource: float = 81,
        *,
        reduction_factor: int = 3,
        pause: bool = False,
    ) -> None:
        check_resources(min_resource, max_resource, reduction_factor)
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.reduction_factor = reduction_factor
        self.pause = bool(pause)
        # A small epsilon keeps log(27)/log(3) from rounding down to 2.
        self.n_brackets = int(math.log(max_resource / min_resource, reduction_factor) + 1e-9) + 1
        self.brackets = [
            _BracketASHA(
                b,
                self.n_brackets - 1,
                min_resource,
                max_resource,
                reduction_factor=reduction_factor,
                pause=pause,
            )
            for b in range(self.n_brackets)
        ]
        self._schedule = _interleave(self.bracket_budgets())

    def bracket_budgets(self) -> list[int]:
        """How many trials of each period go to each bracket (Hyperband's ``n_i``)."""
        n = self.n_brackets
        out = []
        for b in range(n):
            s = n - 1 - b
            out.append(math.ceil(n * self.reduction_factor**s / (s + 1)))
        return out

    def bracket_of(self, trial: FrozenTrial | Trial) -> int | None:
        """The bracket recorded on ``trial`` (``None`` if it has none)."""
        value = trial.system_attrs.get(BRACKET_KEY)
        return None if value is None else int(value)

    def on_trial_start(self, view: StudyView, trial: Trial) -> None:
        if self.bracket_of(trial) is None:  # a resumed trial keeps its bracket
            trial.set_system_attr(BRACKET_KEY, self._schedule[trial.number % len(self._schedule)])

    def _same_bracket(self, bracket: int | None) -> Callable[[FrozenTrial], bool]:
        return lambda t: t.system_attrs.get(BRACKET_KEY) == bracket

    def on_report(self, view: StudyView, trial: FrozenTrial, step: int, value: float) -> Decision:
        bracket = self.bracket_of(trial)
        if bracket is None or not 0 <= bracket < self.n_brackets:
            return Decision.CONTINUE  # not started by this scheduler (e.g. added by hand)
        return self.brackets[bracket].on_report(view, trial, step, value)

    def history_filter(self, view: StudyView, trial: Trial) -> Callable[[FrozenTrial], bool] | None:
        return self._same_bracket(self.bracket_of(trial))

    def suggest_resume(self, view: StudyView) -> FrozenTrial | None:
        if not self.pause:
            return None
        sign = objective_sign(view)
        best: tuple[float, float, int] | None = None
        chosen: FrozenTrial | None = None
        trials = view.get_trials()
        for asha in self.brackets:
            candidate = asha._best_resumable(trials, sign, view.study_name)
            if candidate is None:
                continue
            top = asha.rung_values(candidate, sign)[-1]
            key = (-asha.rung_resource(top.rung), top.loss, candidate.number)
            if best is None or key < best:
                best, chosen = key, candidate
        return chosen

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_resource={self.min_resource}, "
            f"max_resource={self.max_resource}, reduction_factor={self.reduction_factor}, "
            f"pause={self.pause})"
        )


class _BracketASHA(ASHAScheduler):
    """One Hyperband bracket: ASHA over the trials that carry its bracket number, with its
    rungs counted down from ``max_resource`` (the Hyperband paper's ``R * η^-i``)."""

    def __init__(self, bracket: int, top: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, min_early_stopping_rate=bracket, **kwargs)
        self.bracket = bracket
        self.top = top

    def rung_resource(self, rung: int) -> float:
        assert self.max_resource is not None
        exponent = self.top - self.min_early_stopping_rate - rung
        return float(self.max_resource / self.reduction_factor**exponent)

    def _accepts(self, trial: FrozenTrial) -> bool:
        return trial.system_attrs.get(BRACKET_KEY) == self.bracket


def _interleave(weights: list[int]) -> list[int]:
    """A period of ``sum(weights)`` indices, index ``i`` appearing ``weights[i]`` times,
    spread evenly (smooth weighted round robin), so every prefix is nearly proportional."""
    total = sum(weights)
    current = [0] * len(weights)
    out = []
    for _ in range(total):
        for i, w in enumerate(weights):
            current[i] += w
        pick = max(range(len(weights)), key=lambda i: (current[i], -i))
        current[pick] -= total
        out.append(pick)
    return out
