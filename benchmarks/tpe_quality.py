"""Quick search-quality check of hpopt's TPESampler against Optuna's TPE and random search.

Score per problem and seed: ``100 * (1 - (best - f_opt) / (f_rand - f_opt))`` with
``f_rand`` the mean final best of random search at the same budget (random scores 0).

Usage::

    PYTHONPATH=src python benchmarks/tpe_quality.py --seeds 10 --budgets 32 64
    PYTHONPATH=src python benchmarks/tpe_quality.py --variant '{"gamma_name": "sqrt"}'
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

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
    offset, centre = {"a": (0.35, -2.0), "b": (0.0, 1.5), "c": (0.8, 3.0)}[c]
    return (
        offset + ((x - centre) / 5) ** 2 + ((math.log10(lr) + 2) / 2.5) ** 2 + ((k - 12) / 10) ** 2
    )


def levy4(t: Any) -> float:
    x = np.array([t.suggest_float(f"x{i}", -10, 10) for i in range(4)])
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


def ackley5(t: Any) -> float:
    x = np.array([t.suggest_float(f"x{i}", -32.768, 32.768) for i in range(5)])
    a = -20 * math.exp(-0.2 * math.sqrt(float((x**2).mean())))
    return float(a - math.exp(float(np.cos(2 * math.pi * x).mean())) + 20 + math.e)


def conditional(t: Any) -> float:
    """Two model families with their own parameters (a define-by-run space)."""
    family = t.suggest_categorical("family", ["linear", "tree"])
    scale = t.suggest_float("scale", 1e-3, 1e2, log=True)
    base = (math.log10(scale) - 0.5) ** 2 / 4
    if family == "linear":
        a = t.suggest_float("alpha", 0, 1)
        b = t.suggest_float("beta", -2, 2)
        return 0.3 + base + (a - 0.8) ** 2 + (b + 0.5) ** 2 / 4
    depth = t.suggest_int("depth", 1, 16)
    leaf = t.suggest_int("leaf", 1, 64, log=True)
    return base + ((depth - 9) / 8) ** 2 + ((math.log2(leaf) - 2) / 3) ** 2


PROBLEMS: dict[str, tuple[Objective, float]] = {
    "branin": (branin, 0.397887),
    "hartmann6": (hartmann6, -3.32237),
    "rosenbrock4": (rosenbrock4, 0.0),
    "mixed": (mixed, 0.0),
    "levy4": (levy4, 0.0),
    "ackley5": (ackley5, 0.0),
    "conditional": (conditional, 0.0),
}


def run_hpopt(
    objective: Objective, budget: int, seed: int, kind: str, variant: dict[str, Any]
) -> float:
    import hpopt

    if kind == "random":
        sampler: Any = hpopt.RandomSampler(seed=seed)
    else:
        sampler = hpopt.TPESampler(seed=seed, **variant)
    study = hpopt.create_study(sampler=sampler)
    study.optimize(objective, n_trials=budget)
    return study.best_value


def run_optuna(objective: Objective, budget: int, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(multivariate=True, seed=seed))
    study.optimize(objective, n_trials=budget)
    return float(study.best_value)


GAMMAS: dict[str, Callable[[int], int]] = {
    "optuna": lambda n: min(math.ceil(0.1 * n), 25),
    "sqrt": lambda n: min(math.ceil(0.25 * math.sqrt(n)), 25),
    "sqrt5": lambda n: min(math.ceil(0.5 * math.sqrt(n)), 25),
    "p15": lambda n: min(math.ceil(0.15 * n), 25),
    "p20": lambda n: min(math.ceil(0.2 * n), 25),
}


def _variant_kwargs(variant: dict[str, Any]) -> dict[str, Any]:
    kw = dict(variant)
    if "gamma_name" in kw:
        kw["gamma"] = GAMMAS[kw.pop("gamma_name")]
    return kw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--variant", action="append", default=[], help="TPESampler kwargs (JSON)")
    parser.add_argument("--no-optuna", action="store_true")
    args = parser.parse_args()
    variants = [json.loads(v) for v in args.variant] or [{}]
    names = [f"ours{json.dumps(v, sort_keys=True) if v else ''}" for v in variants]
    if not args.no_optuna:
        names.append("optuna-tpe-mv")
    start = time.perf_counter()
    for budget in args.budgets:
        table: dict[str, list[float]] = {n: [] for n in names}
        per_problem: dict[str, dict[str, float]] = {}
        for pname in args.problems:
            objective, f_opt = PROBLEMS[pname]
            seeds = range(args.seeds)
            f_rand = float(np.mean([run_hpopt(objective, budget, s, "random", {}) for s in seeds]))
            per_problem[pname] = {}
            for name, variant in zip(names, [*variants, None]):
                bests = [
                    run_optuna(objective, budget, s)
                    if variant is None
                    else run_hpopt(objective, budget, s, "tpe", _variant_kwargs(variant))
                    for s in seeds
                ]
                scores = [100 * (1 - (b - f_opt) / (f_rand - f_opt)) for b in bests]
                table[name].extend(scores)
                per_problem[pname][name] = float(np.mean(scores))
        print(f"\n## budget {budget}, {args.seeds} seeds ({time.perf_counter() - start:.0f} s)")
        header = "| sampler | " + " | ".join(args.problems) + " | mean | s.e. |"
        print(header)
        print("|---" * (len(args.problems) + 3) + "|")
        for name in names:
            cells = " | ".join(f"{per_problem[p][name]:.1f}" for p in args.problems)
            scores = np.array(table[name])
            se = scores.std(ddof=1) / math.sqrt(len(scores))
            print(f"| {name} | {cells} | {scores.mean():.1f} | {se:.1f} |")
        print(f"| random | {' | '.join('0.0' for _ in args.problems)} | 0.0 | |")


if __name__ == "__main__":
    main()
