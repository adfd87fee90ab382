"""A local Ray that RayExecutor starts itself (no ``ray.init`` by the caller)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import hpopt
from hpopt.execution import RayExecutor

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_owned_local_ray_runs_trials_at_the_drivers_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if ray.is_initialized():
        pytest.skip("a Ray is already running in this process")
    # The raylet (and so every worker) inherits this process's environment.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    )
    monkeypatch.delenv("RAY_worker_niceness", raising=False)

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)  # a define-by-run request to the driver
        trial.set_user_attr("niceness", os.nice(0))
        trial.set_user_attr("pid", os.getpid())
        return x * x

    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    study.optimize(objective, n_trials=4, executor=RayExecutor(n_concurrent=2))
    assert not ray.is_initialized()  # the Ray it started is shut down again
    assert "RAY_worker_niceness" not in os.environ
    assert [t.state for t in study.trials] == [hpopt.TrialState.COMPLETE] * 4
    assert {t.user_attrs["niceness"] for t in study.trials} == {os.nice(0)}
    assert os.getpid() not in {t.user_attrs["pid"] for t in study.trials}
