"""Median and percentile schedulers: decisions checked exactly."""

from __future__ import annotations

import math

import hpopt
from hpopt.schedulers import Decision


def _completed(study: hpopt.Study, curves: list[list[float]]) -> None:
    for curve in curves:
        trial = study.ask()
        for step, v in enumerate(curve):
            trial.report(v, step)
        study.tell(trial, curve[-1])


def _decisions(study: hpopt.Study, curve: list[float]) -> list[Decision]:
    trial = study.ask()
    out = []
    for step, v in enumerate(curve):
        trial.report(v, step)
        out.append(trial.decision())
    return out


CURVES = [[1.0, 0.8, 0.6], [2.0, 1.6, 1.2], [3.0, 2.4, 1.8]]  # minimizing: medians 2, 1.6, 1.2


def test_median_stops_a_trial_worse_than_the_median_at_that_step() -> None:
    study = hpopt.create_study(scheduler=hpopt.MedianScheduler(n_startup_trials=3))
    _completed(study, CURVES)
    assert _decisions(study, [1.9, 1.5, 1.3]) == [Decision.CONTINUE] * 2 + [Decision.STOP]
    assert _decisions(study, [2.1, 1.0]) == [Decision.STOP, Decision.CONTINUE]


def test_median_uses_the_best_value_so_far() -> None:
    study = hpopt.create_study(scheduler=hpopt.MedianScheduler(n_startup_trials=3))
    _completed(study, CURVES)
    # 1.7 at step 1 is worse than the median 1.6, but the trial reached 0.5 at step 0.
    assert _decisions(study, [0.5, 1.7]) == [Decision.CONTINUE, Decision.CONTINUE]


def test_startup_warmup_interval_and_min_trials() -> None:
    bad = [9.0, 9.0, 9.0]
    assert _decisions(_with(CURVES, n_startup_trials=4), bad) == [Decision.CONTINUE] * 3
    assert _decisions(_with(CURVES, n_warmup_steps=2), bad) == [Decision.CONTINUE] * 2 + [
        Decision.STOP
    ]
    assert _decisions(_with(CURVES, interval_steps=2), bad) == [
        Decision.STOP,
        Decision.CONTINUE,
        Decision.STOP,
    ]
    assert _decisions(_with(CURVES, n_min_trials=4), bad) == [Decision.CONTINUE] * 3


def _with(curves: list[list[float]], **kw: int) -> hpopt.Study:
    kw.setdefault("n_startup_trials", 3)
    study = hpopt.create_study(scheduler=hpopt.MedianScheduler(**kw))
    _completed(study, curves)
    return study


def test_percentile_quartile_is_stricter_than_median_and_maximize_mirrors() -> None:
    curves = [[float(v)] for v in range(1, 9)]  # step 0 values 1..8, minimizing
    quartile = hpopt.create_study(scheduler=hpopt.PercentileScheduler(25.0, n_startup_trials=8))
    _completed(quartile, curves)
    # 25th percentile of 1..8 is 2.75: 2.7 continues, 2.8 stops.
    assert _decisions(quartile, [2.7]) == [Decision.CONTINUE]
    assert _decisions(quartile, [2.8]) == [Decision.STOP]
    maximize = hpopt.create_study(
        direction="maximize", scheduler=hpopt.PercentileScheduler(25.0, n_startup_trials=8)
    )
    _completed(maximize, [[-v[0]] for v in curves])
    assert _decisions(maximize, [-2.7]) == [Decision.CONTINUE]
    assert _decisions(maximize, [-2.8]) == [Decision.STOP]


def test_nan_is_the_worst_value() -> None:
    study = hpopt.create_study(scheduler=hpopt.MedianScheduler(n_startup_trials=3))
    _completed(study, CURVES)
    assert _decisions(study, [math.nan]) == [Decision.STOP]
    assert _decisions(study, [math.inf]) == [Decision.STOP]
    # Others' NaN values are the worst too: two NaN curves put the median at NaN/inf.
    nan_study = hpopt.create_study(scheduler=hpopt.MedianScheduler(n_startup_trials=3))
    trial = nan_study.ask()
    trial.report(math.nan, 0)
    nan_study.tell(trial, state=hpopt.TrialState.PRUNED)
    _completed(nan_study, [[1.0], [math.nan], [math.nan]])
    assert _decisions(nan_study, [50.0]) == [Decision.CONTINUE]
