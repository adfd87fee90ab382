"""Where the CPU goes in a parallel ``optimize``: CPU seconds per process and per driver thread.

Runs the speedup benchmark's CPU-bound trials (``benchmarks/parallel.py``) on one executor
and reports, for the timed ``optimize`` call only (cluster or ``ray.init`` start-up left
out, worker start-up inside), the CPU seconds of every process of the run (the driver, the
worker processes, Dask's nannies and workers, Ray's raylet, GCS, agents and workers), the
driver's threads, and the idle core-seconds. With ``T`` trials of ``s`` CPU seconds on ``c``
cores, the wall time is at least ``(T * s + overhead CPU) / c``::

    PYTHONPATH=src python -m benchmarks.parallel_cpu --executor dask --trials 40
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
import warnings
from collections import defaultdict
from typing import Any

import psutil

import hpopt
from benchmarks.parallel import cpu_by_process, cpu_objective, engine, total_cpu

__all__ = ["cpu_by_thread", "main"]


def cpu_by_thread() -> dict[str, float]:
    """Thread name -> CPU seconds of this process's threads."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = defaultdict(float)
    for t in psutil.Process().threads():
        out[names.get(t.id, "other (native)")] += t.user_time + t.system_time
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executor", choices=["inline", "process", "dask", "ray"], required=True)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before timing")
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with engine(args.executor, settle=args.settle) as kwargs:
        report(args, kwargs)


def report(args: argparse.Namespace, kwargs: dict[str, Any]) -> None:
    """Time one ``optimize`` on ``kwargs`` and print where the CPU went."""
    before, threads_before = cpu_by_process(), cpu_by_thread()
    total_before = total_cpu()
    load = os.getloadavg()
    start = time.perf_counter()
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    study.optimize(cpu_objective(args.seconds), n_trials=args.trials, **kwargs)
    wall = time.perf_counter() - start
    after, threads_after = cpu_by_process(), cpu_by_thread()
    by_role: dict[str, float] = defaultdict(float)
    # Worker processes that ended during the run (waited for by the driver).
    live = sum(cpu for _, cpu in after.values()) - sum(cpu for _, cpu in before.values())
    by_role["exited children"] = total_cpu() - total_before - live
    for pid, (role, cpu) in after.items():
        by_role[role] += cpu - before.get(pid, (role, 0.0))[1]
    total = sum(by_role.values())
    useful = args.trials * args.seconds
    cores = min(2, os.cpu_count() or 1)
    print(
        f"\n{args.executor}: {args.trials} trials x {args.seconds:g} s CPU, wall {wall:.2f} s; "
        f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}\n"
    )
    print("| process | CPU s |")
    print("|---|---:|")
    for role, cpu in sorted(by_role.items(), key=lambda kv: -kv[1]):
        print(f"| {role} | {cpu:.2f} |")
    print(f"| **all** | **{total:.2f}** |")
    print(
        f"\ntrial CPU {useful:.1f} s; overhead CPU {total - useful:.2f} s; "
        f"{cores} cores x wall = {cores * wall:.1f} core-s, so "
        f"{cores * wall - total:.1f} core-s idle or used by other processes of the machine\n"
    )
    print("| driver thread | CPU s |")
    print("|---|---:|")
    for name, cpu in sorted(threads_after.items(), key=lambda kv: -kv[1]):
        delta = cpu - threads_before.get(name, 0.0)
        if delta >= 0.005:
            print(f"| {name} | {delta:.2f} |")


if __name__ == "__main__":
    main()
