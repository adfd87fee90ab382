"""The parallel optimize loop, run on threads and on real worker processes."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import hpopt
from hpopt import Float, Int, TrialState
from hpopt.execution import ProcessExecutor, RemoteTrial, ThreadExecutor
from hpopt.execution.remote import RemoteTraceback
from hpopt.study.optimize import ObjectiveFailedError

from .helpers import StopAboveScheduler, pruned_objective, quadratic

EXECUTORS = ["thread", "process"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_define_by_run_trials_complete_with_params_from_the_driver(executor: str) -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=1))
    study.optimize(quadratic, n_trials=12, n_jobs=2, executor=executor)
    trials = study.trials
    assert [t.number for t in trials] == list(range(12))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    for t in trials:
        assert set(t.params) == {"x", "y"}
        assert t.value == pytest.approx(t.params["x"] ** 2 + t.params["y"])
        assert "worker" in t.system_attrs
    # All params differ: proposals came from one seeded sampler stream, not copies of it.
    assert len({t.params["x"] for t in trials}) == 12


@pytest.mark.parametrize("executor", EXECUTORS)
def test_declarative_space_config_objective(executor: str) -> None:
    space = {"lr": Float(1e-4, 1e-1, log=True), "layers": Int(1, 4)}
    seen: list[Any] = []

    def objective(config: dict[str, Any], trial: Any) -> float:
        assert isinstance(trial, RemoteTrial)
        # Suggesting a parameter of the space again returns the pre-sampled value.
        assert trial.suggest_float("lr", 1e-4, 1e-1, log=True) == config["lr"]
        return config["lr"] * config["layers"]

    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    study.optimize(
        objective,
        n_trials=8,
        n_jobs=2,
        executor=executor,
        space=space,
        callbacks=[lambda s, r: seen.append(r.number)],
    )
    assert sorted(seen) == list(range(8))
    for t in study.trials:
        assert t.state is TrialState.COMPLETE
        assert t.value == pytest.approx(t.params["lr"] * t.params["layers"])


@pytest.mark.parametrize("executor", EXECUTORS)
def test_report_and_should_prune_reach_the_drivers_scheduler(executor: str) -> None:
    study = hpopt.create_study(
        sampler=hpopt.RandomSampler(seed=3), scheduler=StopAboveScheduler(1.0)
    )
    study.optimize(pruned_objective, n_trials=10, n_jobs=2, executor=executor)
    for t in study.trials:
        x = t.params["x"]
        values = dict(t.intermediate_values)
        if x * 4 > 1.0:  # some step reports a value above the threshold
            assert t.state is TrialState.PRUNED
            first_above = min(s for s in range(5) if x * s > 1.0)
            assert max(values) == first_above
            assert t.user_attrs["stopped_at"] == first_above
        else:
            assert t.state is TrialState.COMPLETE
            assert values == {s: pytest.approx(x * s) for s in range(5)}
    assert {t.state for t in study.trials} == {TrialState.PRUNED, TrialState.COMPLETE}


def failing(trial: Any) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    if trial.number % 2 == 1:
        raise ValueError(f"odd trial {trial.number}")
    return x


@pytest.mark.parametrize("executor", EXECUTORS)
def test_caught_errors_fail_the_trial_with_the_workers_traceback(executor: str) -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    study.optimize(failing, n_trials=6, n_jobs=2, executor=executor)
    failed = [t for t in study.trials if t.state is TrialState.FAIL]
    assert sorted(t.number for t in failed) == [1, 3, 5]
    for t in failed:
        assert t.error is not None
        assert t.error.startswith(f"ValueError: odd trial {t.number}")
        assert "in failing" in t.error  # the worker's frame


@pytest.mark.parametrize("executor", EXECUTORS)
def test_uncaught_error_propagates_and_nothing_is_left_running(executor: str) -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    with pytest.raises(ValueError, match="odd trial") as info:
        study.optimize(failing, n_trials=20, n_jobs=2, executor=executor, catch=())
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "in failing" in str(info.value.__cause__)
    states = [t.state for t in study.trials]
    assert TrialState.RUNNING not in states
    assert len(states) < 20


def test_too_many_failures_in_a_row_stop_the_study() -> None:
    study = hpopt.create_study()
    with pytest.raises(ObjectiveFailedError, match="3 trials failed in a row"):
        study.optimize(
            lambda t: float("nan"),
            n_trials=50,
            n_jobs=2,
            executor="thread",
            max_consecutive_failures=3,
        )
    assert len(study.trials) < 50


def test_study_stop_from_a_callback_starts_no_new_trial() -> None:
    study = hpopt.create_study()

    def stop_after_three(s: hpopt.Study, record: hpopt.FrozenTrial) -> None:
        if len(s.get_trials((TrialState.COMPLETE,))) >= 3:
            s.stop()

    study.optimize(
        lambda t: t.suggest_float("x", 0, 1),
        n_trials=100,
        n_jobs=2,
        executor="thread",
        callbacks=[stop_after_three],
    )
    assert 3 <= len(study.trials) <= 4  # at most the one already running finishes too


def test_thread_executor_runs_trials_at_the_same_time() -> None:
    barrier = threading.Barrier(3, timeout=30)

    def objective(trial: Any) -> float:
        barrier.wait()  # three trials must be running together to pass
        return trial.suggest_float("x", 0, 1)

    study = hpopt.create_study()
    study.optimize(objective, n_trials=6, executor=ThreadExecutor(3))
    assert len(study.get_trials((TrialState.COMPLETE,))) == 6


@pytest.mark.parametrize("n_jobs", [0, -2, -10])
def test_invalid_n_jobs_raises_before_anything_runs(n_jobs: int) -> None:
    study = hpopt.create_study()
    with pytest.raises(ValueError, match="n_jobs"):
        study.optimize(quadratic, n_trials=2, n_jobs=n_jobs)
    assert study.trials == []


def test_unknown_executor_name() -> None:
    study = hpopt.create_study()
    with pytest.raises(ValueError, match="unknown executor 'gpu'"):
        study.optimize(quadratic, n_trials=2, executor="gpu")
    with pytest.raises(TypeError, match="executor"):
        study.optimize(quadratic, n_trials=2, executor=3)
    assert study.trials == []


def test_enqueued_trials_run_first_with_their_params() -> None:
    study = hpopt.create_study()
    study.enqueue_trial({"x": 1.5, "y": 2})
    study.optimize(quadratic, n_trials=3, executor=ProcessExecutor(2))
    first = study.trials[0]
    assert dict(first.params) == {"x": 1.5, "y": 2}
    assert first.value == pytest.approx(1.5**2 + 2)


def test_same_seed_gives_the_same_proposals_by_trial_number() -> None:
    space = {"x": Float(0, 1), "k": Int(0, 100)}

    def run() -> dict[int, dict[str, Any]]:
        study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=7))
        study.optimize(lambda c: c["x"], n_trials=10, n_jobs=2, space=space)
        return {t.number: dict(t.params) for t in study.trials}

    assert run() == run()
