"""Many processes on one study: exactly N x M trials, numbered 0..N*M-1, none RUNNING.

Each configuration starts N worker processes (``python -m hpopt.testing.storage_worker``)
that each run M trials on one SQLite file or one PostgreSQL database, then checks the study:
N x M COMPLETE trials, distinct numbers 0..N*M-1, nothing left RUNNING, every stored value
equal to f(params). Usage::

    PYTHONPATH=src python benchmarks/storage_concurrency.py --repeats 3 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import hpopt
from hpopt.testing.storage_worker import value_of
from hpopt.trial.state import TrialState


def run_once(url: str, n_procs: int, n_trials: int, folder: Path) -> tuple[float, str]:
    """Run one configuration; return the wall time and ``"ok"`` or what was wrong."""
    name = f"conc-{uuid.uuid4().hex[:8]}"
    hpopt.create_study(storage=url, study_name=name).storage.close()
    start = time.perf_counter()
    worker = [sys.executable, "-m", "hpopt.testing.storage_worker", "run", url, name]
    procs = [
        subprocess.Popen([*worker, str(n_trials), str(seed), str(folder)])
        for seed in range(n_procs)
    ]
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - start
    study = hpopt.load_study(study_name=name, storage=url)
    trials = study.trials
    total = n_procs * n_trials
    problems = []
    if any(codes):
        problems.append(f"exit codes {codes}")
    if len(trials) != total:
        problems.append(f"{len(trials)} trials, expected {total}")
    if sorted(t.number for t in trials) != list(range(len(trials))):
        problems.append("numbers are not 0..n-1")
    running = [t.number for t in trials if t.state is TrialState.RUNNING]
    if running:
        problems.append(f"{len(running)} left RUNNING")
    wrong = [
        t.number
        for t in trials
        if t.state is not TrialState.COMPLETE or t.values != (value_of(t.params),)
    ]
    if wrong:
        problems.append(f"{len(wrong)} not COMPLETE with value f(params)")
    hpopt.delete_study(study_name=name, storage=study.storage)
    study.storage.close()
    return elapsed, "; ".join(problems) or "ok"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="16x50,32x25", help="comma-separated NxM")
    parser.add_argument("--postgres", default=os.environ.get("HPOPT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hpopt-conc-"))
    backends = [("SQLite", f"sqlite:///{folder / 'shared.db'}")]
    if args.postgres:
        backends.append(("PostgreSQL", args.postgres))
    print("| storage | processes x trials | run | wall s | trials/s | result |")
    print("|---|---|---:|---:|---:|---|")
    for size in args.sizes.split(","):
        n_procs, n_trials = (int(v) for v in size.split("x"))
        for label, url in backends:
            for rep in range(args.repeats):
                elapsed, result = run_once(url, n_procs, n_trials, folder)
                rate = n_procs * n_trials / elapsed
                print(
                    f"| {label} | {n_procs} x {n_trials} | {rep + 1} | {elapsed:.1f} | "
                    f"{rate:.0f} | {result} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
