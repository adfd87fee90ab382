"""Asynchronous successive halving (ASHA), in stopping or pause/resume mode."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from hpopt.schedulers._common import IncrementalScan, check_int, loss, objective_sign
from hpopt.schedulers.base import BaseScheduler, Decision
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState
from hpopt.trial.trial import PAUSED_AT_KEY, RESUMED_AT_KEY, RESUMED_FROM_KEY

if TYPE_CHECKING:
    from hpopt.study.view import StudyView

__all__ = ["ASHAScheduler", "SuccessiveHalvingScheduler", "check_resources"]


def check_resources(
    min_resource: float, max_resource: float | None, reduction_factor: int
) -> tuple[float, float | None, int]:
    """Validate the resource arguments shared by ASHA and Hyperband (``ValueError``)."""
    for name, value in (("min_resource", min_resource), ("max_resource", max_resource)):
        if value is None and name == "max_resource":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if max_resource is not None and min_resource > max_resource:
        raise ValueError(
            f"min_resource ({min_resource}) must not exceed max_resource ({max_resource})"
        )
    if isinstance(reduction_factor, bool) or not isinstance(reduction_factor, int):
        raise ValueError(f"reduction_factor must be an integer >= 2, got {reduction_factor!r}")
    if reduction_factor < 2:
        raise ValueError(f"reduction_factor must be an integer >= 2, got {reduction_factor}")
    return min_resource, max_resource, reduction_factor


class RungValue(NamedTuple):
    """A trial's value at one rung: the first value it reported at or after the rung."""

    rung: int
    step: int
    loss: float


class _RungTable:
    """Sorted losses per rung over a study's trials, updated only for changed records.

    It is an index of the records, not decision state: rebuilding it from the records
    gives the same table.
    """

    def __init__(self) -> None:
        self.scan = IncrementalScan()
        self.losses: dict[int, list[float]] = {}
        self.seen: dict[int, tuple[FrozenTrial, tuple[RungValue, ...]]] = {}
        #: PRUNED trials marked paused, and the numbers of trials that were resumed.
        self.paused: dict[int, FrozenTrial] = {}
        self.resumed: set[int] = set()

    def sync(
        self,
        trial: FrozenTrial,
        rung_values: Callable[[FrozenTrial, float], tuple[RungValue, ...]],
        sign: float,
    ) -> tuple[RungValue, ...]:
        """Make ``trial`` (this record of it) the one counted; return its rung values."""
        old = self.seen.get(trial.number)
        if old is not None and old[0] is trial:
            return old[1]
        if trial.state is TrialState.PRUNED and PAUSED_AT_KEY in trial.system_attrs:
            self.paused[trial.number] = trial
        parent = trial.system_attrs.get(RESUMED_FROM_KEY)
        if parent is not None:
            self.resumed.add(int(parent))
        new = rung_values(trial, sign)
        if old is None or old[1] != new:
            for rv in old[1] if old is not None else ():
                values = self.losses[rv.rung]
                del values[bisect.bisect_left(values, rv.loss)]
            for rv in new:
                bisect.insort(self.losses.setdefault(rv.rung, []), rv.loss)
        self.seen[trial.number] = (trial, new)
        return new


class ASHAScheduler(BaseScheduler):
    """Asynchronous successive halving: rungs at ``min_resource * reduction_factor**k``
    (``k >= min_early_stopping_rate``); at each rung a trial goes on only if its value is
    in the best ``1/reduction_factor`` of all values recorded at that rung so far.

    A trial is judged at a rung once, on its first report at a step at or past the rung's
    resource (the step is the resource: epochs, batches, ...), so call
    :meth:`~hpopt.Trial.should_prune` after each report. Promotion never waits for a rung to
    fill: while fewer than ``reduction_factor`` trials reached a rung, a trial goes on if it
    is the best there (as in the ASHA paper and Optuna's SuccessiveHalvingPruner).

    Everything the scheduler decides on is in the trials' learning curves and system
    attributes, so workers sharing one storage agree. Non-finite reports count as the
    worst value.

    Parameters
    ----------
    min_resource
        Resource (step) of the first rung.
    max_resource
        The full budget: no rung at or past it (``None``: rungs without end).
    reduction_factor
        ``η`` >= 2: the rung spacing, and ``1/η`` of each rung goes on.
    min_early_stopping_rate
        ``s`` >= 0: the first rung is at ``min_resource * η**s``.
    pause
        Pause mode for objectives that checkpoint to :attr:`~hpopt.Trial.checkpoint_dir`:
        a trial not promoted at a rung is PAUSEd instead of stopped, and
        :meth:`suggest_resume` later resumes the best paused trial that has become
        promotable (as more, worse trials reach its rung) instead of starting a new one.

    Examples
    --------
    >>> import hpopt
    >>> scheduler = hpopt.ASHAScheduler(min_resource=1, max_resource=27, reduction_factor=3)
    >>> scheduler.rung_resources()
    [1.0, 3.0, 9.0]
    """

    def __init__(
        self,
        min_resource: float = 1,
        max_resource: float | None = None,
        *,
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
        pause: bool = False,
    ) -> None:
        check_resources(min_resource, max_resource, reduction_factor)
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.reduction_factor = reduction_factor
        self.min_early_stopping_rate = check_int(
            "min_early_stopping_rate", min_early_stopping_rate, 0
        )
        self.pause = bool(pause)
        # Derived from the records only (an index of their rung values), per study and sign.
        self._tables: dict[tuple[str, float], _RungTable] = {}

    # ------------------------------------------------------------------ rungs
    def rung_resource(self, rung: int) -> float:
        """The resource (step) of rung ``rung`` (0 is the first)."""
        return float(
            self.min_resource * self.reduction_factor ** (self.min_early_stopping_rate + rung)
        )

    def rung_resources(self) -> list[float]:
        """All rung resources below ``max_resource`` (requires ``max_resource``)."""
        if self.max_resource is None:
            raise ValueError("rung_resources() needs max_resource")
        out = []
        k = 0
        while self.rung_resource(k) < self.max_resource:
            out.append(self.rung_resource(k))
            k += 1
        return out

    def rung_values(self, trial: FrozenTrial, sign: float) -> tuple[RungValue, ...]:
        """The rungs ``trial`` reached and owns, with its value there.

        A resumed trial does not own the rungs its predecessor reached (their values were
        copied with the learning curve); each rung value is counted once.
        """
        iv = trial.intermediate_values
        if not iv:
            return ()
        steps = sorted(iv)
        resumed_at = trial.system_attrs.get(RESUMED_AT_KEY)
        out: list[RungValue] = []
        i, k = 0, 0
        while True:
            resource = self.rung_resource(k)
            if self.max_resource is not None and resource >= self.max_resource:
                break
            while i < len(steps) and steps[i] < resource:
                i += 1
            if i == len(steps):
                break
            if resumed_at is None or steps[i] > resumed_at:
                out.append(RungValue(k, steps[i], loss(iv[steps[i]], sign)))
            k += 1
        return tuple(out)

    def _table(self, view_name: str, sign: float, trials: Sequence[FrozenTrial]) -> _RungTable:
        table = self._tables.get((view_name, sign))
        if table is None:
            table = self._tables[(view_name, sign)] = _RungTable()
        for t in table.scan.changed(trials):
            if self._accepts(t):
                table.sync(t, self.rung_values, sign)
        return table

    def _accepts(self, trial: FrozenTrial) -> bool:
        """Whether ``trial`` competes in this scheduler's rungs (all, except in Hyperband)."""
        return True

    def _promotable(self, value: float, competing: list[float]) -> bool:
        """Whether ``value`` (one of ``competing``, sorted) is in their best 1/η."""
        return value <= competing[max(len(competing) // self.reduction_factor - 1, 0)]

    # ------------------------------------------------------------------ scheduler API
    def on_report(self, view: StudyView, trial: FrozenTrial, step: int, value: float) -> Decision:
        sign = objective_sign(view)
        table = self._table(view.study_name, sign, view.get_trials())
        for rv in table.sync(trial, self.rung_values, sign):
            if rv.step == step and not self._promotable(rv.loss, table.losses[rv.rung]):
                return Decision.PAUSE if self.pause else Decision.STOP
        return Decision.CONTINUE

    def suggest_resume(self, view: StudyView) -> FrozenTrial | None:
        if not self.pause:
            return None
        return self._best_resumable(view.get_trials(), objective_sign(view), view.study_name)

    def _best_resumable(
        self, trials: list[FrozenTrial], sign: float, study: str
    ) -> FrozenTrial | None:
        """The paused trial to resume: promotable now, highest rung first, then best."""
        table = self._table(study, sign, trials)
        best: tuple[float, float, int] | None = None
        chosen: FrozenTrial | None = None
        for number, t in table.paused.items():
            rungs = table.seen[number][1]
            if number in table.resumed or not rungs:
                continue
            top = rungs[-1]
            if not self._promotable(top.loss, table.losses[top.rung]):
                continue
            key = (-top.rung, top.loss, number)
            if best is None or key < best:
                best, chosen = key, t
        return chosen

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_resource={self.min_resource}, "
            f"max_resource={self.max_resource}, reduction_factor={self.reduction_factor}, "
            f"min_early_stopping_rate={self.min_early_stopping_rate}, pause={self.pause})"
        )


#: Successive halving in hpopt is always asynchronous; the two names are one scheduler.
SuccessiveHalvingScheduler = ASHAScheduler
