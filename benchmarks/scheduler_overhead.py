"""Overhead of ``trial.report`` + ``trial.should_prune`` in a study of 1,000 trials.

One history of ``n_trials`` finished trials, each reporting ``MAX_STEPS`` steps, is built
once (under Hyperband, so every trial carries a bracket) and copied into a fresh study per
scheduler and storage. Each study is then loaded with its scheduler in a new process-local
``Study`` (as a new worker would), one trial warms the caches up (its first call reads the
whole history once: reported as *first call*), and the next trials are timed call by call:
``report(value, step)`` followed by ``should_prune()``, every step. Wall and CPU time (this
process) are both reported, because the machine may be shared.

Optuna's pruners (MedianPruner, SuccessiveHalvingPruner, HyperbandPruner) are timed the same
way on the same history in the same run, as the peer.

Run::

    PYTHONPATH=src python benchmarks/scheduler_overhead.py --storages memory sqlite
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hpopt
from hpopt.schedulers import BaseScheduler

MAX_STEPS = 27
SOURCE = "history"

SCHEDULERS: dict[str, Callable[[], BaseScheduler | None]] = {
    "none": lambda: None,
    "Median": lambda: hpopt.MedianScheduler(),
    "ASHA": lambda: hpopt.ASHAScheduler(1, MAX_STEPS),
    "Hyperband": lambda: hpopt.HyperbandScheduler(1, MAX_STEPS),
}


def build_history(n_trials: int) -> hpopt.InMemoryStorage:
    """``n_trials`` finished trials with full learning curves, in memory."""
    storage = hpopt.InMemoryStorage()
    study = hpopt.create_study(
        storage=storage,
        study_name=SOURCE,
        direction="maximize",
        sampler=hpopt.RandomSampler(seed=0),
        scheduler=hpopt.HyperbandScheduler(1, MAX_STEPS),
    )
    for i in range(n_trials):
        trial = study.ask()
        quality = trial.suggest_float("x", 0.0, 1.0)
        for step in range(1, MAX_STEPS + 1):
            trial.report(0.5 + 0.4 * quality * (1 - 0.9**step) + 1e-6 * i, step)
        state = hpopt.TrialState.COMPLETE if i % 3 == 0 else hpopt.TrialState.PRUNED
        study.tell(trial, trial.intermediate_values[MAX_STEPS], state=state)
    return storage


def time_calls(
    study: Any, n_timed: int, pruned: Any = hpopt.TrialState.PRUNED
) -> tuple[float, list[float], list[float]]:
    """First call (s), then wall and CPU seconds of each later report + should_prune
    (an hpopt or an Optuna study)."""
    wall: list[float] = []
    cpu: list[float] = []
    first = 0.0
    for k in range(n_timed + 1):
        trial = study.ask()
        quality = trial.suggest_float("x", 0.0, 1.0)
        for step in range(1, MAX_STEPS + 1):
            value = 0.5 + 0.4 * quality * (1 - 0.9**step)
            w0, c0 = time.perf_counter(), time.process_time()
            trial.report(value, step)
            trial.should_prune()
            w, c = time.perf_counter() - w0, time.process_time() - c0
            if k == 0 and step == 1:
                first = w
            elif k > 0:
                wall.append(w)
                cpu.append(c)
        study.tell(trial, state=pruned)
    return first, wall, cpu


def optuna_rows(where: str, tmp: str, n_trials: int, n_timed: int) -> list[str]:
    """The same measurement for Optuna's pruners (in memory or SQLite)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dist = optuna.distributions.FloatDistribution(0.0, 1.0)
    source = optuna.create_study(direction="maximize", study_name=SOURCE)
    for i in range(n_trials):
        quality = (i * 7919 % n_trials) / n_trials
        curve = {s: 0.5 + 0.4 * quality * (1 - 0.9**s) + 1e-6 * i for s in range(1, 28)}
        state = optuna.trial.TrialState.COMPLETE if i % 3 == 0 else optuna.trial.TrialState.PRUNED
        source.add_trial(
            optuna.trial.create_trial(
                params={"x": quality},
                distributions={"x": dist},
                value=curve[MAX_STEPS],
                intermediate_values=curve,
                state=state,
            )
        )
    pruners: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
        "Median": lambda: optuna.pruners.MedianPruner(),
        "ASHA (SuccessiveHalvingPruner)": lambda: optuna.pruners.SuccessiveHalvingPruner(),
        "Hyperband": lambda: optuna.pruners.HyperbandPruner(1, MAX_STEPS),
    }
    template = Path(tmp) / "optuna-history.db"
    if where == "sqlite":  # copied into SQLite once (slow), then the file per pruner
        optuna.copy_study(
            from_study_name=SOURCE,
            from_storage=source._storage,
            to_storage=optuna.storages.RDBStorage(f"sqlite:///{template}"),
        )
    rows = []
    for name, make in pruners.items():
        if where == "memory":
            storage: optuna.storages.BaseStorage = optuna.storages.InMemoryStorage()
            optuna.copy_study(
                from_study_name=SOURCE, from_storage=source._storage, to_storage=storage
            )
        else:
            path = Path(tmp) / f"optuna-{name.split()[0]}.db"
            shutil.copyfile(template, path)
            storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
        study = optuna.load_study(
            study_name=SOURCE,
            storage=storage,
            sampler=optuna.samplers.RandomSampler(seed=1),
            pruner=make(),
        )
        first, wall, cpu = time_calls(study, n_timed, optuna.trial.TrialState.PRUNED)
        rows.append(row(f"{where}, Optuna {optuna.__version__}", name, first, wall, cpu))
    return rows


def row(where: str, name: str, first: float, wall: list[float], cpu: list[float]) -> str:
    p95 = statistics.quantiles(wall, n=20)[-1]
    return (
        f"| {where} | {name} | {first * 1e3:.1f} | {statistics.median(wall) * 1e3:.3f} | "
        f"{statistics.fmean(wall) * 1e3:.3f} | {p95 * 1e3:.3f} | "
        f"{statistics.fmean(cpu) * 1e3:.3f} |"
    )


def measure(storages: list[str], n_trials: int, n_timed: int, peer: bool) -> list[str]:
    history = build_history(n_trials)
    rows = [
        "| storage | scheduler | first call (ms) | median wall (ms) | mean wall (ms) | "
        "p95 wall (ms) | mean CPU (ms) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for where in storages:
            for name, make in SCHEDULERS.items():
                if where == "memory":
                    storage: hpopt.InMemoryStorage | str = hpopt.InMemoryStorage()
                else:
                    storage = f"sqlite:///{Path(tmp) / f'{name}.db'}"
                hpopt.copy_study(from_study_name=SOURCE, from_storage=history, to_storage=storage)
                study = hpopt.load_study(
                    study_name=SOURCE,
                    storage=storage,
                    sampler=hpopt.RandomSampler(seed=1),
                    scheduler=make(),
                )
                first, wall, cpu = time_calls(study, n_timed)
                rows.append(row(f"{where}, hpopt", name, first, wall, cpu))
                study.storage.close()
            if peer:
                rows.extend(optuna_rows(where, tmp, n_trials, n_timed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storages", nargs="+", default=["memory", "sqlite"])
    parser.add_argument("--trials", type=int, default=1000, help="finished trials in the study")
    parser.add_argument("--no-peer", action="store_true", help="skip Optuna's pruners")
    parser.add_argument("--timed", type=int, default=8, help="timed trials of 27 calls each")
    args = parser.parse_args()
    for where in args.storages:
        if where not in ("memory", "sqlite"):
            parser.error(f"unknown storage {where!r} (memory or sqlite)")
    start = time.perf_counter()
    print(
        f"report + should_prune with {args.trials} finished trials of {MAX_STEPS} reports "
        f"(hpopt {hpopt.__version__}); {args.timed} timed trials = "
        f"{args.timed * MAX_STEPS} calls per row\n"
    )
    print("\n".join(measure(args.storages, args.trials, args.timed, not args.no_peer)))
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
