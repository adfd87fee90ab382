"""A parallel driver beats for the trials its workers run; killed, its trials are reaped.

Real processes: a driver started with ``python -m hpopt.testing.storage_worker`` runs
``optimize(n_jobs=2)`` on worker processes or a Dask ``LocalCluster`` and is killed with
SIGKILL while both workers are inside a trial.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import hpopt
from hpopt.storage.admin import reap
from hpopt.study.heartbeat import RETRY_OF_KEY
from hpopt.testing.storage_worker import value_of, wait_until
from hpopt.trial.state import TrialState

pytestmark = pytest.mark.slow

INTERVAL, GRACE = 0.2, 1.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet collected by its parent) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("mode", ["parallel-driver", "dask-driver"])
def test_killed_parallel_driver_trials_go_stale_and_are_retried(
    mode: str, storage_url: str, tmp_path: Path
) -> None:
    if mode == "dask-driver":
        pytest.importorskip("distributed")
    name = f"pdrv-{uuid.uuid4().hex[:8]}"
    study = hpopt.create_study(
        storage=storage_url,
        study_name=name,
        heartbeat_interval=INTERVAL,
        grace_period=GRACE,
        retry_failed=1,
    )
    args = [sys.executable, "-m", "hpopt.testing.storage_worker", mode, storage_url, name]
    driver = subprocess.Popen([*args, "4", "0", str(tmp_path)], stderr=subprocess.DEVNULL)
    worker_pids: list[int] = []
    try:
        both_inside = "both workers inside a trial"
        wait_until(lambda: len(list(tmp_path.glob("pid-?"))) == 2, 180, both_inside)
        worker_pids = [int(p.read_text()) for p in tmp_path.glob("pid-?")]
        assert os.getpid() not in worker_pids and driver.pid not in worker_pids
        running = study.get_trials((TrialState.RUNNING,))
        assert len(running) == 2

        # While the driver lives, its heartbeat keeps the workers' trials alive: reaping
        # for several grace periods fails none of them.
        until = time.monotonic() + 3 * GRACE
        while time.monotonic() < until:
            assert reap(study.storage, name) == []
            time.sleep(INTERVAL / 2)

        os.kill(driver.pid, signal.SIGKILL)
        killed = time.monotonic()
        driver.wait(30)

        def reaped() -> bool:
            reap(study.storage, name)
            return not study.get_trials((TrialState.RUNNING,))

        wait_until(reaped, 30, "the killed driver's trials to be reaped")
        # Stale after GRACE without a beat; slack for a busy machine's scheduling.
        assert time.monotonic() - killed <= GRACE + 5.0
        # The killed driver's workers do not run on as orphans.
        wait_until(lambda: not any(map(_alive, worker_pids)), 30, "the orphaned workers to exit")
    finally:
        if driver.poll() is None:
            driver.kill()
        for pid in worker_pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

    failed = {t.number: t for t in study.get_trials((TrialState.FAIL,))}
    assert set(failed) == {t.number for t in running}
    assert all("stale" in (t.error or "") for t in failed.values())
    retries = study.get_trials((TrialState.WAITING,))
    assert sorted(t.system_attrs[RETRY_OF_KEY] for t in retries) == sorted(failed)
    for retry in retries:
        assert retry.system_attrs["fixed_params"] == dict(
            failed[retry.system_attrs[RETRY_OF_KEY]].params
        )

    # Another driver takes the retries first and finishes the study.
    (tmp_path / "go").touch()
    study.optimize(
        lambda t: value_of(
            {
                "x": t.suggest_float("x", -5.0, 5.0),
                "y": t.suggest_int("y", 0, 10),
                "c": t.suggest_categorical("c", ["a", "b"]),
            }
        ),
        n_trials=2,
        show_progress_bar=False,
    )
    trials = study.trials
    done = [t for t in trials if t.state is TrialState.COMPLETE]
    assert sorted(t.system_attrs[RETRY_OF_KEY] for t in done) == sorted(failed)
    for t in done:
        assert dict(t.params) == dict(failed[t.system_attrs[RETRY_OF_KEY]].params)
        assert t.values == (value_of(dict(t.params)),)
    study.storage.close()
