"""Stop a trial whose value leaves a range or is not finite."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hpopt.schedulers._common import check_int
from hpopt.schedulers.base import BaseScheduler, Decision
from hpopt.trial.frozen import FrozenTrial

if TYPE_CHECKING:
    from hpopt.study.view import StudyView

__all__ = ["ThresholdScheduler"]


class ThresholdScheduler(BaseScheduler):
    """Stops a trial that reports NaN or an infinity, or a value below ``lower`` or above
    ``upper`` (e.g. a diverging loss).

    Parameters
    ----------
    lower, upper
        Bounds on reported values (``None``: no bound).
    n_warmup_steps
        Never stop a trial before this step (non-finite values included).
    interval_steps
        Decide only every ``interval_steps`` steps after the warm-up.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(scheduler=hpopt.ThresholdScheduler(upper=10.0))
    """

    def __init__(
        self,
        lower: float | None = None,
        upper: float | None = None,
        *,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
    ) -> None:
        for name, bound in (("lower", lower), ("upper", upper)):
            if bound is None:
                continue
            if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                raise ValueError(f"{name} must be a number or None, got {bound!r}")
            if math.isnan(bound):
                raise ValueError(f"{name} must not be NaN")
        if lower is not None and upper is not None and lower > upper:
            raise ValueError(f"lower ({lower}) must not exceed upper ({upper})")
        self.lower = lower
        self.upper = upper
        self.n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, 0)
        self.interval_steps = check_int("interval_steps", interval_steps, 1)

    def on_report(self, view: StudyView, trial: FrozenTrial, step: int, value: float) -> Decision:
        if step < self.n_warmup_steps or (step - self.n_warmup_steps) % self.interval_steps:
            return Decision.CONTINUE
        if not math.isfinite(value):
            return Decision.STOP
        if self.lower is not None and value < self.lower:
            return Decision.STOP
        if self.upper is not None and value > self.upper:
            return Decision.STOP
        return Decision.CONTINUE

    def __repr__(self) -> str:
        return (
            f"ThresholdScheduler(lower={self.lower}, upper={self.upper}, "
            f"n_warmup_steps={self.n_warmup_steps}, interval_steps={self.interval_steps})"
        )
