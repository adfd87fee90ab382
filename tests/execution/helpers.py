"""Objectives and helpers shared by the execution tests (importable by worker processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import hpopt
from hpopt.schedulers import BaseScheduler, Decision


def quadratic(trial: Any) -> float:
    x = trial.suggest_float("x", -2.0, 2.0)
    y = trial.suggest_int("y", 0, 3)
    return x**2 + y


def slow(trial: Any) -> float:
    """A trial that takes a while (long enough to be killed in the middle)."""
    x = trial.suggest_float("x", -2.0, 2.0)
    time.sleep(2.0)  # the work itself
    return x**2


def burn_cpu(seconds: float) -> float:
    """Busy work for about ``seconds`` of one core's time (no sleeping)."""
    end = time.process_time() + seconds
    acc = 0.0
    while time.process_time() < end:
        for i in range(10_000):
            acc += i * 1e-9
    return acc


def victim_objective(directory: str) -> Any:
    """An objective whose first trial to start writes its pid to ``directory/victim`` and
    then waits (up to 120 s) to be killed; every other trial finishes at once."""

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        path = Path(directory) / "victim"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return x**2
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        (Path(directory) / "victim.ready").touch()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.05)
        raise RuntimeError("the victim was not killed")

    return objective


class StopAboveScheduler(BaseScheduler):
    """Stops a trial as soon as it reports a value above ``threshold``."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def on_report(self, view: Any, trial: Any, step: int, value: float) -> Decision:
        return Decision.STOP if value > self.threshold else Decision.CONTINUE


def pruned_objective(trial: Any) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    for step in range(5):
        trial.report(x * step, step)
        if trial.should_prune():
            trial.set_user_attr("stopped_at", step)
            raise hpopt.TrialPruned()
    return x


ROOT_CONSTANT = 3
