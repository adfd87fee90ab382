"""Parallel execution benchmark: speedup on CPU-bound trials and overhead per trial.

Run from the repository root::

    PYTHONPATH=src python benchmarks/parallel.py            # the full run (~10 minutes)
    PYTHONPATH=src python benchmarks/parallel.py --quick    # a smoke run

Part 1 runs ``--trials`` CPU-bound trials of ``--seconds`` of CPU each: inline (one
process), then 2 worker processes, Dask (a LocalCluster of 2 single-threaded workers) and
Ray (local, 2 CPUs). Part 2 measures the cost per trial of each executor with a trivial
objective, next to Optuna's ``n_jobs=2`` (threads) and Ray Tune (``Tuner`` with a trivial
trainable) in the same run: ``(T(N) - T(n)) / (N - n)`` for a large N and a small n, so
start-up (spawning workers, creating actors) cancels out. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import hpopt
from hpopt.execution import DaskExecutor, RayExecutor


def burn_cpu(seconds: float) -> None:
    end = time.process_time() + seconds
    acc = 0.0
    while time.process_time() < end:
        for i in range(10_000):
            acc += i * 1e-9


def cpu_objective(seconds: float) -> Callable[[Any], float]:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        burn_cpu(seconds)
        return x * x

    return objective


def trivial(trial: Any) -> float:
    return float(trial.suggest_float("x", -1.0, 1.0))


def timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def hpopt_run(objective: Callable[[Any], float], n: int, **kwargs: Any) -> Callable[[], None]:
    def run() -> None:
        hpopt_study(objective, n, **kwargs)

    return run


def hpopt_study(objective: Callable[[Any], float], n: int, **kwargs: Any) -> hpopt.Study:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    study.optimize(objective, n_trials=n, **kwargs)
    done = len(study.get_trials((hpopt.TrialState.COMPLETE,)))
    assert done == n, f"{done} of {n} trials completed"
    return study


def steady_ms(completions: list[Any]) -> float:
    """Milliseconds between trial completions once trials flow (start-up left out)."""
    ends = sorted(completions)
    return 1000 * (ends[-1] - ends[0]).total_seconds() / (len(ends) - 1)


def hpopt_steady_ms(n: int, **kwargs: Any) -> float:
    study = hpopt_study(trivial, n, **kwargs)
    return steady_ms([t.datetime_complete for t in study.trials])


def optuna_steady_ms(n: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", -1, 1), n_trials=n, n_jobs=2)
    return steady_ms([t.datetime_complete for t in study.trials])


def ray_tune_run(n: int) -> Callable[[], None]:
    from ray import tune

    def trainable(config: dict[str, float]) -> dict[str, float]:
        return {"value": config["x"]}

    def run() -> None:
        tuner = tune.Tuner(
            trainable,
            param_space={"x": tune.uniform(-1, 1)},
            tune_config=tune.TuneConfig(num_samples=n, max_concurrent_trials=2),
            run_config=tune.RunConfig(verbose=0),
        )
        tuner.fit()

    return run


def per_trial_ms(make: Callable[[int], Callable[[], None]], small: int, large: int) -> float:
    make(small)()  # warm up imports and caches
    t_small = timed(make(small))
    t_large = timed(make(large))
    return 1000 * (t_large - t_small) / (large - small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--overhead-trials", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="8 trials of 0.2 s, 40 trivial")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.seconds, args.overhead_trials = 8, 0.2, 40
    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")

    import distributed
    import ray

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    src = os.path.join(os.path.dirname(__file__), "..", "src")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.path.abspath(src)}},
    )
    load = os.getloadavg()[0]
    objective = cpu_objective(args.seconds)
    n = args.trials
    rows: list[tuple[str, float]] = []
    sequential = timed(hpopt_run(objective, n))
    rows.append(("inline, 1 process", sequential))
    rows.append(("2 worker processes", timed(hpopt_run(objective, n, n_jobs=2))))
    rows.append(
        (
            "Dask, LocalCluster of 2 workers",
            timed(hpopt_run(objective, n, executor=DaskExecutor(client))),
        )
    )
    rows.append(("Ray, local (2 CPUs)", timed(hpopt_run(objective, n, executor=RayExecutor()))))

    m = args.overhead_trials
    hpopt_steady_ms(4)  # warm up imports
    overhead = [
        ("hpopt inline (n_jobs=1)", hpopt_steady_ms(m)),
        (
            "hpopt threads (n_jobs=2, executor='thread')",
            hpopt_steady_ms(m, n_jobs=2, executor="thread"),
        ),
        ("hpopt 2 worker processes (n_jobs=2)", hpopt_steady_ms(m, n_jobs=2)),
        ("hpopt DaskExecutor (2 workers)", hpopt_steady_ms(m, executor=DaskExecutor(client))),
        ("hpopt RayExecutor (2 CPUs)", hpopt_steady_ms(m, executor=RayExecutor())),
        ("Optuna n_jobs=2 (threads)", optuna_steady_ms(m)),
    ]
    tune_small, tune_large = 4, max(8, m // 10)
    tune_ms = per_trial_ms(ray_tune_run, tune_small, tune_large)
    print(
        f"\nCPU-bound: {n} trials x {args.seconds:g} s CPU; "
        f"load average at start {load:.1f}, {os.cpu_count()} CPUs\n"
    )
    print("| executor | wall time (s) | speedup vs inline |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {sequential / seconds:.2f}x |")
    print(f"\nOverhead per trial, trivial objective ({m} trials; time between completions)\n")
    print("| executor | ms per trial |")
    print("|---|---:|")
    for name, ms in overhead:
        print(f"| {name} | {ms:.2f} |")
    print(
        f"| Ray Tune Tuner, 2 concurrent ((T({tune_large}) - T({tune_small})) / "
        f"{tune_large - tune_small}) | {tune_ms:.1f} |"
    )
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    client.close()
    cluster.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
