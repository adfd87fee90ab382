"""The sampler interface."""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hpopt.space.distributions import Distribution
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = [
    "BaseSampler",
    "FinishedTrialScanner",
    "IntersectionSearchSpace",
    "intersection_search_space",
]


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

    # Samplers travel to worker processes and live inside pickled estimators (SearchCV);
    # a sampler's ``_lock``, if it keeps one, is recreated on arrival instead.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "_lock" in state:
            state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_lock" in state:
            self._lock = threading.RLock()


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


class FinishedTrialScanner:
    """Hands each finished trial of a study to the caller once, across many views.

    Finished records never change, so a sampler that aggregates over history (visited grid
    points, the intersection search space) can keep its aggregate and look only at trials
    that finished since its last call: the cost per call is the number of trials from the
    oldest unfinished one on, not the length of the history.

    The scanner follows one study (by name); :meth:`scan` reports ``reset=True`` when it
    sees another study or a shorter history (a filtered view), and the caller then
    rebuilds its aggregate from the trials it is given.
    """

    def __init__(self) -> None:
        self._study: str | None = None
        self._length = 0
        self._frontier = 0  # every trial numbered below this is finished and was reported
        self._reported: set[int] = set()  # finished trials at or beyond the frontier

    def scan(self, view: StudyView) -> tuple[list[FrozenTrial], list[FrozenTrial], bool]:
        """Return ``(newly_finished, unfinished, reset)`` for ``view``.

        ``unfinished`` are the RUNNING and WAITING trials (all of them, every call).
        """
        reset = view.study_name != self._study or len(view) < self._length
        if reset:
            self._study, self._frontier, self._reported = view.study_name, 0, set()
        self._length = len(view)
        finished: list[FrozenTrial] = []
        unfinished: list[FrozenTrial] = []
        advancing = True
        for t in view.trials_from(self._frontier):
            if not t.state.is_finished():
                advancing = False
                unfinished.append(t)
                continue
            if t.number not in self._reported:
                finished.append(t)
            if advancing:
                self._frontier = t.number + 1
                self._reported.discard(t.number)
            else:
                self._reported.add(t.number)
        return finished, unfinished, reset


class IntersectionSearchSpace:
    """Incremental :func:`intersection_search_space`: the parameters present, with one
    distribution, in every COMPLETE (and, optionally, PRUNED) trial seen so far.

    Samplers call :meth:`calculate` once per trial; each call costs only the trials that
    finished since the previous one.
    """

    def __init__(self, *, include_pruned: bool = False) -> None:
        self._states = (
            (TrialState.COMPLETE, TrialState.PRUNED) if include_pruned else (TrialState.COMPLETE,)
        )
        self._scanner = FinishedTrialScanner()
        self._space: dict[str, Distribution] | None = None

    def calculate(self, view: StudyView) -> dict[str, Distribution]:
        """The intersection search space of ``view`` (a new dict; iteration order follows
        the first trial that counted)."""
        finished, _, reset = self._scanner.scan(view)
        if reset:
            self._space = None
        for t in finished:
            if t.state not in self._states:
                continue
            if self._space is None:
                self._space = {n: d for n, d in t.distributions.items() if not d.single()}
                continue
            for name in list(self._space):
                if t.distributions.get(name) != self._space[name]:
                    del self._space[name]
        return dict(self._space or {})
