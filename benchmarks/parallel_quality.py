"""Search quality with asynchronous workers against the same optimizer run sequentially.

One command runs, in one results file, every (optimizer, problem, seed) sequentially and with
``k`` emulated asynchronous workers (see :meth:`benchmarks.peers.base.Peer.trace`), plus the
random-search reference, then prints the score tables and the paired difference
(asynchronous minus sequential, same problem and seed) with its standard error::

    python -m benchmarks parallel-quality --seeds 5 --jobs 1 \\
        --out docs/results/parallel-quality-b64w4.jsonl

The issue's goal: the default sampler with 4 workers at budget 64 scores no worse than 2 points
below its sequential score on the sklearn problems. Rerunning the command skips finished runs,
so a new sampler needs a new ``--out`` file (or the old one deleted).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.problems.sklearn_tuning import SKLEARN_PROBLEMS
from benchmarks.quality import plan, run_tasks
from benchmarks.records import load_records
from benchmarks.scoring import paired_differences, quality_tables, score_records

__all__ = ["COSTLY", "DEFAULT_PROBLEMS", "parallel_report", "run_parallel_quality"]

#: The sklearn problems whose evaluations cost 0.35-0.85 s each here (the others 0.01-0.25 s):
#: left out of the default set to keep a 5-seed run near half an hour on one core.
COSTLY = ("kNN_digits", "lasso_digits", "ada_digits", "ada_breast")

#: Every other sklearn problem of the suite (41 of 45: nine models, five datasets).
DEFAULT_PROBLEMS = tuple(p for p in SKLEARN_PROBLEMS if p not in COSTLY)

#: Goal of the issue, in score points.
TOLERANCE = -2.0


def run_parallel_quality(
    optimizers: Sequence[str],
    problems: Sequence[str],
    seeds: Sequence[int],
    out: str | Path,
    *,
    budget: int = 64,
    workers: int = 4,
    jobs: int = 1,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> int:
    """Run the sequential, asynchronous and reference runs not yet in ``out``, seed by seed
    (a run cut short still has every problem of its first seeds)."""
    tasks = plan(optimizers, problems, seeds, budget)
    tasks += plan(optimizers, problems, seeds, budget, workers=workers, reference=False)
    tasks.sort(key=lambda t: t.seed)  # stable: problems keep their order within a seed
    return run_tasks(tasks, out, jobs=jobs, threads=threads, log=log)


def _model(problem: str) -> str:
    return problem.rsplit("_", 1)[0]


def parallel_report(
    records: Sequence[Mapping[str, Any]],
    *,
    budget: int = 64,
    workers: int = 4,
    per_problem: bool = False,
) -> str:
    """Markdown: the score tables of both settings and the paired differences (mean, SE,
    per model, optionally per problem), with the verdict against the issue's goal."""
    kept = [
        r
        for r in records
        if int(r.get("budget", 0)) == budget
        and not r.get("batch")
        and int(r.get("workers") or 0) in (0, workers)
    ]
    lines = [quality_tables(kept, per_problem=per_problem)]
    setting = (budget, 0, workers)
    scores = score_records(kept).scores
    bayesmark = {
        p.optimizer: p for p in paired_differences(scores, "bayesmark") if p.setting == setting
    }
    for pair in paired_differences(scores):
        if pair.setting != setting:
            continue
        bm = bayesmark.get(pair.optimizer)
        n = len(pair.differences)
        problems = pair.per_problem()
        seeds = sorted({seed for _, seed, _ in pair.differences})
        by_model: dict[str, list[float]] = defaultdict(list)
        for problem, _, d in pair.differences:
            by_model[_model(problem)].append(d)
        met = "met" if pair.mean >= TOLERANCE else "NOT met"
        lines += [
            f"### {pair.optimizer}: {workers} asynchronous workers minus sequential,"
            f" budget {budget}",
            "",
            f"Paired difference over {n} runs ({len(problems)} problems x seeds "
            f"{seeds[0]}-{seeds[-1]}): **{pair.mean:+.2f} +- {pair.se:.2f}** (mean +- SE); "
            f"goal >= {TOLERANCE:g}: {met} on the mean"
            + (
                ""
                if pair.mean - 2 * pair.se >= TOLERANCE
                else f" (the mean - 2 SE, {pair.mean - 2 * pair.se:+.2f}, is below it)"
            )
            + "."
            + (
                ""
                if bm is None
                else f" Bayesmark-style score (against the median random evaluation, less"
                f" noisy): {bm.mean:+.2f} +- {bm.se:.2f}."
            ),
            "",
            "| model | mean difference | runs |",
            "|---|---:|---:|",
        ]
        for model, diffs in sorted(by_model.items()):
            lines.append(f"| {model} | {statistics.fmean(diffs):+.1f} | {len(diffs)} |")
        lines.append("")
        if per_problem:
            lines += ["| problem | mean difference |", "|---|---:|"]
            lines += [f"| {p} | {d:+.1f} |" for p, d in sorted(problems.items())]
            lines.append("")
    return "\n".join(lines)


def load_report(paths: Sequence[str | Path], **kwargs: Any) -> str:
    """:func:`parallel_report` of the records in ``paths``."""
    return parallel_report(load_records(paths), **kwargs)
