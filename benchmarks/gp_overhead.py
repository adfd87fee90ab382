"""Time per ask of GPSampler against Optuna's GPSampler at several study sizes.

Each study is pre-filled with ``n`` random trials of a 5-D mixed space (two floats, a log
float, an integer, a categorical), then ``--asks`` trials are asked and told; the table shows
the median seconds per ask + tell. Optuna is skipped above ``--optuna-max`` trials, where one
of its asks takes too long to be worth waiting for.

Run: ``PYTHONPATH=src python benchmarks/gp_overhead.py``
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np

import hpopt
from hpopt.space.distributions import Categorical, Float, Int

SPACE = {
    "x0": Float(-5.0, 5.0),
    "x1": Float(0.0, 1.0),
    "lr": Float(1e-5, 1.0, log=True),
    "k": Int(0, 20),
    "c": Categorical(("a", "b", "c")),
}


def objective(p: dict[str, Any]) -> float:
    return float(
        (p["x0"] - 1) ** 2
        + math.sin(6 * p["x1"])
        + (math.log10(p["lr"]) + 2) ** 2
        + 0.01 * (p["k"] - 12) ** 2
        + {"a": 0.3, "b": 0.0, "c": 0.8}[p["c"]]
    )


def random_history(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [{k: d.from_unit(float(rng.random())) for k, d in SPACE.items()} for _ in range(n)]


def time_hpopt(history: list[dict[str, Any]], asks: int) -> float:
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=0, n_startup_trials=1))
    for p in history:
        study.add_trial(hpopt.create_trial(params=p, distributions=SPACE, values=[objective(p)]))
    times = []
    for _ in range(asks):
        start = time.perf_counter()
        trial = study.ask(SPACE)
        assert trial.config is not None
        value = objective(trial.config)
        times.append(time.perf_counter() - start)
        study.tell(trial, value)
    return float(np.median(times))


def time_optuna(history: list[dict[str, Any]], asks: int) -> float:
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {
        "x0": FloatDistribution(-5.0, 5.0),
        "x1": FloatDistribution(0.0, 1.0),
        "lr": FloatDistribution(1e-5, 1.0, log=True),
        "k": IntDistribution(0, 20),
        "c": CategoricalDistribution(("a", "b", "c")),
    }
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=0))
    study.add_trials(
        [
            optuna.trial.create_trial(params=p, distributions=dists, value=objective(p))
            for p in history
        ]
    )
    times = []
    for _ in range(asks):
        start = time.perf_counter()
        trial = study.ask(dists)
        value = objective(trial.params)
        times.append(time.perf_counter() - start)
        study.tell(trial, value)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,100,300,1000")
    parser.add_argument("--asks", type=int, default=5)
    parser.add_argument("--optuna-max", type=int, default=300)
    args = parser.parse_args()
    print("| trials | hpopt GP | Optuna GP | ratio |")
    print("|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        history = random_history(n, seed=n)
        ours = time_hpopt(history, args.asks)
        if n <= args.optuna_max:
            theirs = time_optuna(history, args.asks)
            peer, ratio = f"{theirs * 1e3:.0f} ms", f"{ours / theirs:.2f}"
        else:
            peer, ratio = "skipped", "-"
        print(f"| {n} | {ours * 1e3:.0f} ms | {peer} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
