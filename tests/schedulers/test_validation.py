"""Misconfigured schedulers raise ValueError naming the argument."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import hpopt

CASES: list[tuple[Callable[[], object], str]] = [
    (lambda: hpopt.ASHAScheduler(10, 5), "min_resource"),
    (lambda: hpopt.ASHAScheduler(1, 27, reduction_factor=1), "reduction_factor"),
    (lambda: hpopt.ASHAScheduler(1, 27, reduction_factor=2.5), "reduction_factor"),  # type: ignore[arg-type]
    (lambda: hpopt.ASHAScheduler(0, 27), "min_resource"),
    (lambda: hpopt.ASHAScheduler(1, float("nan")), "max_resource"),
    (lambda: hpopt.ASHAScheduler(1, 27, min_early_stopping_rate=-1), "min_early_stopping_rate"),
    (lambda: hpopt.HyperbandScheduler(81, 27), "min_resource"),
    (lambda: hpopt.HyperbandScheduler(1, 27, reduction_factor=0), "reduction_factor"),
    (lambda: hpopt.BOHBScheduler(1, 27, min_points_in_model=0), "min_points_in_model"),
    (lambda: hpopt.PercentileScheduler(101.0), "percentile"),
    (lambda: hpopt.PercentileScheduler(-1.0), "percentile"),
    (lambda: hpopt.PercentileScheduler(50.0, n_warmup_steps=-1), "n_warmup_steps"),
    (lambda: hpopt.PercentileScheduler(50.0, interval_steps=0), "interval_steps"),
    (lambda: hpopt.MedianScheduler(n_min_trials=0), "n_min_trials"),
    (lambda: hpopt.ThresholdScheduler(lower=2.0, upper=1.0), "lower"),
    (lambda: hpopt.ThresholdScheduler(upper=float("nan")), "upper"),
    (lambda: hpopt.PatientScheduler(None, patience=-1), "patience"),
    (lambda: hpopt.PatientScheduler(None, patience=1, min_delta=-0.1), "min_delta"),
    (lambda: hpopt.PatientScheduler("median", patience=1), "wrapped"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "argument"), CASES)
def test_bad_configuration_names_the_argument(make: Callable[[], object], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        make()


def test_reporting_a_step_twice_with_another_value_raises() -> None:
    study = hpopt.create_study(scheduler=hpopt.ASHAScheduler(1, 27))
    trial = study.ask()
    trial.report(0.5, 1)
    trial.report(0.5, 1)  # same value: nothing happens
    with pytest.raises(ValueError, match="already reported"):
        trial.report(0.6, 1)


def test_multi_objective_studies_are_refused_with_a_clear_error() -> None:
    study = hpopt.create_study(
        directions=["minimize", "maximize"], scheduler=hpopt.ASHAScheduler(1, 27)
    )
    trial = study.ask()
    trial.report(0.5, 1)
    with pytest.raises(ValueError, match="single-objective"):
        trial.should_prune()
