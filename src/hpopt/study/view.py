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

    Views are cheap: the study keeps one incremental cache of records and a view reads
    the first ``length`` entries of it, without copying. Trials created after the view
    never appear in it; a trial that changed state since (RUNNING to COMPLETE, say) may
    show its newer record. ``version`` changes whenever the trials change, so a sampler
    can cache derived arrays keyed on it.

    Parameters
    ----------
    trials
        Records ordered by number (the view reads, never writes, this sequence).
    directions
        The study's directions.
    version
        A value that changes whenever ``trials`` changes.
    study_name
        The study's name.
    system_attrs
        The study's system attributes (read-only use).
    length
        How many of ``trials`` belong to the view (default: all of them now).
    """

    def __init__(
        self,
        trials: Sequence[FrozenTrial],
        directions: Sequence[StudyDirection],
        *,
        version: Any = None,
        study_name: str = "",
        system_attrs: dict[str, Any] | None = None,
        length: int | None = None,
    ) -> None:
        self._trials = trials
        self._length = len(trials) if length is None else length
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
        trials = self._trials[: self._length]
        if states is None:
            return list(trials)
        return [t for t in trials if t.state in states]

    def completed(self) -> list[FrozenTrial]:
        """COMPLETE trials."""
        return self.get_trials((TrialState.COMPLETE,))

    def running(self) -> list[FrozenTrial]:
        """RUNNING trials (proposals whose results are pending)."""
        return self.get_trials((TrialState.RUNNING,))

    def trials_from(self, number: int) -> list[FrozenTrial]:
        """Trials whose number is at least ``number`` (cheap: a binary search, then a slice)."""
        start = bisect.bisect_left(self._trials, number, 0, self._length, key=lambda t: t.number)
        return list(self._trials[start : self._length])

    def __len__(self) -> int:
        return self._length

    def filtered(self, keep: Callable[[FrozenTrial], bool], tag: Any = None) -> StudyView:
        """A view of only the trials for which ``keep`` is true (e.g. one Hyperband bracket)."""
        return StudyView(
            [t for t in self._trials[: self._length] if keep(t)],
            self.directions,
            version=(self.version, tag),
            study_name=self.study_name,
            system_attrs=self.system_attrs,
        )
