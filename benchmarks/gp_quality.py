"""Quick quality check of GPSampler against Optuna's GPSampler and random search.

Score per problem and seed: ``100 * (1 - (best - f_opt) / (f_rand - f_opt))``, where
``f_rand`` is the mean final best of random search at the same budget (random scores 0).

Run: ``PYTHONPATH=src python benchmarks/gp_quality.py --budget 32 --seeds 4``
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import hpopt
from hpopt.testing import functions

Objective = Callable[[Any], float]


def branin(t: Any) -> float:
    return functions.branin(np.array([t.suggest_float("x1", -5, 10), t.suggest_float("x2", 0, 15)]))


def hartmann6(t: Any) -> float:
    return functions.hartmann6(np.array([t.suggest_float(f"x{i}", 0, 1) for i in range(6)]))


def rosenbrock4(t: Any) -> float:
    x = np.array([t.suggest_float(f"x{i}", -5, 10) for i in range(4)])
    return float((100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())


def mixed(t: Any) -> float:
    x = t.suggest_float("x", -5, 5)
    lr = t.suggest_float("lr", 1e-5, 1, log=True)
    k = t.suggest_int("k", 0, 20)
    c = t.suggest_categorical("c", ["a", "b", "c"])
    base = {"a": 0.35, "b": 0.0, "c": 0.8}[c]
    return base + 0.1 * (x - 1.5) ** 2 + 0.2 * (math.log10(lr) + 2) ** 2 + 0.01 * (k - 12) ** 2


def levy4(t: Any) -> float:
    x = np.array([t.suggest_float(f"x{i}", -10, 10) for i in range(4)])
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    mid = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    return float(head + mid + tail)


def mixed_interacting(t: Any) -> float:
    """The categorical moves the optimum of the numeric parameters (not additive)."""
    opt = t.suggest_categorical("opt", ["sgd", "adam", "rmsprop", "adagrad"])
    lr = t.suggest_float("lr", 1e-5, 1e-1, log=True)
    width = t.suggest_int("width", 8, 512, log=True)
    drop = t.suggest_float("dropout", 0.0, 0.6)
    layers = t.suggest_int("layers", 1, 6)
    best_lr = {"sgd": -1.5, "adam": -3.3, "rmsprop": -3.0, "adagrad": -2.0}[opt]
    offset = {"sgd": 0.08, "adam": 0.0, "rmsprop": 0.03, "adagrad": 0.12}[opt]
    return float(
        offset
        + 0.05 * (math.log10(lr) - best_lr) ** 2
        + 0.02 * (math.log2(width) - 7) ** 2 * (1 + 0.5 * (layers - 3) ** 2 / 9)
        + 0.3 * (drop - 0.2) ** 2
        + 0.01 * abs(layers - 3)
    )


PROBLEMS: dict[str, tuple[Objective, float]] = {
    "branin": (branin, 0.397887),
    "hartmann6": (hartmann6, -3.32237),
    "rosenbrock4": (rosenbrock4, 0.0),
    "mixed": (mixed, 0.0),
    "levy4": (levy4, 0.0),
    "mixed_interacting": (mixed_interacting, 0.0),
}


def run_hpopt(sampler: hpopt.samplers.BaseSampler, objective: Objective, budget: int) -> float:
    study = hpopt.create_study(sampler=sampler)
    study.optimize(objective, n_trials=budget)
    return study.best_value


def run_optuna(objective: Objective, budget: int, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed))
    study.optimize(objective, n_trials=budget)
    return float(study.best_value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--random-runs", type=int, default=64)
    parser.add_argument("--problems", default="branin,hartmann6,rosenbrock4,mixed")
    parser.add_argument("--optimizers", default="hpopt GP,random,Optuna GP")
    args = parser.parse_args()
    names = args.problems.split(",")
    optimizers: dict[str, Callable[[Objective, int, int], float]] = {
        "hpopt GP": lambda f, b, s: run_hpopt(hpopt.GPSampler(seed=s), f, b),
        "random": lambda f, b, s: run_hpopt(hpopt.RandomSampler(seed=1000 + s), f, b),
    }
    optimizers["Optuna GP"] = run_optuna
    chosen = args.optimizers.split(",")
    optimizers = {k: v for k, v in optimizers.items() if k in chosen}
    scores: dict[str, list[float]] = {k: [] for k in optimizers}
    seconds: dict[str, float] = dict.fromkeys(optimizers, 0.0)
    print(f"budget {args.budget}, {args.seeds} seeds")
    for name in names:
        objective, f_opt = PROBLEMS[name]
        f_rand = float(
            np.mean(
                [
                    run_hpopt(hpopt.RandomSampler(seed=10_000 + s), objective, args.budget)
                    for s in range(args.random_runs)
                ]
            )
        )
        row = []
        for opt, run in optimizers.items():
            per_seed = []
            for seed in range(args.seeds):
                start = time.perf_counter()
                best = run(objective, args.budget, seed)
                seconds[opt] += time.perf_counter() - start
                per_seed.append(100 * (1 - (best - f_opt) / (f_rand - f_opt)))
            scores[opt].extend(per_seed)
            row.append(f"{opt} {np.mean(per_seed):6.1f}")
        print(f"{name:12s} " + " | ".join(row), flush=True)
    print("| optimizer | mean score | std. error | seconds per run |")
    print("|---|---:|---:|---:|")
    n_runs = len(names) * args.seeds
    for opt, vals in scores.items():
        arr = np.array(vals)
        se = arr.std(ddof=1) / math.sqrt(len(arr)) if len(arr) > 1 else float("nan")
        print(f"| {opt} | {arr.mean():.1f} | {se:.1f} | {seconds[opt] / n_runs:.1f} |")


if __name__ == "__main__":
    main()
