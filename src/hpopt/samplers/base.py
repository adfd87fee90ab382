"""The sampler interface."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hpopt.space.distributions import Distribution
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["BaseSampler", "intersection_search_space"]


class BaseSampler(abc.ABC):
    """Decides which configuration to try next.

    A sampler sees the study only through a read-only :class:`StudyView`. It proposes values
    in two ways (the split that lets model-based samplers work with define-by-run spaces):

    * **joint** (``sample_relative``): once per trial, before the objective runs, for the
      part of the space the sampler already knows (``infer_relative_search_space``), e.g. the
      parameters every finished trial had;
    * **independent** (``sample_independent``): for any parameter not covered jointly, at
      the moment the objective suggests it.

    Values are external values (what ``trial.suggest_*`` returns). Samplers must be seeded
    and reproducible: the same seed and the same history give the same proposals. A sampler
    may raise :class:`~hpopt.exceptions.SpaceExhausted` from :meth:`before_trial` when it
    has nothing left to propose; ``optimize`` then stops cleanly.
    """

    def infer_relative_search_space(self, view: StudyView, trial: Trial) -> dict[str, Distribution]:
        """The parameters to sample jointly for ``trial`` (default: none)."""
        return {}

    def sample_relative(
        self, view: StudyView, trial: Trial, search_space: dict[str, Distribution]
    ) -> dict[str, Any]:
        """Joint proposal for ``search_space`` (default: nothing)."""
        return {}

    @abc.abstractmethod
    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        """Propose a value of one parameter."""

    def before_trial(self, view: StudyView, trial: Trial) -> None:  # noqa: B027
        """Called when a trial starts, before any sampling."""

    def after_trial(  # noqa: B027
        self,
        view: StudyView,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Called after a trial finished (state and values are final)."""

    def reseed(self, seed: int | None) -> None:  # noqa: B027
        """Reseed the random state (used to give parallel workers distinct streams)."""


def intersection_search_space(
    trials: Sequence[FrozenTrial], *, include_pruned: bool = False
) -> dict[str, Distribution]:
    """Parameters present, with one distribution, in every COMPLETE (and PRUNED) trial.

    Single-valued distributions are left out. Iteration order follows the first trial.
    """
    states = (TrialState.COMPLETE, TrialState.PRUNED) if include_pruned else (TrialState.COMPLETE,)
    space: dict[str, Distribution] | None = None
    for t in trials:
        if t.state not in states:
            continue
        if space is None:
            space = {n: d for n, d in t.distributions.items() if not d.single()}
            continue
        for name in list(space):
            if name not in t.distributions or t.distributions[name] != space[name]:
                del space[name]
    return space or {}
