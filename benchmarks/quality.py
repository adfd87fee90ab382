"""Search-quality runs: every (optimizer, problem, seed) at one budget, one JSON line each."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.environment import limit_threads, machine_info, package_version
from benchmarks.peers import REFERENCE, get_peer
from benchmarks.problems import get_problem
from benchmarks.records import append_record, load_records, run_key

__all__ = ["Task", "execute", "plan", "run_tasks"]


@dataclass(frozen=True)
class Task:
    """One optimization run. ``budget`` counts evaluations; ``batch`` is the round size;
    ``workers`` the number of emulated asynchronous workers (``None``: sequential)."""

    optimizer: str
    problem: str
    seed: int
    budget: int
    batch: int | None = None
    workers: int | None = None

    def header(self) -> dict[str, Any]:
        return {
            "kind": "quality",
            "optimizer": self.optimizer,
            "problem": self.problem,
            "seed": self.seed,
            "budget": self.budget,
            "batch": self.batch,
            "workers": self.workers,
        }


def plan(
    optimizers: Sequence[str],
    problems: Sequence[str],
    seeds: Sequence[int],
    budget: int,
    batch: int | None = None,
    *,
    workers: int | None = None,
    reference: bool = True,
) -> list[Task]:
    """All runs, grouped by problem and seed so partial results can already be scored.

    With ``reference`` the random-search runs that scores are measured against are added
    (sequential: random search depends neither on the round size nor on the workers).
    """
    if batch is not None and (batch < 1 or budget % batch):
        raise ValueError(f"budget {budget} must be a multiple of batch {batch}")
    if workers is not None and (workers < 1 or batch is not None):
        raise ValueError(f"workers must be >= 1 and exclusive with batch, got {workers}")
    names = list(optimizers)
    tasks: list[Task] = []
    for problem in problems:
        for seed in seeds:
            if reference and REFERENCE not in names:
                tasks.append(Task(REFERENCE, problem, seed, budget, None))
            for name in names:
                if name == REFERENCE:
                    tasks.append(Task(name, problem, seed, budget))
                else:
                    tasks.append(Task(name, problem, seed, budget, batch, workers))
    return tasks


def execute(task: Task) -> dict[str, Any]:
    """Run one task and return its record (``status`` ok, error, n/a or unavailable)."""
    record = task.header()
    peer = get_peer(task.optimizer)
    record["version"] = package_version(peer.package)
    record.update(machine_info())
    why = peer.unavailable()
    if why is not None:
        return {**record, "status": "unavailable", "error": why}
    if task.batch and not peer.batch:
        return {**record, "status": "n/a", "error": "no batch proposals in this library"}
    if task.workers and task.workers > 1 and not peer.asynchronous:
        return {**record, "status": "n/a", "error": "no asynchronous proposals in this adapter"}
    problem = get_problem(task.problem)
    record["f_opt"] = problem.f_opt
    record["problem_kind"] = problem.kind
    start = time.perf_counter()
    try:
        trace = peer.trace(problem, task.budget, task.seed, task.batch, workers=task.workers)
    except Exception as e:
        tail = traceback.format_exc().strip().splitlines()[-3:]
        return {**record, "status": "error", "error": f"{e!r}; " + " | ".join(tail)}
    return {
        **record,
        "status": "ok",
        "values": trace.values,
        "best": min(trace.values),
        "optimizer_seconds": sum(trace.optimizer_seconds),
        "eval_seconds": trace.eval_seconds,
        "wall_seconds": time.perf_counter() - start,
    }


def run_tasks(
    tasks: Sequence[Task],
    out: str | Path,
    *,
    jobs: int = 1,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> int:
    """Run the tasks not yet recorded in ``out`` (appending a line per finished run).

    Runs recorded as ok or n/a are skipped; errors and unavailable peers are retried.
    Worker processes (``jobs > 1``) are capped at ``threads`` BLAS/OpenMP/torch threads
    (see :func:`~benchmarks.environment.limit_threads`; the command line also caps its own
    process). Returns the number of runs executed.
    """
    done = {run_key(r) for r in load_records([out]) if r.get("status") in ("ok", "n/a")}
    todo = [t for t in tasks if run_key(t.header()) not in done]
    if len(todo) < len(tasks):
        log(f"{len(tasks) - len(todo)} of {len(tasks)} runs already in {out}")

    def finish(i: int, record: dict[str, Any]) -> None:
        append_record(out, record)
        status = record["status"]
        detail = f"best={record['best']:.6g}" if status == "ok" else record.get("error", "")
        log(
            f"[{i}/{len(todo)}] {record['optimizer']} {record['problem']} seed={record['seed']}"
            f" budget={record['budget']} batch={record['batch']}"
            f" workers={record.get('workers')}: {status} {detail}"
        )

    if jobs <= 1:
        for i, task in enumerate(todo, 1):
            finish(i, execute(task))
        return len(todo)
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(
        jobs, mp_context=context, initializer=limit_threads, initargs=(threads,)
    ) as pool:
        futures = [pool.submit(execute, task) for task in todo]
        for i, future in enumerate(cf.as_completed(futures), 1):
            finish(i, future.result())
    return len(todo)
