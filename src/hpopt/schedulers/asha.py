"""Asynchronous successive halving (ASHA), in stopping or pause/resume mode."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from hpopt.schedulers._common import check_int, loss, objective_sign
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
    [1, 3, 9]
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
        # Derived data only (rung values of immutable records), never decision state.
        self._cache: dict[tuple[str, int], tuple[FrozenTrial, float, tuple[RungValue, ...]]] = {}

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

    def rung_values(
        self, trial: FrozenTrial, sign: float, study: str = ""
    ) -> tuple[RungValue, ...]:
        """The rungs ``trial`` reached and owns, with its value there.

        A resumed trial does not own the rungs its predecessor reached (their values were
        copied with the learning curve); each rung value is counted once.
        """
        key = (study, trial.number)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is trial and cached[1] == sign:
            return cached[2]
        iv = trial.intermediate_values
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
        values = tuple(out)
        self._cache[key] = (trial, sign, values)
        return values

    def _rung_losses(
        self, trials: Iterable[FrozenTrial], rung: int, sign: float, study: str, skip: int
    ) -> list[float]:
        """Sorted losses recorded at ``rung`` by ``trials`` (except trial number ``skip``)."""
        out = []
        for t in trials:
            if t.number == skip or not t.intermediate_values:
                continue
            for rv in self.rung_values(t, sign, study):
                if rv.rung == rung:
                    out.append(rv.loss)
                    break
        out.sort()
        return out

    def _promotable(self, value: float, others: list[float]) -> bool:
        """Whether ``value`` is in the best 1/η of ``others`` plus itself."""
        competing = sorted([*others, value])
        index = max(len(competing) // self.reduction_factor - 1, 0)
        return value <= competing[index]

    # ------------------------------------------------------------------ scheduler API
    def on_report(self, view: StudyView, trial: FrozenTrial, step: int, value: float) -> Decision:
        sign = objective_sign(view)
        trials = view.get_trials()
        for rv in self.rung_values(trial, sign, view.study_name):
            if rv.step != step:
                continue
            others = self._rung_losses(trials, rv.rung, sign, view.study_name, trial.number)
            if not self._promotable(rv.loss, others):
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
        tables: dict[int, list[float]] = {}
        resumed = set()
        paused = []
        for t in trials:
            resumed.add(t.system_attrs.get(RESUMED_FROM_KEY))
            if t.state is TrialState.PRUNED and PAUSED_AT_KEY in t.system_attrs:
                paused.append(t)
            for rv in self.rung_values(t, sign, study):
                tables.setdefault(rv.rung, []).append(rv.loss)
        for table in tables.values():
            table.sort()
        best: tuple[float, float, int] | None = None
        chosen: FrozenTrial | None = None
        for t in paused:
            rungs = self.rung_values(t, sign, study)
            if t.number in resumed or not rungs:
                continue
            top = rungs[-1]
            table = tables[top.rung]
            if top.loss > table[max(len(table) // self.reduction_factor - 1, 0)]:
                continue
            key = (-top.rung, top.loss, t.number)
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
