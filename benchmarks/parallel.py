"""Parallel execution benchmark: speedup on CPU-bound trials and overhead per trial.

Run from the repository root::

    PYTHONPATH=src python benchmarks/parallel.py            # the full run (~10 minutes)
    PYTHONPATH=src python benchmarks/parallel.py --quick    # a smoke run
    PYTHONPATH=src python benchmarks/parallel.py --repeats 3 --speedup-only
    RAY_worker_niceness=0 PYTHONPATH=src python benchmarks/parallel.py --repeats 3 --speedup-only

Part 1 runs ``--trials`` CPU-bound trials of ``--seconds`` of CPU each: inline (one
process), then 2 worker processes, Dask (a LocalCluster of 2 single-threaded workers) and
Ray (local, 2 CPUs), ``--repeats`` times in turn (so a change in the machine's load hits
every row alike), each with only its own engine running, and reports the median wall time
of each with the load average before each run and the CPU seconds the run cost beyond the
trials' own (all processes of the run: driver, workers, Dask's and Ray's daemons; see
``benchmarks/parallel_cpu.py`` for the breakdown). Cluster and ``ray.init`` start-up, and
the making of the ``RayExecutor`` (which starts its mailbox actor on a running Ray), happen
before the timing; worker processes' start-up and imports are inside it.

Part 2 measures the cost per trial of each executor with a trivial objective, next to
Optuna's ``n_jobs=2`` (threads) and Ray Tune (``Tuner`` with a trivial trainable) in the
same run: ``(T(N) - T(n)) / (N - n)`` for a large N and a small n, so start-up (spawning
workers, creating actors) cancels out. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import resource
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
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


def _psutil() -> Any:
    import psutil

    return psutil


def _role(proc: Any, driver: int) -> str:
    try:
        cmd = " ".join(proc.cmdline())
        parent = proc.ppid()
    except _psutil().ZombieProcess:
        return "exited, not yet reaped"
    except _psutil().Error:
        return "gone"
    if proc.pid == driver:
        return "driver"
    if "worker_main" in cmd:
        return "hpopt worker process"
    if "spawn_main" in cmd:  # Dask LocalCluster: nannies live in the driver's event loop
        return "dask worker" if parent == driver else "dask worker's child"
    for key in ("raylet", "gcs_server", "dashboard", "log_monitor", "monitor.py", "runtime_env"):
        if key in cmd:
            return f"ray {key}"
    if cmd.startswith("ray::"):  # a Ray worker's title names what it runs
        return "ray worker " + cmd.split()[0].split(".")[0].removeprefix("ray::")
    if "default_worker.py" in cmd:
        return "ray worker"
    return cmd[:40]


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """``pid -> (role, user + system CPU seconds)`` for this process and its descendants."""
    me = _psutil().Process()
    out: dict[int, tuple[str, float]] = {}
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except _psutil().Error:
            continue
        out[proc.pid] = (_role(proc, me.pid), t.user + t.system)
    return out


def _reaped_children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def total_cpu() -> float:
    """CPU seconds of this process, its live descendants and its reaped children.

    Descendants that ended without being reaped by this process (a Ray worker reaped by the
    raylet) are missed; :func:`cpu_by_process` lists what is live.
    """
    return _reaped_children_cpu() + sum(cpu for _, cpu in cpu_by_process().values())


def start_local_ray(ray: Any) -> None:
    """A local Ray with 2 CPUs whose workers can import this checkout's hpopt.

    The path goes into the environment the Ray daemons inherit, not into a job
    ``runtime_env``: Ray's prestarted workers have no job runtime environment, so with one
    every task would wait for new worker processes to start, which an installed hpopt never
    does.
    """
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src"))
    paths = [src, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)


@contextlib.contextmanager
def engine(kind: str, settle: float = 5.0) -> Iterator[dict[str, Any]]:
    """``optimize`` keyword arguments for ``kind`` (inline, process, dask, ray), with its
    cluster started before (and its start-up work given ``settle`` seconds to end) and shut
    down after."""
    if kind == "inline":
        yield {}
    elif kind == "process":
        yield {"n_jobs": 2}
    elif kind == "dask":
        import distributed

        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            client.wait_for_workers(2)
            time.sleep(settle)
            yield {"executor": DaskExecutor(client)}
    elif kind == "ray":
        import ray

        start_local_ray(ray)
        try:
            executor = RayExecutor()  # starts its mailbox actor, part of the start-up
            time.sleep(settle)
            yield {"executor": executor}
        finally:
            ray.shutdown()
    else:
        raise ValueError(f"unknown executor kind {kind!r}")


def timed_with_cpu(run: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds of ``run`` and the CPU seconds of this process and its descendants."""
    cpu = total_cpu()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start, total_cpu() - cpu


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
    parser.add_argument("--repeats", type=int, default=1, help="runs of each row, in turn")
    parser.add_argument("--speedup-only", action="store_true", help="skip the overhead part")
    parser.add_argument("--quick", action="store_true", help="8 trials of 0.2 s, 40 trivial")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.seconds, args.overhead_trials = 8, 0.2, 40
    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")

    import distributed
    import ray

    load = os.getloadavg()[0]
    objective = cpu_objective(args.seconds)
    n = args.trials
    niceness = os.environ.get("RAY_worker_niceness", "15 (Ray's default)")  # noqa: SIM112
    kinds = {
        "inline": "inline, 1 process",
        "process": "2 worker processes",
        "dask": "Dask, LocalCluster of 2 workers",
        "ray": f"Ray, local (2 CPUs, workers at niceness {niceness})",
    }
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in kinds.values()}
    for _ in range(args.repeats):
        for kind, name in kinds.items():
            # Only this row's engine is up: idle Dask and Ray daemons cost ~6 % of a core.
            with engine(kind) as kwargs:
                before = os.getloadavg()[0]
                wall, cpu = timed_with_cpu(hpopt_run(objective, n, **kwargs))
            runs[name].append((wall, cpu - n * args.seconds, before))
    rows = [(name, statistics.median(w for w, _, _ in r)) for name, r in runs.items()]
    sequential = rows[0][1]
    print(
        f"\nCPU-bound: {n} trials x {args.seconds:g} s CPU; "
        f"load average at start {load:.1f}, {os.cpu_count()} CPUs; {args.repeats} run(s) each\n"
    )
    print(
        "| executor | wall time (s), median | speedup vs inline | CPU beyond the trials (s) "
        "| load average before each run |"
    )
    print("|---|---:|---:|---:|---|")
    for name, seconds in rows:
        extra = statistics.median(c for _, c, _ in runs[name])
        loads = ", ".join(f"{b:.1f}" for _, _, b in runs[name])
        walls = ", ".join(f"{w:.1f}" for w, _, _ in runs[name])
        print(
            f"| {name} | {seconds:.1f} ({walls}) | {sequential / seconds:.2f}x "
            f"| {extra:.1f} | {loads} |"
        )
    if args.speedup_only:
        print(f"\nload average at end {os.getloadavg()[0]:.1f}")
        return

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    start_local_ray(ray)

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
