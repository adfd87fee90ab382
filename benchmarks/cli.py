"""Command line: ``python -m benchmarks {list,quality,parallel-quality,timing,table} ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks.compare import compare_report
from benchmarks.environment import limit_threads
from benchmarks.parallel_quality import COSTLY, DEFAULT_PROBLEMS, load_report, run_parallel_quality
from benchmarks.peers import PEERS, get_peer, resolve_optimizers
from benchmarks.problems import PROBLEMS, get_problem, resolve_problems
from benchmarks.quality import plan, run_tasks
from benchmarks.records import load_records
from benchmarks.scoring import quality_tables, timing_table
from benchmarks.timing import run_timings

__all__ = ["main"]

DEFAULT_QUALITY_OUT = "benchmark-results.jsonl"
DEFAULT_TIMING_OUT = "benchmark-timing.jsonl"


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="problems and optimizers (with availability)")

    q = sub.add_parser("quality", help="search-quality runs, appended to a JSON-lines file")
    q.add_argument("--optimizers", required=True, help="comma list; groups: hpopt, peers, all")
    q.add_argument(
        "--problems", required=True, help="comma list; groups: synthetic, sklearn, public, all"
    )
    q.add_argument("--budget", type=int, default=32, help="evaluations per run (default 32)")
    q.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    q.add_argument("--first-seed", type=int, default=0)
    q.add_argument(
        "--batch", type=int, default=None, help="round size: --budget 128 --batch 8 is 16x8"
    )
    q.add_argument(
        "--workers",
        type=int,
        default=None,
        help="emulate this many asynchronous workers (always that many trials pending)",
    )
    q.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    q.add_argument(
        "--threads", type=int, default=1, help="BLAS/torch threads per process (0: default)"
    )
    q.add_argument("--out", default=DEFAULT_QUALITY_OUT, help="results file (resumable)")
    q.add_argument("--no-reference", action="store_true", help="do not add the random-search runs")
    q.add_argument("--per-problem", action="store_true", help="also print per-problem scores")

    t = sub.add_parser("timing", help="optimizer time per trial at growing history sizes")
    t.add_argument("--optimizers", required=True)
    t.add_argument("--trials", default="100,1000,5000", help="checkpoints (default 100,1000,5000)")
    t.add_argument(
        "--time-limit", type=float, default=300.0, help="optimizer seconds per optimizer"
    )
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (0: default)")
    t.add_argument("--out", default=DEFAULT_TIMING_OUT)

    pq = sub.add_parser(
        "parallel-quality",
        help="asynchronous workers vs sequential, same optimizer, paired by seed",
    )
    pq.add_argument("--optimizers", default="hpopt-auto", help="default hpopt-auto")
    pq.add_argument(
        "--problems",
        default=",".join(DEFAULT_PROBLEMS),
        help="default: the 41 sklearn problems other than " + ", ".join(COSTLY),
    )
    pq.add_argument("--budget", type=int, default=64, help="default 64")
    pq.add_argument("--workers", type=int, default=4, help="default 4")
    pq.add_argument("--seeds", type=int, default=5, help="default 5")
    pq.add_argument("--first-seed", type=int, default=0)
    pq.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    pq.add_argument("--threads", type=int, default=1)
    pq.add_argument("--out", default="parallel-quality.jsonl", help="results file (resumable)")
    pq.add_argument("--per-problem", action="store_true")
    pq.add_argument("--report-only", action="store_true", help="only print the report of --out")

    tb = sub.add_parser("table", help="markdown tables from results files (merged)")
    tb.add_argument("files", nargs="+")
    tb.add_argument("--per-problem", action="store_true")
    tb.add_argument(
        "--versus", help="also: every optimizer minus this one, paired by problem and seed"
    )

    cp = sub.add_parser(
        "compare",
        help="two results files (e.g. two sampler versions) on one scale, paired run by run",
    )
    cp.add_argument("old")
    cp.add_argument("new")
    return parser


def _list() -> None:
    print("Problems:")
    for name in PROBLEMS:
        p = get_problem(name)
        f_opt = "unknown" if p.f_opt is None else f"{p.f_opt:g}"
        print(f"  {name:<20} {p.kind:<9} dim={p.dim:<2} f_opt={f_opt}")
    print("Optimizers:")
    for name, peer in PEERS.items():
        why = peer.unavailable()
        state = "ok" if why is None else f"UNAVAILABLE: {why}"
        batch = "batch" if peer.batch else "no batch"
        print(f"  {name:<24} {state:<12} {batch:<8} {peer.note}")


def _available(names: Sequence[str]) -> list[str]:
    """The names whose libraries are installed; a note on stderr for each one skipped."""
    kept = []
    for name in names:
        why = get_peer(name).unavailable()
        if why is None:
            kept.append(name)
        else:
            print(f"skipping {name}: {why}", file=sys.stderr)
    return kept


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        _list()
        return 0
    if args.command == "quality":
        optimizers = _available(resolve_optimizers(args.optimizers))
        problems = resolve_problems(args.problems)
        seeds = list(range(args.first_seed, args.first_seed + args.seeds))
        tasks = plan(
            optimizers,
            problems,
            seeds,
            args.budget,
            args.batch,
            workers=args.workers,
            reference=not args.no_reference,
        )
        limit_threads(args.threads)
        run_tasks(
            tasks,
            args.out,
            jobs=args.jobs,
            threads=args.threads,
            log=lambda m: print(m, file=sys.stderr),
        )
        print(quality_tables(load_records([args.out]), per_problem=args.per_problem))
        return 0
    if args.command == "parallel-quality":
        if not args.report_only:
            limit_threads(args.threads)
            run_parallel_quality(
                _available(resolve_optimizers(args.optimizers)),
                resolve_problems(args.problems),
                list(range(args.first_seed, args.first_seed + args.seeds)),
                args.out,
                budget=args.budget,
                workers=args.workers,
                jobs=args.jobs,
                threads=args.threads,
                log=lambda m: print(m, file=sys.stderr),
            )
        report = load_report(
            [args.out], budget=args.budget, workers=args.workers, per_problem=args.per_problem
        )
        print(report)
        return 0
    if args.command == "timing":
        limit_threads(args.threads)
        run_timings(
            _available(resolve_optimizers(args.optimizers)),
            _ints(args.trials),
            args.out,
            time_limit=args.time_limit,
            seed=args.seed,
            log=lambda m: print(m, file=sys.stderr),
        )
        print(timing_table(load_records([args.out])))
        return 0
    if args.command == "compare":
        print(compare_report(args.old, args.new))
        return 0
    records = load_records(args.files)
    print(quality_tables(records, per_problem=args.per_problem, versus=args.versus))
    print(timing_table(records))
    return 0
