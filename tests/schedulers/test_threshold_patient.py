"""Threshold and patient schedulers: decisions checked exactly."""

from __future__ import annotations

import math

import hpopt
from hpopt.schedulers import BaseScheduler, Decision


def _decisions(
    scheduler: BaseScheduler, curve: list[float], direction: str = "minimize"
) -> list[Decision]:
    study = hpopt.create_study(direction=direction, scheduler=scheduler)
    trial = study.ask()
    out = []
    for step, v in enumerate(curve):
        trial.report(v, step)
        out.append(trial.decision())
    return out


C, S = Decision.CONTINUE, Decision.STOP


def test_threshold_bounds_and_non_finite() -> None:
    assert _decisions(hpopt.ThresholdScheduler(upper=2.0), [1.0, 2.0, 2.5]) == [C, C, S]
    assert _decisions(hpopt.ThresholdScheduler(lower=0.0), [1.0, 0.0, -0.1]) == [C, C, S]
    assert _decisions(hpopt.ThresholdScheduler(), [1.0, math.nan]) == [C, S]
    assert _decisions(hpopt.ThresholdScheduler(), [1.0, -math.inf]) == [C, S]


def test_threshold_warmup_and_interval() -> None:
    sched = hpopt.ThresholdScheduler(upper=0.0, n_warmup_steps=2, interval_steps=2)
    assert _decisions(sched, [1.0] * 5) == [C, C, S, C, S]


def test_patient_alone_stops_after_patience_reports_without_improvement() -> None:
    sched = hpopt.PatientScheduler(None, patience=2)
    assert _decisions(sched, [5.0, 4.0, 4.0, 4.5, 4.0]) == [C, C, C, C, S]
    # An improvement inside the window keeps it going.
    assert _decisions(sched, [5.0, 4.0, 4.5, 3.9, 4.0, 4.1]) == [C] * 6


def test_patient_min_delta_and_maximize() -> None:
    sched = hpopt.PatientScheduler(None, patience=1, min_delta=0.5)
    assert _decisions(sched, [5.0, 4.8, 4.7]) == [C, C, S]  # improvements below 0.5
    assert _decisions(sched, [5.0, 4.0, 3.0], "maximize") == [C, C, S]
    assert _decisions(sched, [1.0, 2.0, 3.0], "maximize") == [C, C, C]


def test_patient_defers_to_the_wrapped_scheduler() -> None:
    sched = hpopt.PatientScheduler(hpopt.ThresholdScheduler(upper=4.5), patience=1)
    # Stagnating but within the wrapped bounds: goes on; out of bounds while improving: on.
    assert _decisions(sched, [5.0, 4.0, 4.0, 4.0]) == [C, C, C, C]
    assert _decisions(sched, [9.0, 8.0, 7.0]) == [C, C, C]
    assert _decisions(sched, [9.0, 8.0, 8.0, 8.0]) == [C, C, C, S]


def test_patient_nan_is_never_an_improvement() -> None:
    sched = hpopt.PatientScheduler(None, patience=1)
    assert _decisions(sched, [1.0, math.nan, math.nan]) == [C, C, S]
