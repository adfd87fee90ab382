"""The scheduler (pruner) interface."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

from hpopt.trial.frozen import FrozenTrial

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["BaseScheduler", "Decision", "NopScheduler"]


class Decision(enum.Enum):
    """A scheduler's answer to a reported value.

    ``CONTINUE``: keep training. ``STOP``: give up on the trial (it becomes PRUNED).
    ``PAUSE``: stop running now but keep the trial resumable: it becomes PRUNED with a
    ``paused_at_step`` system attribute, and the scheduler may later resume it from its
    checkpoint at a larger budget (see :meth:`BaseScheduler.suggest_resume`).
    """

    CONTINUE = "continue"
    STOP = "stop"
    PAUSE = "pause"


class BaseScheduler:
    """Decides whether a running trial continues, stops early, or pauses.

    Schedulers keep no state of their own that other processes would need: everything they
    decide on comes from the :class:`StudyView` (records and intermediate values) and from
    system attributes they write on trials through :meth:`on_trial_start`, so several
    workers sharing one storage make consistent decisions.
    """

    def on_trial_start(self, view: StudyView, trial: Trial) -> None:
        """Called when a trial starts; may set system attributes (e.g. a bracket)."""

    def on_report(self, view: StudyView, trial: FrozenTrial, step: int, value: float) -> Decision:
        """Decide after ``trial`` reported ``value`` at ``step``.

        ``trial`` is the record including this report; ``view`` the study's other trials.
        """
        return Decision.CONTINUE

    def history_filter(self, view: StudyView, trial: Trial) -> Callable[[FrozenTrial], bool] | None:
        """Which slice of history the sampler should see for ``trial`` (``None``: all).

        This is the channel through which, e.g., Hyperband lets the sampler model each
        bracket separately.
        """
        return None

    def suggest_resume(self, view: StudyView) -> FrozenTrial | None:
        """A paused trial to resume instead of starting a new configuration, or ``None``.

        :meth:`Study.ask <hpopt.Study.ask>` asks this before it asks the sampler. The
        returned record must be a PRUNED trial with the ``paused_at_step`` system attribute;
        the study then starts a new trial with its params, learning curve and checkpoint
        directory and the ``resumed_from`` system attribute. Only promotion-based
        schedulers in pause mode return anything.
        """
        return None


class NopScheduler(BaseScheduler):
    """Never stops a trial."""
