"""Many real processes on one database: numbering, crash (kill -9) recovery, resume."""

from __future__ import annotations

import datetime as _dt
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import hpopt
from hpopt.storage.admin import reap
from hpopt.study.heartbeat import RETRY_OF_KEY
from hpopt.testing.storage_worker import value_of, wait_until
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

pytestmark = pytest.mark.slow

INTERVAL, GRACE = 0.2, 1.0


def spawn(
    mode: str, url: str, study: str, n: int, seed: int, folder: Path
) -> subprocess.Popen[bytes]:
    module = "hpopt.testing.storage_worker"
    args = [sys.executable, "-m", module, mode, url, study, str(n), str(seed), str(folder)]
    return subprocess.Popen(args, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()


def check_trials(trials: list[FrozenTrial]) -> None:
    """Numbers 0..n-1, nothing left RUNNING, every COMPLETE value equal to f(params)."""
    assert [t.number for t in trials] == list(range(len(trials)))
    assert not [t.number for t in trials if not t.state.is_finished()]
    for t in trials:
        if t.state is TrialState.COMPLETE:
            assert t.values == (value_of(dict(t.params)),), t


@pytest.mark.parametrize(("n_procs", "n_trials"), [(8, 20)])
def test_processes_share_one_study(
    storage_url: str, tmp_path: Path, n_procs: int, n_trials: int
) -> None:
    name = f"mp-{uuid.uuid4().hex[:8]}"
    hpopt.create_study(storage=storage_url, study_name=name).storage.close()
    procs = [spawn("run", storage_url, name, n_trials, i, tmp_path) for i in range(n_procs)]
    for p in procs:
        finish(p)
    trials = hpopt.load_study(study_name=name, storage=storage_url).trials
    assert len(trials) == n_procs * n_trials
    assert all(t.state is TrialState.COMPLETE for t in trials)
    check_trials(trials)


def test_killed_worker_trial_fails_and_is_retried_once(storage_url: str, tmp_path: Path) -> None:
    name = f"kill-{uuid.uuid4().hex[:8]}"
    hpopt.create_study(
        storage=storage_url,
        study_name=name,
        heartbeat_interval=INTERVAL,
        grace_period=GRACE,
        retry_failed=1,
    ).storage.close()
    n_survivors, n_each = 3, 20
    victim = spawn("victim", storage_url, name, 1, 99, tmp_path)
    survivors = [spawn("survivor", storage_url, name, n_each, i, tmp_path) for i in range(3)]
    try:
        wait_until(lambda: (tmp_path / "victim-ready").exists(), 120, "the victim's trial")
        victim_number = int((tmp_path / "victim-ready").read_text())
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = _dt.datetime.now()
        victim.wait(30)
        (tmp_path / "go").touch()
        for p in survivors:
            finish(p)
    finally:
        for p in (victim, *survivors):
            if p.poll() is None:
                p.kill()
    trials = hpopt.load_study(study_name=name, storage=storage_url).trials
    check_trials(trials)
    assert len(trials) == 1 + n_survivors * n_each
    dead = trials[victim_number]
    assert dead.state is TrialState.FAIL and "stale" in (dead.error or "")
    assert dead.datetime_complete is not None
    # Failed once its heartbeat was older than the grace period, by the next reaping ask (at
    # most one heartbeat interval later); one extra second for a busy machine's scheduling.
    assert (dead.datetime_complete - killed_at).total_seconds() <= GRACE + INTERVAL + 1.0
    retries = [t for t in trials if t.system_attrs.get(RETRY_OF_KEY) == victim_number]
    assert len(retries) == 1
    assert retries[0].state is TrialState.COMPLETE
    assert dict(retries[0].params) == dict(dead.params) and len(dead.params) == 3
    assert sum(t.state is TrialState.FAIL for t in trials) == 1


def test_killed_driver_resumes_where_it_stopped(storage_url: str, tmp_path: Path) -> None:
    name = f"resume-{uuid.uuid4().hex[:8]}"
    study = hpopt.create_study(
        storage=storage_url,
        study_name=name,
        heartbeat_interval=INTERVAL,
        grace_period=GRACE,
        retry_failed=1,
    )
    n, k = 30, 10
    driver = spawn("driver", storage_url, name, n, 1, tmp_path)
    try:
        wait_until(lambda: len(study.get_trials((TrialState.COMPLETE,))) >= k, 120, f"{k} trials")
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(30)
    finally:
        if driver.poll() is None:
            driver.kill()
    before = {t.number: t for t in study.get_trials() if t.state.is_finished()}
    assert len(before) >= k

    # A trial the driver was running when killed goes stale and is failed (and re-queued).
    def orphan_reaped() -> bool:
        reap(study.storage, name)
        return not study.get_trials((TrialState.RUNNING,))

    wait_until(orphan_reaped, 60, "the orphaned trial to be reaped")
    finish(spawn("driver", storage_url, name, n, 2, tmp_path))
    trials = hpopt.load_study(study_name=name, storage=storage_url).trials
    check_trials(trials)
    assert sum(t.state is TrialState.COMPLETE for t in trials) == n
    for number, record in before.items():
        assert trials[number] == record
    study.storage.close()
