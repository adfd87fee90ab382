"""RayExecutor on a local Ray (one module-wide start: Ray is slow to start)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hpopt
from hpopt import TrialState
from hpopt.execution import RayExecutor
from hpopt.testing.storage_worker import wait_until

from .helpers import StopAboveScheduler, pruned_objective, victim_objective
from .test_process import check_killed_trial_failed_then_retried

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()


def test_define_by_run_with_reports_and_pruning(local_ray: Any) -> None:
    study = hpopt.create_study(
        sampler=hpopt.RandomSampler(seed=3), scheduler=StopAboveScheduler(1.0)
    )
    study.optimize(pruned_objective, n_trials=6, executor=RayExecutor())
    assert len(study.trials) == 6
    for t in study.trials:
        pruned = t.params["x"] * 4 > 1.0
        assert t.state is (TrialState.PRUNED if pruned else TrialState.COMPLETE)
    assert ray.is_initialized()  # a Ray started by the caller stays up


def test_killed_ray_worker_fails_the_trial_and_it_is_retried(
    local_ray: Any, tmp_path: Path
) -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))

    def kill() -> None:
        wait_until((tmp_path / "victim.ready").exists, 120, "the victim trial to start")
        os.kill(int((tmp_path / "victim").read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    study.optimize(victim_objective(str(tmp_path)), n_trials=4, executor=RayExecutor())
    killer.join()
    check_killed_trial_failed_then_retried(study, 4)
    dead = study.get_trials((TrialState.FAIL,))[0]
    assert "Ray task failed" in (dead.error or "")
