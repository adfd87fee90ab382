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


def test_one_mailbox_serves_every_optimize_call_of_an_executor(local_ray: Any) -> None:
    executor = RayExecutor(n_concurrent=2)
    mailbox = executor._mailbox
    assert mailbox is not None  # made with the executor, before any optimize call
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    for calls in (1, 2):
        study.optimize(pruned_objective, n_trials=3, executor=executor)
        assert len(study.trials) == 3 * calls
        assert executor._mailbox._actor_id == mailbox._actor_id
    assert ray.get(mailbox.reset.remote()) is None  # still alive after both calls


def test_mailbox_wake_ends_a_waiting_take_and_reset_clears_it(local_ray: Any) -> None:
    from hpopt.execution.ray import _new_mailbox

    mailbox = _new_mailbox()
    waiting = mailbox.take.remote(600)
    mailbox.wake.remote()
    assert ray.get(waiting, timeout=60) == []  # not after its 600 s
    ray.get(mailbox.reset.remote())
    call = mailbox.call.remote(7, "suggest", ("x",))
    batch = ray.get(mailbox.take.remote(600), timeout=60)
    assert [(number, method) for _, number, method, _ in batch] == [(7, "suggest")]
    ray.get(mailbox.reset.remote())  # the unanswered call is cancelled
    with pytest.raises(ray.exceptions.RayError):
        ray.get(call, timeout=60)
    assert ray.get(mailbox.take.remote(0.05), timeout=60) == []  # the wake was cleared
