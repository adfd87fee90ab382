"""Worker processes: real processes, real kill -9, GPU slots, pickling errors."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import hpopt
from hpopt import TrialState
from hpopt.execution import ProcessExecutor, UnpicklableObjectiveError
from hpopt.testing.storage_worker import wait_until

from .helpers import burn_cpu, victim_objective


def kill_victim_when_ready(directory: Path) -> threading.Thread:
    """Start a thread that SIGKILLs the process named in ``directory/victim``."""

    def kill() -> None:
        wait_until((directory / "victim.ready").exists, 120, "the victim trial to start")
        os.kill(int((directory / "victim").read_text()), signal.SIGKILL)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def check_killed_trial_failed_then_retried(study: hpopt.Study, n_trials: int) -> None:
    trials = study.trials
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    failed = [t for t in trials if t.state is TrialState.FAIL]
    assert len(complete) == n_trials
    assert len(failed) == 1, [t.error for t in failed]
    (dead,) = failed
    assert dead.error is not None and dead.error.startswith("worker lost:")
    retries = [t for t in trials if t.system_attrs.get("retry_of") == dead.number]
    assert len(retries) == 1
    assert retries[0].state is TrialState.COMPLETE
    assert dict(retries[0].params) == dict(dead.params)
    assert retries[0].system_attrs["retry_attempt"] == 1
    assert TrialState.RUNNING not in {t.state for t in trials}


def test_kill_9_of_a_worker_fails_the_trial_and_retries_it(tmp_path: Path) -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    killer = kill_victim_when_ready(tmp_path)
    study.optimize(victim_objective(str(tmp_path)), n_trials=6, n_jobs=2)
    killer.join()
    check_killed_trial_failed_then_retried(study, 6)
    dead = study.get_trials((TrialState.FAIL,))[0]
    assert "killed by SIGKILL while running the trial" in (dead.error or "")


def test_no_retry_when_max_retries_is_zero(tmp_path: Path) -> None:
    study = hpopt.create_study()
    killer = kill_victim_when_ready(tmp_path)
    study.optimize(
        victim_objective(str(tmp_path)), n_trials=4, executor=ProcessExecutor(2, max_retries=0)
    )
    killer.join()
    states = [t.state for t in study.trials]
    assert states.count(TrialState.FAIL) == 1
    assert states.count(TrialState.COMPLETE) == 3
    assert not any("retry_of" in t.system_attrs for t in study.trials)


def cpu_objective(trial: Any) -> float:
    start = time.time()
    burn_cpu(0.5)
    trial.set_user_attr("span", [start, time.time()])
    return trial.suggest_float("x", 0, 1)


def sleep_objective(trial: Any) -> float:
    start = time.time()
    time.sleep(0.5)  # the work itself, not synchronization
    trial.set_user_attr("span", [start, time.time()])
    return trial.suggest_float("x", 0, 1)


def busy_seconds(objective: Any, n_workers: int) -> float:
    """Seconds from the first trial's start to the last trial's end, measured inside the
    workers (worker start-up, which depends on the machine's load, is left out)."""
    study = hpopt.create_study()
    study.optimize(objective, n_trials=8, executor=ProcessExecutor(n_workers))
    trials = study.get_trials((TrialState.COMPLETE,))
    assert len(trials) == 8
    assert len({t.system_attrs["worker"] for t in trials}) == n_workers
    spans = [t.user_attrs["span"] for t in trials]
    return max(end for _, end in spans) - min(start for start, _ in spans)


def test_two_processes_run_trials_at_the_same_time() -> None:
    one, two = busy_seconds(sleep_objective, 1), busy_seconds(sleep_objective, 2)
    assert one / two > 1.5, f"1 process: {one:.2f} s, 2 processes: {two:.2f} s"


@pytest.mark.slow
def test_two_processes_are_faster_than_one_on_cpu_bound_trials() -> None:
    cpus = os.cpu_count() or 1
    if cpus < 2 or os.getloadavg()[0] > cpus - 1.5:
        pytest.skip(f"needs two idle cores (load average {os.getloadavg()[0]:.1f}, {cpus} CPUs)")
    one, two = busy_seconds(cpu_objective, 1), busy_seconds(cpu_objective, 2)
    assert one / two > 1.5, f"1 process: {one:.2f} s, 2 processes: {two:.2f} s"


def report_devices(directory: str, n_workers: int) -> Any:
    """An objective that records its devices, once every worker has started a trial."""

    def objective(trial: Any) -> float:
        (Path(directory) / str(os.getpid())).touch()
        wait_until(lambda: len(os.listdir(directory)) >= n_workers, 120, "all workers")
        return report(trial)

    return objective


def report(trial: Any) -> float:
    trial.set_user_attr("cuda", os.environ.get("CUDA_VISIBLE_DEVICES"))
    trial.set_user_attr("pid", os.getpid())
    trial.set_user_attr("omp", os.environ.get("OMP_NUM_THREADS"))
    return trial.suggest_float("x", 0, 1)


def test_each_worker_gets_its_own_gpus(tmp_path: Path) -> None:
    study = hpopt.create_study()
    executor = ProcessExecutor(4, resources={"gpu": 2, "cpu": 3}, gpu_ids=["0", "1", "2", "3", "4"])
    study.optimize(report_devices(str(tmp_path), 2), n_trials=8, executor=executor)
    by_pid: dict[int, set[str]] = {}
    for t in study.trials:
        assert t.state is TrialState.COMPLETE
        by_pid.setdefault(t.user_attrs["pid"], set()).add(t.user_attrs["cuda"])
        assert t.system_attrs["gpu_ids"] == t.user_attrs["cuda"].split(",")
        assert t.user_attrs["omp"] == "3"
    # 5 devices, 2 per trial: two workers (not four), each always on its own pair.
    assert len(by_pid) == 2
    assert sorted(next(iter(s)) for s in by_pid.values()) == ["0,1", "2,3"]
    assert all(len(s) == 1 for s in by_pid.values())


def test_gpu_request_without_gpus_is_refused_before_any_trial() -> None:
    study = hpopt.create_study()
    with pytest.raises(ValueError, match="needs 1 GPU"):
        study.optimize(
            report, n_trials=2, executor=ProcessExecutor(2, resources={"gpu": 1}, gpu_ids=[])
        )
    assert study.trials == []


def test_unpicklable_objective_is_named_before_any_trial() -> None:
    lock = threading.Lock()

    def objective(trial: Any) -> float:
        with lock:
            return trial.suggest_float("x", 0, 1)

    study = hpopt.create_study()
    with pytest.raises(UnpicklableObjectiveError) as info:
        study.optimize(objective, n_trials=3, n_jobs=2)
    message = str(info.value)
    assert "variable 'lock' captured by" in message
    assert "lock" in message and "cannot pickle" in message
    assert "executor='thread'" in message
    assert study.trials == []
    # The same objective runs in threads.
    study.optimize(objective, n_trials=3, n_jobs=2, executor="thread")
    assert len(study.trials) == 3


def test_closures_and_lambdas_run_in_processes() -> None:
    offset = 10.0
    study = hpopt.create_study()
    study.optimize(lambda t: offset + t.suggest_float("x", 0, 1), n_trials=4, n_jobs=2)
    assert all(t.value is not None and t.value >= offset for t in study.trials)
    assert len({t.system_attrs["worker"] for t in study.trials}) >= 1
