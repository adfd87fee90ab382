"""Plain training-loop helpers: report each epoch, track the best one, prune, checkpoint.

They use only the public trial API and no framework, so every integration can share them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from hpopt.exceptions import TrialPruned
from hpopt.schedulers.base import Decision
from hpopt.trial.trial import RESUMED_AT_KEY, Trial

__all__ = ["TrialReporter", "report_epoch", "restore_checkpoint"]

#: User attributes written by :func:`report_epoch`.
BEST_EPOCH_ATTR = "best_epoch"
BEST_VALUE_ATTR = "best_value"


def report_epoch(
    trial: Trial,
    epoch: int,
    metric: float,
    *,
    save_checkpoint: Callable[[Path], None] | None = None,
) -> None:
    """Report ``metric`` at ``epoch``, record the best epoch, and stop the trial if told to.

    The best epoch so far (by the study's direction; non-finite values never count) goes
    into the user attributes ``best_epoch`` and ``best_value``.

    Parameters
    ----------
    trial
        The running trial.
    epoch
        The step (epochs are the usual resource of a scheduler).
    metric
        The validation metric the study optimizes.
    save_checkpoint
        Called with :attr:`Trial.checkpoint_dir` when the scheduler PAUSEs the trial, before
        it stops, so a scheduler in pause mode can resume it later (see
        :func:`restore_checkpoint`).

    Raises
    ------
    TrialPruned
        When the scheduler says STOP or PAUSE.
    """
    trial.report(metric, epoch)
    sign = trial.study.direction.sign
    best_epoch, best_value = None, math.inf
    for step, value in trial.intermediate_values.items():
        if math.isfinite(value) and sign * value < best_value:
            best_epoch, best_value = step, sign * value
    if best_epoch is not None:
        trial.set_user_attr(BEST_EPOCH_ATTR, best_epoch)
        trial.set_user_attr(BEST_VALUE_ATTR, sign * best_value)
    decision = trial.decision()
    if decision is Decision.PAUSE and save_checkpoint is not None:
        save_checkpoint(trial.checkpoint_dir)
    if decision is not Decision.CONTINUE:
        raise TrialPruned(f"trial {trial.number}: {decision.value} at epoch {epoch}")


def restore_checkpoint(trial: Trial, load_checkpoint: Callable[[Path], None]) -> int:
    """For a trial that resumes a paused one, load its checkpoint; return the epochs done.

    Returns 0 for a new trial (``load_checkpoint`` is not called), else the epoch the paused
    trial stopped at, after calling ``load_checkpoint(trial.checkpoint_dir)``. Train from
    the returned value + 1.
    """
    if trial.resumed_from is None:
        return 0
    load_checkpoint(trial.checkpoint_dir)
    return int(trial.system_attrs[RESUMED_AT_KEY])


class TrialReporter:
    """:func:`report_epoch` bound to one trial, with the best epoch at hand.

    Examples
    --------
    >>> import hpopt
    >>> from hpopt.integrations.training import TrialReporter
    >>> study = hpopt.create_study(direction="maximize")
    >>> trial = study.ask()
    >>> reporter = TrialReporter(trial)
    >>> for epoch, accuracy in enumerate([0.5, 0.7, 0.6], start=1):
    ...     reporter.report(epoch, accuracy)
    >>> reporter.best_epoch, reporter.best_value
    (2, 0.7)
    """

    def __init__(
        self, trial: Trial, *, save_checkpoint: Callable[[Path], None] | None = None
    ) -> None:
        self.trial = trial
        self.save_checkpoint = save_checkpoint

    def report(self, epoch: int, metric: float) -> None:
        """Report, track the best epoch, and raise :class:`~hpopt.TrialPruned` if told."""
        report_epoch(self.trial, epoch, metric, save_checkpoint=self.save_checkpoint)

    @property
    def best_epoch(self) -> int | None:
        value = self.trial.user_attrs.get(BEST_EPOCH_ATTR)
        return None if value is None else int(value)

    @property
    def best_value(self) -> float | None:
        value = self.trial.user_attrs.get(BEST_VALUE_ATTR)
        return None if value is None else float(value)
