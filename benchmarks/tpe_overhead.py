"""Sampler overhead per trial (ask + tell) of hpopt's TPESampler and Optuna's TPE.

Each study is pre-filled with N random trials on a 5-D mixed space (float, log float, int,
categorical, float), then the median CPU time of the next ``--repeat`` ask + suggest + tell
cycles is reported. The objective is trivial, so the time is the sampler's and the study's.
The studies' cycles are interleaved (one cycle of each in turn), so that a change in the
machine's load during the run affects every sampler alike.

Usage::

    PYTHONPATH=src python benchmarks/tpe_overhead.py --sizes 100 1000 5000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _objective(t: Any) -> float:
    x = t.suggest_float("x", -5, 5)
    lr = t.suggest_float("lr", 1e-5, 1, log=True)
    k = t.suggest_int("k", 0, 20)
    c = t.suggest_categorical("c", ["a", "b", "c"])
    y = t.suggest_float("y", 0, 1)
    return x * x + abs(np.log10(lr) + 2) + (k - 12) ** 2 / 100 + (c != "b") + y


def _random_params(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": float(rng.uniform(-5, 5)),
        "lr": float(10 ** rng.uniform(-5, 0)),
        "k": int(rng.integers(0, 21)),
        "c": str(rng.choice(["a", "b", "c"])),
        "y": float(rng.uniform(0, 1)),
    }


def _value(p: dict[str, Any]) -> float:
    return (
        p["x"] ** 2
        + abs(np.log10(p["lr"]) + 2)
        + (p["k"] - 12) ** 2 / 100
        + (p["c"] != "b")
        + p["y"]
    )


def _cpu_ms(ask_tell: Callable[[], None]) -> float:
    start = time.process_time()
    ask_tell()
    return (time.process_time() - start) * 1e3


def hpopt_cycle(n: int, **kwargs: Any) -> Callable[[], None]:
    """One ask + suggest + tell of hpopt's TPESampler on a study pre-filled with ``n``."""
    import hpopt

    dists = {
        "x": hpopt.Float(-5, 5),
        "lr": hpopt.Float(1e-5, 1, log=True),
        "k": hpopt.Int(0, 20),
        "c": hpopt.Categorical(("a", "b", "c")),
        "y": hpopt.Float(0, 1),
    }
    study = hpopt.create_study(sampler=hpopt.TPESampler(seed=0, **kwargs))
    rng = np.random.default_rng(0)
    for _ in range(n):
        p = _random_params(rng)
        study.add_trial(hpopt.create_trial(params=p, distributions=dists, value=_value(p)))

    def cycle() -> None:
        trial = study.ask()
        study.tell(trial, _objective(trial))

    cycle()  # warm-up: lazy imports, first fit
    return cycle


def optuna_cycle(n: int, **kwargs: Any) -> Callable[[], None]:
    """The same for Optuna's TPESampler."""
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {
        "x": FloatDistribution(-5, 5),
        "lr": FloatDistribution(1e-5, 1, log=True),
        "k": IntDistribution(0, 20),
        "c": CategoricalDistribution(["a", "b", "c"]),
        "y": FloatDistribution(0, 1),
    }
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, **kwargs))
    rng = np.random.default_rng(0)
    study.add_trials(
        [
            optuna.trial.create_trial(params=p, distributions=dists, value=_value(p))
            for p in (_random_params(rng) for _ in range(n))
        ]
    )

    def cycle() -> None:
        trial = study.ask()
        study.tell(trial, _objective(trial))

    cycle()
    return cycle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    makers: dict[str, Callable[[int], Callable[[], None]]] = {
        "hpopt TPESampler (default)": lambda n: hpopt_cycle(n),
        "hpopt TPESampler(multivariate=False)": lambda n: hpopt_cycle(n, multivariate=False),
        "Optuna TPESampler (default)": lambda n: optuna_cycle(n),
        "Optuna TPESampler(multivariate=True)": lambda n: optuna_cycle(n, multivariate=True),
    }
    results: dict[str, list[float]] = {name: [] for name in makers}
    for n in args.sizes:
        cycles = {name: make(n) for name, make in makers.items()}
        times: dict[str, list[float]] = {name: [] for name in makers}
        for _ in range(args.repeat):
            for name, cycle in cycles.items():
                times[name].append(_cpu_ms(cycle))
        for name in makers:
            results[name].append(statistics.median(times[name]))
    print("| sampler | " + " | ".join(f"@{n}" for n in args.sizes) + " |")
    print("|---|" + "---:|" * len(args.sizes))
    for name, ms in results.items():
        print(f"| {name} | " + " | ".join(f"{m:.2f} ms" for m in ms) + " |")
    ours = results["hpopt TPESampler (default)"]
    peer = results["Optuna TPESampler (default)"]
    print(
        "| ratio Optuna default / hpopt default | "
        + " | ".join(f"{p / o:.1f}x" for p, o in zip(peer, ours))
        + " |"
    )


if __name__ == "__main__":
    main()
