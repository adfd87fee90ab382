"""Optimizer overhead: time per ask + tell of each sampler, next to its Optuna equivalent.

A trivial objective over a 5-D mixed space (a float, a log float, an int, a stepped int and
a categorical) runs with in-memory storage; the figure at N trials is the median CPU time
of trials N-49 .. N (ask, the five suggests, tell), with the wall-clock ratio alongside.
Each configuration runs ``--repeats`` times, alternating hpopt and the peer, and the median
of the repeats is reported; a run that exceeds ``--budget`` seconds stops early.

Run ``python -m benchmarks.overhead`` (add ``--write docs/benchmarks.md`` to update the
table there). To add a sampler, add an entry to ``CASES``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hpopt
from hpopt.samplers import BaseSampler, GridSampler, QMCSampler, RandomSampler

SECTION = "## Sampler overhead (random, QMC)"
CHECKPOINTS = (100, 1_000, 5_000)
WINDOW = 50

#: The grid both grid samplers walk: 6 x 6 x 7 x 7 x 3 = 5,292 points (enough for 5,000
#: trials; Optuna's GridSampler scans every point on every trial, so a larger grid would
#: mostly measure that).
GRID: dict[str, list[Any]] = {
    "x": [-5.0 + 2.0 * i for i in range(6)],
    "lr": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0],
    "k": list(range(0, 21, 3)),
    "m": list(range(0, 91, 15)),
    "c": ["a", "b", "c"],
}


def objective(trial: Any) -> float:
    """The same define-by-run objective for hpopt and Optuna trials."""
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    k = trial.suggest_int("k", 0, 20)
    m = trial.suggest_int("m", 0, 100, step=5)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return float(x * x + lr + k + m / 100 + (c == "b"))


@dataclass(frozen=True)
class OverheadCase:
    """One row family of the table: our sampler and, optionally, its peer.

    ``ours`` and ``peer`` build a sampler from a seed; ``peer`` returns an Optuna sampler.
    """

    ours: Callable[[int], BaseSampler]
    peer: Callable[[int], Any] | None = None


def _optuna(name: str, **kwargs: Any) -> Callable[[int], Any]:
    def make(seed: int) -> Any:
        import optuna

        return getattr(optuna.samplers, name)(seed=seed, **kwargs)

    return make


#: Every sampler the benchmark knows; add TPE, GP, ... here.
CASES: dict[str, OverheadCase] = {
    "random": OverheadCase(lambda s: RandomSampler(seed=s), _optuna("RandomSampler")),
    "qmc-sobol": OverheadCase(
        lambda s: QMCSampler(qmc_type="sobol", seed=s),
        _optuna("QMCSampler", qmc_type="sobol", scramble=True),
    ),
    "qmc-halton": OverheadCase(
        lambda s: QMCSampler(qmc_type="halton", seed=s),
        _optuna("QMCSampler", qmc_type="halton", scramble=True),
    ),
    "grid": OverheadCase(
        lambda s: GridSampler(GRID, seed=s), _optuna("GridSampler", search_space=GRID)
    ),
}


@dataclass
class Timings:
    """Seconds per trial, in order: process CPU time and wall-clock time."""

    cpu: list[float]
    wall: list[float]


def _time_trials(study: Any, n_trials: int, budget_s: float) -> Timings:
    """Run ask / objective / tell ``n_trials`` times (hpopt and Optuna share this API)."""
    timings = Timings([], [])
    cpu, wall = time.process_time, time.perf_counter
    deadline = wall() + budget_s
    for _ in range(n_trials):
        c0, w0 = cpu(), wall()
        trial = study.ask()
        study.tell(trial, objective(trial))
        timings.cpu.append(cpu() - c0)
        timings.wall.append(wall() - w0)
        if wall() > deadline:
            break
    return timings


def _hpopt_study(sampler: BaseSampler) -> Any:
    return hpopt.create_study(sampler=sampler)


def _optuna_study(sampler: Any) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.create_study(sampler=sampler)


def _window_median(times: list[float], n: int) -> float | None:
    """Median of trials n-49 .. n, or None if the run stopped before trial n."""
    if len(times) < n:
        return None
    return statistics.median(times[max(0, n - WINDOW) : n])


def _summarize(runs: list[list[float]], checkpoints: tuple[int, ...]) -> dict[int, float | None]:
    """Per checkpoint, the median over runs of the window medians (None if any run
    stopped before it)."""
    out: dict[int, float | None] = {}
    for c in checkpoints:
        medians = [m for m in (_window_median(t, c) for t in runs) if m is not None]
        out[c] = statistics.median(medians) if len(medians) == len(runs) else None
    return out


@dataclass
class Result:
    """Per checkpoint: median seconds per trial (None: not reached within the budget)."""

    ours_cpu: dict[int, float | None]
    ours_wall: dict[int, float | None]
    peer_cpu: dict[int, float | None] | None = None
    peer_wall: dict[int, float | None] | None = None
    peer_reached: int | None = None


def run_case(
    case: OverheadCase, checkpoints: tuple[int, ...], repeats: int, budget_s: float
) -> Result:
    n = max(checkpoints)
    ours: list[Timings] = []
    peer: list[Timings] = []
    for r in range(repeats):  # alternate, so both libraries see the same machine load
        ours.append(_time_trials(_hpopt_study(case.ours(r)), n, budget_s))
        if case.peer is not None:
            peer.append(_time_trials(_optuna_study(case.peer(r)), n, budget_s))
    result = Result(
        _summarize([t.cpu for t in ours], checkpoints),
        _summarize([t.wall for t in ours], checkpoints),
    )
    if peer:
        result.peer_cpu = _summarize([t.cpu for t in peer], checkpoints)
        result.peer_wall = _summarize([t.wall for t in peer], checkpoints)
        result.peer_reached = min(len(t.cpu) for t in peer)
    return result


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f} ms"


def _ratio(theirs: float | None, ours: float | None) -> str:
    return f"{theirs / ours:.1f}x" if theirs and ours else "-"


def table(results: dict[str, Result], checkpoints: tuple[int, ...], budget_s: float) -> str:
    lines = [
        "| sampler | trials | hpopt | Optuna | Optuna / hpopt | same, wall clock |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, res in results.items():
        for c in checkpoints:
            ours, theirs = res.ours_cpu[c], res.peer_cpu[c] if res.peer_cpu else None
            if res.peer_cpu is not None and theirs is None:
                peer_cell = f"capped: {res.peer_reached:,} trials in {budget_s:g} s"
            else:
                peer_cell = _ms(theirs)
            wall = _ratio(res.peer_wall[c], res.ours_wall[c]) if res.peer_wall else "-"
            lines.append(
                f"| {name} | {c:,} | {_ms(ours)} | {peer_cell} | {_ratio(theirs, ours)} | {wall} |"
            )
    return "\n".join(lines)


def _versions() -> str:
    import numpy
    import scipy

    try:
        import optuna

        peer = f"optuna {optuna.__version__}"
    except ImportError:  # pragma: no cover - the bench extra is optional
        peer = "optuna not installed"
    return (
        f"Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"scipy {scipy.__version__}, hpopt {hpopt.__version__}, {peer}"
    )


def report(results: dict[str, Result], args: argparse.Namespace) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    return "\n".join(
        [
            SECTION,
            "",
            f"Measured {_dt.date.today():%Y-%m-%d} on {machine} (shared machine); {_versions()}.",
            "",
            "CPU time of the process per trial (ask, five suggests, tell; the machine is "
            "shared, so wall-clock times swing with other load: their ratio is in the last "
            "column) with in-memory storage, 5-D mixed space (float, log float, int, "
            "stepped int, categorical), trivial objective; median of the last "
            f"{WINDOW} trials at each count, median of {args.repeats} runs with "
            f"alternating libraries. Each run stops after {args.budget:g} s. "
            "Grid: the same 5,292-point grid over that space for both. Reproduce: "
            "`python -m benchmarks.overhead --write docs/benchmarks.md`.",
            "",
            table(results, tuple(args.trials), args.budget),
            "",
        ]
    )


def write_section(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` under its heading, replacing an older version."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samplers", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--trials", nargs="+", type=int, default=list(CHECKPOINTS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per run at most")
    parser.add_argument("--write", type=Path, help="update this markdown file's section")
    args = parser.parse_args(argv)
    results = {}
    for name in args.samplers:
        results[name] = run_case(CASES[name], tuple(args.trials), args.repeats, args.budget)
        print(f"{name}: done", flush=True)
    section = report(results, args)
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
