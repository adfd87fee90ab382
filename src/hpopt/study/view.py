"""A read-only view of a study's history, handed to samplers and schedulers."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Container, Sequence
from typing import Any

from hpopt.study.direction import StudyDirection
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = ["StudyView"]

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class StudyView:
    """What a sampler or scheduler may know about a study: its directions and its trials.

    Views are cheap: the study keeps one incremental cache of records and views read it.
    ``version`` changes whenever the trials change, so a sampler can cache derived arrays
    keyed on it.

    Parameters
    ----------
    trials
        Records ordered by number.
    directions
        The study's directions.
    version
        A value that changes whenever ``trials`` changes.
    study_name
        The study's name.
    system_attrs
        The study's system attributes (read-only use).
    """

    def __init__(
        self,
        trials: Sequence[FrozenTrial],
        directions: Sequence[StudyDirection],
        *,
        version: Any = None,
        study_name: str = "",
        system_attrs: dict[str, Any] | None = None,
    ) -> None:
        self._trials = trials
        self.directions: tuple[StudyDirection, ...] = tuple(directions)
        self.version = version
        self.study_name = study_name
        self.system_attrs = system_attrs or {}

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    @property
    def signs(self) -> tuple[float, ...]:
        """Per objective: +1 to minimize, -1 to maximize (``sign * value`` is minimized)."""
        return tuple(d.sign for d in self.directions)

    def get_trials(self, states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        """Trials ordered by number, optionally only those in ``states``."""
        if states is None:
            return list(self._trials)
        return [t for t in self._trials if t.state in states]

    def completed(self) -> list[FrozenTrial]:
        """COMPLETE trials."""
        return self.get_trials((TrialState.COMPLETE,))

    def running(self) -> list[FrozenTrial]:
        """RUNNING trials (proposals whose results are pending)."""
        return self.get_trials((TrialState.RUNNING,))

    def trials_from(self, number: int) -> list[FrozenTrial]:
        """Trials whose number is at least ``number`` (cheap: a binary search, then a slice)."""
        start = bisect.bisect_left(self._trials, number, key=lambda t: t.number)
        return list(self._trials[start:])

    def __len__(self) -> int:
        return len(self._trials)

    def filtered(self, keep: Callable[[FrozenTrial], bool], tag: Any = None) -> StudyView:
        """A view of only the trials for which ``keep`` is true (e.g. one Hyperband bracket)."""
        return StudyView(
            [t for t in self._trials if keep(t)],
            self.directions,
            version=(self.version, tag),
            study_name=self.study_name,
            system_attrs=self.system_attrs,
        )
