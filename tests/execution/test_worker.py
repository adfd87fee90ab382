"""``hpopt worker`` / run_worker: workers that meet in the storage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import hpopt
from hpopt import InMemoryStorage, TrialState
from hpopt.execution import run_worker
from hpopt.execution.worker import load_objective_ref
from hpopt.study.heartbeat import reap_stale_trials
from hpopt.testing.storage_worker import wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_two_workers_share_a_study_without_losing_or_repeating_a_trial() -> None:
    storage = InMemoryStorage()
    hpopt.create_study(storage=storage, study_name="shared")
    counts: list[int] = []

    def work(seed: int) -> None:
        counts.append(
            run_worker(
                storage,
                "shared",
                "execution.helpers:quadratic",
                15,
                sampler=hpopt.RandomSampler(seed=seed),
                heartbeat_interval=0.5,
            )
        )

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    study = hpopt.load_study(study_name="shared", storage=storage)
    assert counts == [15, 15]
    assert [t.number for t in study.trials] == list(range(30))
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert len({(t.params["x"], t.params["y"]) for t in study.trials}) == 30


def test_a_dead_workers_trial_is_failed_as_stale_and_retried_with_its_params() -> None:
    storage = InMemoryStorage()
    study = hpopt.create_study(storage=storage, study_name="stale")
    # What a worker that died mid-trial leaves behind: a RUNNING trial with an old heartbeat.
    dead = study.ask()
    x = dead.suggest_float("x", -2.0, 2.0)
    y = dead.suggest_int("y", 0, 3)
    dead.flush()
    storage.record_heartbeat(dead.trial_id)
    wait_until(
        lambda: (
            storage.fail_stale_trials(study.study_id, 3600) == []
            and _age(storage, dead.trial_id) > 0.3
        ),
        10,
        "the heartbeat to age",
    )
    ran = run_worker(
        storage, "stale", "execution.helpers:quadratic", 3, heartbeat_interval=0.1, grace_period=0.3
    )
    assert ran == 3
    trials = hpopt.load_study(study_name="stale", storage=storage).trials
    assert trials[0].state is TrialState.FAIL and "stale" in (trials[0].error or "")
    retry = trials[1]
    assert retry.system_attrs["retry_of"] == 0
    assert dict(retry.params) == {"x": x, "y": y}
    assert retry.state is TrialState.COMPLETE
    assert [t.state for t in trials[1:]] == [TrialState.COMPLETE] * 3


def _age(storage: InMemoryStorage, trial_id: int) -> float:
    import time

    study_id, number = storage._trial_index[trial_id]
    return time.monotonic() - storage._studies[study_id].heartbeats[number]


def test_reaping_twice_retries_once() -> None:
    storage = InMemoryStorage()
    study = hpopt.create_study(storage=storage)
    trial = study.ask()
    storage.record_heartbeat(trial.trial_id)
    wait_until(lambda: _age(storage, trial.trial_id) > 0.05, 10, "the heartbeat to age")
    assert reap_stale_trials(storage, study.study_id, 0.05, retry_failed=1) == [0]
    assert reap_stale_trials(storage, study.study_id, 0.05, retry_failed=1) == []
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.WAITING]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no_colon", "module:function"),
        ("execution.helpers:missing", "has no attribute 'missing'"),
        ("execution.helpers:ROOT_CONSTANT", "not a function"),
    ],
)
def test_bad_objective_references(ref: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_objective_ref(ref)


def test_worker_runs_trials_of_a_study_with_heartbeats_recorded() -> None:
    storage = InMemoryStorage()
    study = hpopt.create_study(storage=storage, study_name="beats")
    seen: list[bool] = []

    def objective(trial: Any) -> float:
        study_id, number = storage._trial_index[trial.trial_id]
        seen.append(number in storage._studies[study_id].heartbeats)
        return trial.suggest_float("x", 0, 1)

    assert run_worker(storage, "beats", objective, 3) == 3
    assert seen == [True, True, True]
    assert len(study.trials) == 3


# ---------------------------------------------------------------------- real databases
def sql_storage_or_skip() -> Any:
    try:
        from hpopt.storage.sql import SQLStorage  # type: ignore[import-not-found]
    except ImportError as e:
        pytest.skip(f"hpopt.storage.sql is not available on this branch yet ({e})")
    return SQLStorage


def start_workers(
    url: str,
    study: str,
    n_workers: int,
    n_trials: int,
    tmp: Path,
    objective: str = "execution.helpers:quadratic",
) -> list[Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    command = [
        sys.executable,
        "-m",
        "hpopt.cli.worker",
        "--storage",
        url,
        "--study",
        study,
        "--objective",
        objective,
        "--n-trials",
        str(n_trials),
        "--heartbeat-interval",
        "0.5",
        "--grace-period",
        "3",
    ]
    return [subprocess.Popen(command, env=env, cwd=tmp) for _ in range(n_workers)]


def check_shared_study(url: str, name: str, n_expected: int) -> None:
    study = hpopt.load_study(study_name=name, storage=url)
    trials = study.trials
    assert [t.number for t in trials] == list(range(len(trials)))
    assert len(study.get_trials((TrialState.COMPLETE,))) == n_expected
    assert TrialState.RUNNING not in {t.state for t in trials}


@pytest.mark.slow
def test_worker_processes_share_a_sqlite_study(tmp_path: Path) -> None:
    sql_storage_or_skip()
    url = f"sqlite:///{tmp_path / 'study.db'}"
    hpopt.create_study(storage=url, study_name="sqlite-shared")
    procs = start_workers(url, "sqlite-shared", 3, 8, tmp_path)
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    check_shared_study(url, "sqlite-shared", 24)


@pytest.mark.slow
@pytest.mark.postgres
def test_worker_processes_share_a_postgres_study_and_survive_kill_9(tmp_path: Path) -> None:
    url = os.environ.get("HPOPT_TEST_POSTGRES_URL") or pytest.skip(
        "set HPOPT_TEST_POSTGRES_URL to run PostgreSQL tests"
    )
    sql_storage_or_skip()
    name = f"workers-{os.getpid()}-{tmp_path.name}"
    hpopt.create_study(storage=url, study_name=name)
    procs = start_workers(url, name, 3, 8, tmp_path)
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    check_shared_study(url, name, 24)

    # A worker killed during a trial leaves it RUNNING; a worker started after the grace
    # period fails it as stale and runs it again with the same parameters.
    (victim,) = start_workers(url, name, 1, 100, tmp_path, objective="execution.helpers:slow")
    study = hpopt.load_study(study_name=name, storage=url)
    # Mid-trial: its parameter is suggested (and, under heartbeats, written at once).
    wait_until(
        lambda: any("x" in t.params for t in study.get_trials((TrialState.RUNNING,))),
        120,
        "a running trial with its parameter",
    )
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL
    (dead,) = study.get_trials((TrialState.RUNNING,))
    killed_at = time.monotonic()
    wait_until(lambda: time.monotonic() - killed_at > 3.5, 10, "the grace period to pass")
    (rescuer,) = start_workers(url, name, 1, 2, tmp_path)
    assert rescuer.wait(timeout=300) == 0
    trials = hpopt.load_study(study_name=name, storage=url).trials
    record = trials[dead.number]
    assert record.state is TrialState.FAIL and "stale" in (record.error or "")
    (retry,) = [t for t in trials if t.system_attrs.get("retry_of") == dead.number]
    # The retry reuses every parameter the dead trial had suggested (the rescuer's
    # objective also suggests "y", which the dead trial never reached).
    assert retry.state is TrialState.COMPLETE and record.params
    assert {k: retry.params[k] for k in record.params} == dict(record.params)
    assert TrialState.RUNNING not in {t.state for t in trials}
