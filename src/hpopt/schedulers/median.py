"""Stop a trial whose best value so far is worse than the median of finished trials."""

from __future__ import annotations

from hpopt.schedulers.percentile import PercentileScheduler

__all__ = ["MedianScheduler"]


class MedianScheduler(PercentileScheduler):
    """Stops a trial whose best value so far is worse than the median of the COMPLETE
    trials' values at the same step (:class:`PercentileScheduler` with ``percentile=50``).

    Parameters
    ----------
    n_startup_trials, n_warmup_steps, interval_steps, n_min_trials
        As for :class:`PercentileScheduler`.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(scheduler=hpopt.MedianScheduler(n_warmup_steps=5))
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        n_min_trials: int = 1,
    ) -> None:
        super().__init__(
            50.0,
            n_startup_trials=n_startup_trials,
            n_warmup_steps=n_warmup_steps,
            interval_steps=interval_steps,
            n_min_trials=n_min_trials,
        )
