"""Early stopping on synthetic learning curves: ASHA and Hyperband vs full-budget random search.

Every method gets the same total number of epochs (what 40 full-budget trials cost) and the
same random sampler; runs use 4 virtual workers on the simulated clock of
``hpopt.testing.schedulers`` (deterministic, no real training). Reported per method over many
seeds: the best final value reached, and the epochs needed to first complete a trial at least
as good as the best of full-budget random search's 40 trials. A second table measures the
cost of ``report`` + ``should_prune`` with in-memory storage once a study holds 1,000 trials.

Run::

    PYTHONPATH=src python benchmarks/schedulers_synthetic.py --seeds 30
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import hpopt
from hpopt.schedulers import BaseScheduler
from hpopt.testing.schedulers import simulate

MAX_EPOCHS = 27
N_FULL_TRIALS = 40
BUDGET = N_FULL_TRIALS * MAX_EPOCHS
WORKERS = 4

METHODS: dict[str, Callable[[], BaseScheduler | None]] = {
    "random search (full budget)": lambda: None,
    "ASHA": lambda: hpopt.ASHAScheduler(1, MAX_EPOCHS, reduction_factor=3),
    "ASHA, pause/resume": lambda: hpopt.ASHAScheduler(1, MAX_EPOCHS, pause=True),
    "Hyperband": lambda: hpopt.HyperbandScheduler(1, MAX_EPOCHS, reduction_factor=3),
    "Hyperband, pause/resume": lambda: hpopt.HyperbandScheduler(1, MAX_EPOCHS, pause=True),
    "Median": lambda: hpopt.MedianScheduler(n_startup_trials=5, n_warmup_steps=1),
}


def compare(seeds: int) -> list[str]:
    rows = [
        "| method | best value at equal epochs (mean ± s.e.) | beats random search | "
        "epochs to reach random search's 40-trial best (median) | reached within the budget |",
        "|---|---:|---:|---:|---:|",
    ]
    bests: dict[str, list[float]] = {m: [] for m in METHODS}
    reach: dict[str, list[float]] = {m: [] for m in METHODS}
    for seed in range(seeds):
        results = {}
        for method, make in METHODS.items():
            study = hpopt.create_study(
                direction="maximize", sampler=hpopt.RandomSampler(seed=seed), scheduler=make()
            )
            results[method] = simulate(
                study, max_steps=MAX_EPOCHS, epoch_budget=BUDGET, n_workers=WORKERS, seed=seed
            )
        target = results["random search (full budget)"].best_value_within(BUDGET)
        for method, result in results.items():
            bests[method].append(result.best_value_within(BUDGET))
            reach[method].append(result.epochs_to_reach(target))
    baseline = bests["random search (full budget)"]
    for method in METHODS:
        values = bests[method]
        mean = statistics.fmean(values)
        se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
        wins = sum(v > b for v, b in zip(values, baseline))
        reached = [e for e in reach[method] if math.isfinite(e)]
        median = statistics.median(reach[method])
        median_text = (
            f"{median:.0f} ({median / BUDGET:.2f} of budget)"
            if math.isfinite(median)
            else "not reached"
        )
        rows.append(
            f"| {method} | {mean:.4f} ± {se:.4f} | {wins}/{len(values)} | {median_text} | "
            f"{len(reached)}/{len(values)} |"
        )
    return rows


def overhead(storage: str | None = None, n_trials: int = 1000, repeats: int = 200) -> list[str]:
    """Milliseconds per report + should_prune with ``n_trials`` finished trials in
    ``storage`` (a URL; ``None``: in memory)."""
    rows = ["| scheduler | report + should_prune per call (ms) |", "|---|---:|"]
    factories: dict[str, Callable[[], BaseScheduler | None]] = {
        "none": lambda: None,
        "Median": lambda: hpopt.MedianScheduler(),
        "ASHA": lambda: hpopt.ASHAScheduler(1, MAX_EPOCHS),
        "ASHA, pause/resume": lambda: hpopt.ASHAScheduler(1, MAX_EPOCHS, pause=True),
        "Hyperband": lambda: hpopt.HyperbandScheduler(1, MAX_EPOCHS),
        "Patient(Median)": lambda: hpopt.PatientScheduler(hpopt.MedianScheduler(), patience=3),
    }
    for name, make in factories.items():
        study = hpopt.create_study(
            direction="maximize",
            sampler=hpopt.RandomSampler(seed=0),
            scheduler=make(),
            storage=storage,
        )
        # 1,000 finished trials whose curves reach the full budget (every rung populated).
        for i in range(n_trials):
            trial = study.ask()
            for step in range(1, MAX_EPOCHS + 1):
                trial.report(0.5 + 0.4 * ((i * 7919) % n_trials) / n_trials * (1 - 0.9**step), step)
            study.tell(trial, trial.intermediate_values[MAX_EPOCHS])
        calls = 0
        start = time.perf_counter()
        for _ in range(repeats // MAX_EPOCHS + 1):
            trial = study.ask()
            for step in range(1, MAX_EPOCHS + 1):
                trial.report(0.9 * (1 - 0.8**step), step)
                trial.should_prune()
                calls += 1
            study.tell(trial, state=hpopt.TrialState.PRUNED)
        per_call = (time.perf_counter() - start) / calls
        rows.append(f"| {name} | {per_call * 1e3:.3f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument(
        "--storage", default=None, help="storage URL for the overhead table (default: memory)"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    print(
        f"Synthetic curves, {args.seeds} seeds, {WORKERS} workers, budget {BUDGET} epochs "
        f"({N_FULL_TRIALS} trials x {MAX_EPOCHS} epochs)\n"
    )
    print("\n".join(compare(args.seeds)))
    where = args.storage or "memory"
    print(f"\nOverhead with 1,000 trials in {where} (hpopt {hpopt.__version__})\n")
    print("\n".join(overhead(args.storage)))
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
