"""A worker process for multi-process storage tests and benchmarks.

``python -m hpopt.testing.storage_worker MODE URL STUDY N SEED DIR``; ``DIR`` holds the files
the test and the worker synchronize through. Every COMPLETE trial's value is
``value_of(trial.params)``, so a test can check each stored value.

Modes
-----
run
    Run N trials of :func:`objective`.
victim
    Take one trial, wait until its heartbeat has written its parameters, create
    ``DIR/victim-ready`` (holding the trial number), then block until killed.
survivor
    Wait for ``DIR/go``, then run N trials that each take 0.1 s.
driver
    Run trials (0.05 s each) until the study has N COMPLETE trials.
parallel-driver, dask-driver
    ``optimize(n_trials=N, n_jobs=2)`` on 2 worker processes (or a Dask ``LocalCluster`` of
    2 worker processes); each trial writes its worker's pid to ``DIR/pid-<number>`` and
    then waits for ``DIR/go`` (so the test can kill the driver while its workers run).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import hpopt
from hpopt.trial.state import TrialState


def value_of(params: Mapping[str, Any]) -> float:
    """The objective's value for ``params``; tests check every stored value against it."""
    x, y, c = float(params["x"]), int(params["y"]), params["c"]
    return (x - 1.0) ** 2 + y + (0.5 if c == "b" else 0.0)


def objective(trial: hpopt.Trial) -> float:
    params: dict[str, Any] = {
        "x": trial.suggest_float("x", -5.0, 5.0),
        "y": trial.suggest_int("y", 0, 10),
        "c": trial.suggest_categorical("c", ["a", "b"]),
    }
    return value_of(params)


def wait_for(path: Path, timeout: float = 120.0) -> None:
    wait_until(path.exists, timeout, f"{path} to appear")


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``condition`` until it is true; ``TimeoutError`` naming ``what`` after ``timeout`` s.

    For tests that watch other processes through the storage or the file system.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def gated(folder: Path, trial: hpopt.Trial) -> float:
    """:func:`objective` that announces its worker's pid, then waits for ``folder/go``."""
    value = objective(trial)
    pid_file = folder / f"pid-{trial.number}"
    (folder / f"pid-{trial.number}.tmp").write_text(str(os.getpid()))
    (folder / f"pid-{trial.number}.tmp").rename(pid_file)
    wait_for(folder / "go", timeout=600)
    return value


def main(mode: str, url: str, study_name: str, n: int, seed: int, folder: Path) -> None:
    sampler = hpopt.RandomSampler(seed=seed)
    study = hpopt.load_study(study_name=study_name, storage=url, sampler=sampler)
    if mode == "run":
        study.optimize(objective, n_trials=n, show_progress_bar=False)
    elif mode == "victim":
        trial = study.ask()
        objective(trial)
        deadline = time.monotonic() + 60
        while not study.storage.get_trial(trial.trial_id).params:
            if time.monotonic() > deadline:
                raise TimeoutError("the heartbeat never wrote the parameters")
            time.sleep(0.01)
        (folder / "victim-ready.tmp").write_text(str(trial.number))
        (folder / "victim-ready.tmp").rename(folder / "victim-ready")
        while True:
            time.sleep(1)
    elif mode == "survivor":
        wait_for(folder / "go")

        def slow(trial: hpopt.Trial) -> float:
            value = objective(trial)
            time.sleep(0.1)
            return value

        study.optimize(slow, n_trials=n, show_progress_bar=False)
    elif mode == "driver":

        def steady(trial: hpopt.Trial) -> float:
            value = objective(trial)
            time.sleep(0.05)
            return value

        while study.storage.get_n_trials(study.study_id, (TrialState.COMPLETE,)) < n:
            study.optimize(steady, n_trials=1, show_progress_bar=False)
    elif mode in ("parallel-driver", "dask-driver"):
        executor: Any = None
        if mode == "dask-driver":
            from distributed import Client, LocalCluster

            from hpopt.execution import DaskExecutor

            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=2, threads_per_worker=1, dashboard_address=None
            )
            executor = DaskExecutor(Client(cluster))  # type: ignore[no-untyped-call]
        target = functools.partial(gated, folder)
        study.optimize(target, n_trials=n, n_jobs=2, executor=executor, show_progress_bar=False)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    mode, url, name, n, seed, folder = sys.argv[1:7]
    main(mode, url, name, int(n), int(seed), Path(folder))
