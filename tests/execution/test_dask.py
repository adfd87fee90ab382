"""DaskExecutor on a LocalCluster, and on a scheduler and workers started from the CLI."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hpopt
from hpopt import Float, TrialState
from hpopt.execution import DaskExecutor
from hpopt.testing.storage_worker import wait_until

from .helpers import StopAboveScheduler, pruned_objective, quadratic, victim_objective
from .test_process import check_killed_trial_failed_then_retried

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_define_by_run_with_reports_and_pruning(client: Any) -> None:
    study = hpopt.create_study(
        sampler=hpopt.RandomSampler(seed=3), scheduler=StopAboveScheduler(1.0)
    )
    study.optimize(pruned_objective, n_trials=8, executor=DaskExecutor(client))
    assert len(study.trials) == 8
    for t in study.trials:
        pruned = t.params["x"] * 4 > 1.0
        assert t.state is (TrialState.PRUNED if pruned else TrialState.COMPLETE)
    assert len({t.system_attrs["worker"] for t in study.trials}) >= 1


def test_declarative_space(client: Any) -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    study.optimize(
        lambda c: c["x"] ** 2, n_trials=6, executor=DaskExecutor(client), space={"x": Float(-1, 1)}
    )
    assert all(t.value == pytest.approx(t.params["x"] ** 2) for t in study.trials)


def test_killed_dask_worker_fails_the_trial_and_it_is_retried(client: Any, tmp_path: Path) -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))

    def kill() -> None:
        wait_until((tmp_path / "victim.ready").exists, 120, "the victim trial to start")
        os.kill(int((tmp_path / "victim").read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    study.optimize(victim_objective(str(tmp_path)), n_trials=6, executor=DaskExecutor(client))
    killer.join()
    check_killed_trial_failed_then_retried(study, 6)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the killed worker


def test_unreachable_scheduler_is_a_clear_error_and_writes_nothing() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    study = hpopt.create_study()
    executor = DaskExecutor(f"tcp://127.0.0.1:{port}", connect_timeout=2)
    with pytest.raises(
        ConnectionError, match=f"could not reach the Dask scheduler at 'tcp://127.0.0.1:{port}'"
    ):
        study.optimize(quadratic, n_trials=3, executor=executor)
    assert study.trials == []


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_scheduler_and_two_workers_started_from_the_command_line(tmp_path: Path) -> None:
    dask = shutil.which("dask") or pytest.skip("the dask command is not installed")
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads parent process ids from /proc")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    common = {
        "env": env,
        "cwd": tmp_path,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **common,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    **common,
                )
            )
        with distributed.Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
            study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
            study.optimize(quadratic, n_trials=10, executor=DaskExecutor(address))
            assert c.status == "running"  # a client passed by address is ours, not theirs
        trials = study.trials
        assert [t.number for t in trials] == list(range(10))
        assert all(t.state is TrialState.COMPLETE for t in trials)
        # Trials ran in processes of the `dask worker` commands (their nannies' children).
        pids = {int(t.system_attrs["worker"].rsplit(":", 1)[1]) for t in trials}
        assert {parent_pid(pid) for pid in pids} <= {p.pid for p in procs[1:]}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
