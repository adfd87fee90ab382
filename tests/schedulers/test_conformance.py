"""The scheduler conformance kit, run over every scheduler."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import hpopt
from hpopt.schedulers import BaseScheduler
from hpopt.testing import schedulers as kit

#: (name, factory, steps before which the scheduler must never stop a trial)
SCHEDULERS: list[tuple[str, Callable[[], BaseScheduler], int]] = [
    ("median", lambda: hpopt.MedianScheduler(n_startup_trials=3, n_warmup_steps=4), 4),
    ("percentile", lambda: hpopt.PercentileScheduler(25.0, n_warmup_steps=3), 3),
    ("asha", lambda: hpopt.ASHAScheduler(2, 27, reduction_factor=3), 2),
    ("asha-pause", lambda: hpopt.ASHAScheduler(1, 27, pause=True), 1),
    ("successive-halving", lambda: hpopt.SuccessiveHalvingScheduler(3, 27), 3),
    ("hyperband", lambda: hpopt.HyperbandScheduler(1, 27), 1),
    ("hyperband-pause", lambda: hpopt.HyperbandScheduler(3, 27, pause=True), 3),
    ("bohb", lambda: hpopt.BOHBScheduler(1, 27, min_points_in_model=5), 1),
    ("threshold", lambda: hpopt.ThresholdScheduler(lower=0.3, n_warmup_steps=2), 2),
    ("patient", lambda: hpopt.PatientScheduler(None, patience=2, min_delta=0.01), 3),
    (
        "patient-median",
        lambda: hpopt.PatientScheduler(hpopt.MedianScheduler(n_warmup_steps=5), patience=1),
        5,
    ),
]
IDS = [name for name, _, _ in SCHEDULERS]


@pytest.mark.parametrize(("name", "factory", "warmup"), SCHEDULERS, ids=IDS)
def test_never_stops_before_warmup(
    name: str, factory: Callable[[], BaseScheduler], warmup: int
) -> None:
    kit.check_never_stops_before_warmup(factory, warmup)


@pytest.mark.parametrize(("name", "factory", "warmup"), SCHEDULERS, ids=IDS)
def test_lone_trial_continues(name: str, factory: Callable[[], BaseScheduler], warmup: int) -> None:
    kit.check_lone_trial_continues(factory)


@pytest.mark.parametrize(("name", "factory", "warmup"), SCHEDULERS, ids=IDS)
def test_nan_reports_are_handled_as_worst(
    name: str, factory: Callable[[], BaseScheduler], warmup: int
) -> None:
    kit.check_nan_is_worst(factory)


@pytest.mark.parametrize(("name", "factory", "warmup"), SCHEDULERS, ids=IDS)
def test_deterministic(name: str, factory: Callable[[], BaseScheduler], warmup: int) -> None:
    kit.check_deterministic(factory)


def test_the_kit_catches_a_scheduler_that_stops_too_early() -> None:
    class Impatient(BaseScheduler):
        def on_report(self, view, trial, step, value):  # type: ignore[no-untyped-def]
            return hpopt.Decision.STOP if step == 1 else hpopt.Decision.CONTINUE

    with pytest.raises(AssertionError):
        kit.check_never_stops_before_warmup(Impatient, 2)
    with pytest.raises(AssertionError):
        kit.check_lone_trial_continues(Impatient)
