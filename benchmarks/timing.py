"""Optimizer overhead: time per trial (ask + tell) as the history grows.

Each optimizer runs sequentially on a cheap 5-D mixed function up to the largest checkpoint
(or until its optimizer time passes ``time_limit``); the figure at checkpoint ``N`` is the
median ask + tell time of trials ``N - 50 .. N``. Any registry peer can be timed.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.environment import machine_info, package_version
from benchmarks.peers import get_peer
from benchmarks.problems.base import Problem
from benchmarks.records import append_record
from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["TIMING_SPACE", "run_timing", "run_timings", "timing_problem"]

WINDOW = 50

TIMING_SPACE: dict[str, Distribution] = {
    "x": Float(-5.0, 5.0),
    "lr": Float(1e-5, 1.0, log=True),
    "layers": Int(1, 8),
    "units": Int(16, 1024, log=True),
    "act": Categorical(("relu", "tanh", "gelu", "silu")),
}
_ACT_OFFSET = {"relu": 0.3, "tanh": 0.0, "gelu": 0.5, "silu": 0.2}


def _objective(c: Mapping[str, Any]) -> float:
    return float(
        _ACT_OFFSET[c["act"]]
        + (c["x"] - 1.0) ** 2 / 25
        + (math.log10(c["lr"]) + 3) ** 2 / 25
        + (c["layers"] - 3) ** 2 / 49
        + (math.log2(c["units"]) - 7) ** 2 / 36
    )


def timing_problem() -> Problem:
    """The cheap 5-D mixed problem the timings run on."""
    return Problem("timing5d", TIMING_SPACE, _objective, 0.0)


def run_timing(
    optimizer: str,
    checkpoints: Sequence[int],
    *,
    time_limit: float = 300.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Time one optimizer; the record has ``median_ms`` per reached checkpoint."""
    peer = get_peer(optimizer)
    budget = max(checkpoints)
    record: dict[str, Any] = {
        "kind": "timing",
        "optimizer": optimizer,
        "problem": "timing5d",
        "seed": seed,
        "budget": budget,
        "batch": None,
        "version": package_version(peer.package),
        **machine_info(),
    }
    why = peer.unavailable()
    if why is not None:
        return {**record, "status": "unavailable", "error": why}
    start = time.perf_counter()
    trace = peer.trace(timing_problem(), budget, seed, time_limit=time_limit)
    times = trace.optimizer_seconds
    medians = {
        str(n): 1000 * statistics.median(times[n - WINDOW : n])
        for n in checkpoints
        if len(times) >= n
    }
    return {
        **record,
        "status": "ok",
        "trials_reached": len(times),
        "median_ms": medians,
        "optimizer_seconds": sum(times),
        "wall_seconds": time.perf_counter() - start,
        "time_limit": time_limit,
    }


def run_timings(
    optimizers: Sequence[str],
    checkpoints: Sequence[int],
    out: str | Path,
    *,
    time_limit: float,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Time each optimizer in turn (sequentially: overhead is measured on an idle core)."""
    records = []
    for name in optimizers:
        record = run_timing(name, checkpoints, time_limit=time_limit, seed=seed)
        append_record(out, record)
        log(f"{name}: {record['status']} {record.get('median_ms', record.get('error', ''))}")
        records.append(record)
    return records
