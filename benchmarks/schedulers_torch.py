"""Early stopping on real training: a PyTorch MLP on scikit-learn's digits, up to 30 epochs.

In one run, at the same total number of epochs (what 40 full-budget trials cost): hpopt's
full-budget random search; ASHA with two rung layouts and the random sampler, ASHA with the
TPE sampler and with the default sampler (AutoSampler), Hyperband with the random and the
default sampler; and Optuna's TPE with its HyperbandPruner,
all on the same network, data split and search space. Reported: the
best validation accuracy of a trial trained to 30 epochs within the budget, and the epochs
each method needed to first complete a trial at least as good as the best of random
search's 40 trials. Sequential, one thread.

Run (about a minute a seed on 2 shared cores)::

    PYTHONPATH=src python benchmarks/schedulers_torch.py --seeds 0

``--space adam-cosine`` runs a space without conditional parameters (one optimizer and
schedule), where the default sampler uses its GP: random search, ASHA + random and ASHA +
the default sampler only.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hpopt
from hpopt.integrations.torch import suggest_optimizer
from hpopt.samplers import BaseSampler

MAX_EPOCHS = 30
N_FULL_TRIALS = 40
BUDGET = N_FULL_TRIALS * MAX_EPOCHS
BATCH_SIZE = 256


class Budget:
    """Counts trained epochs and completed trials (cumulative epochs, accuracy)."""

    def __init__(self) -> None:
        self.epochs = 0
        self.completions: list[tuple[int, float]] = []

    def best_within(self, epochs: float) -> float:
        return max((a for e, a in self.completions if e <= epochs), default=math.nan)

    def epochs_to_reach(self, target: float) -> float:
        return next((float(e) for e, a in self.completions if a >= target), math.inf)


#: Search spaces: ``searchable`` (Adam or SGD, four learning-rate schedules: conditional
#: parameters, so the default sampler picks TPE) and ``adam-cosine`` (one optimizer and
#: schedule: 7 parameters in every trial, so the default sampler picks the GP).
SPACES = {
    "searchable": {"optimizers": ("adam", "sgd")},
    "adam-cosine": {"optimizers": ("adam",), "schedules": ("cosine",)},
}


def make_objective(
    budget: Budget, pruned: type[Exception], seed: int, space: str = "searchable"
) -> Callable[[Any], float]:
    """An objective for hpopt or Optuna trials (the suggest/report APIs match)."""
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=seed, stratify=y
    )
    xt = torch.tensor(x_train, dtype=torch.float32)
    yt = torch.tensor(y_train)
    xv = torch.tensor(x_val, dtype=torch.float32)
    yv = torch.tensor(y_val)
    steps_per_epoch = -(-len(xt) // BATCH_SIZE)

    def objective(trial: Any) -> float:
        hidden = trial.suggest_int("hidden", 8, 256, log=True)
        torch.manual_seed(seed * 100_003 + trial.number)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
        )
        optimizer, schedule = suggest_optimizer(
            trial,
            model.parameters(),
            **SPACES[space],  # type: ignore[arg-type]
            lr=(1e-4, 1.0),
            weight_decay=(1e-6, 1e-1),
            epochs=MAX_EPOCHS,
            steps_per_epoch=steps_per_epoch,
        )
        accuracy = 0.0
        for epoch in range(1, MAX_EPOCHS + 1):
            model.train()
            for batch in torch.randperm(len(xt)).split(BATCH_SIZE):
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
                optimizer.step()
                schedule.step()
            model.eval()
            with torch.no_grad():
                accuracy = float((model(xv).argmax(1) == yv).float().mean())
            budget.epochs += 1
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise pruned()
        budget.completions.append((budget.epochs, accuracy))
        return accuracy

    return objective


def run_hpopt(
    scheduler: hpopt.schedulers.BaseScheduler | None,
    sampler: BaseSampler,
    seed: int,
    space: str = "searchable",
) -> Budget:
    budget = Budget()
    study = hpopt.create_study(direction="maximize", sampler=sampler, scheduler=scheduler)

    def stop_at_budget(study: hpopt.Study, _: hpopt.FrozenTrial) -> None:
        if budget.epochs >= BUDGET:
            study.stop()

    study.optimize(
        make_objective(budget, hpopt.TrialPruned, seed, space), callbacks=[stop_at_budget]
    )
    return budget


def run_optuna(seed: int) -> Budget:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = Budget()
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3
        ),
    )

    def stop_at_budget(study: Any, _: Any) -> None:
        if budget.epochs >= BUDGET:
            study.stop()

    study.optimize(make_objective(budget, optuna.TrialPruned, seed), callbacks=[stop_at_budget])
    return budget


#: Rungs counted down from the full budget, as in the Hyperband paper's most aggressive
#: bracket with a 1-epoch minimum: 30/27, 30/9 and 10 epochs (judged at epochs 2, 4, 10), so
#: no rung sits just below the full budget (``ASHAScheduler(1, 30)`` has one at 27 of 30).
ASHA_MIN_RESOURCE = MAX_EPOCHS / 3**3


def methods(seed: int, space: str = "searchable") -> dict[str, Callable[[], Budget]]:
    """Every method of one seed, by name (the first is the full-budget baseline)."""
    if space != "searchable":
        return fixed_space_methods(seed, space)

    def random() -> BaseSampler:
        return hpopt.RandomSampler(seed=seed)

    def asha(min_resource: float) -> hpopt.ASHAScheduler:
        return hpopt.ASHAScheduler(min_resource, MAX_EPOCHS, reduction_factor=3)

    return {
        "random search (full budget)": lambda: run_hpopt(None, random(), seed),
        "ASHA(1, 30) + random (previous)": lambda: run_hpopt(asha(1), random(), seed),
        "ASHA(30/27, 30) + random": lambda: run_hpopt(asha(ASHA_MIN_RESOURCE), random(), seed),
        "ASHA(30/27, 30) + TPE": lambda: run_hpopt(
            asha(ASHA_MIN_RESOURCE), hpopt.TPESampler(seed=seed), seed
        ),
        "ASHA(30/27, 30) + default (AutoSampler)": lambda: run_hpopt(
            asha(ASHA_MIN_RESOURCE), hpopt.AutoSampler(seed=seed), seed
        ),
        "Hyperband(1, 30) + random": lambda: run_hpopt(
            hpopt.HyperbandScheduler(1, MAX_EPOCHS), random(), seed
        ),
        "Hyperband(1, 30) + default (AutoSampler)": lambda: run_hpopt(
            hpopt.HyperbandScheduler(1, MAX_EPOCHS), hpopt.AutoSampler(seed=seed), seed
        ),
        "Optuna TPE + HyperbandPruner(1, 30)": lambda: run_optuna(seed),
    }


Result = tuple[float, float, int]  # best accuracy, share of the budget to the target, completions


def fixed_space_methods(seed: int, space: str) -> dict[str, Callable[[], Budget]]:
    """The rows for a space without conditional parameters (the default sampler's GP)."""

    def asha() -> hpopt.ASHAScheduler:
        return hpopt.ASHAScheduler(ASHA_MIN_RESOURCE, MAX_EPOCHS, reduction_factor=3)

    return {
        "random search (full budget)": lambda: run_hpopt(
            None, hpopt.RandomSampler(seed=seed), seed, space
        ),
        "ASHA(30/27, 30) + random": lambda: run_hpopt(
            asha(), hpopt.RandomSampler(seed=seed), seed, space
        ),
        "ASHA(30/27, 30) + default (AutoSampler)": lambda: run_hpopt(
            asha(), hpopt.AutoSampler(seed=seed), seed, space
        ),
    }


def run_seed(seed: int, results: dict[str, list[Result]], space: str = "searchable") -> list[str]:
    """Every method on one seed: the table rows; appends a :data:`Result` to ``results``."""
    budgets: dict[str, Budget] = {}
    seconds: dict[str, tuple[float, float]] = {}
    for name, run in methods(seed, space).items():
        wall, cpu = time.perf_counter(), time.process_time()
        budgets[name] = run()
        seconds[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    target = next(iter(budgets.values())).best_within(BUDGET)
    rows = [
        f"Seed {seed}: target = random search's best of {N_FULL_TRIALS} trials = {target:.4f}",
        "",
        "| method | trials completed | best val. accuracy at equal epochs | "
        "epochs to reach the target | share of the budget | wall / CPU time (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, budget in budgets.items():
        reach = budget.epochs_to_reach(target)
        best = budget.best_within(BUDGET)
        results.setdefault(name, []).append((best, reach / BUDGET, len(budget.completions)))
        share = f"{reach / BUDGET:.2f}" if math.isfinite(reach) else "-"
        reach_text = f"{reach:.0f}" if math.isfinite(reach) else "not reached"
        wall, cpu = seconds[name]
        rows.append(
            f"| {name} | {len(budget.completions)} | {best:.4f} | {reach_text} | {share} | "
            f"{wall:.0f} / {cpu:.0f} |"
        )
    return rows


def summary(results: dict[str, list[Result]]) -> list[str]:
    """Per method over the seeds: best accuracy against random search's (wins / ties /
    losses), share of the budget to reach the target, trials completed."""
    baseline = [best for best, _, _ in next(iter(results.values()))]
    rows = [
        "| method | best accuracy (mean) | vs random search: wins / ties / losses | "
        "share to reach target (median / mean) | share <= 1/3 | trials completed (range) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, triples in results.items():
        bests = [b for b, _, _ in triples]
        shares = [s for _, s, _ in triples]
        completed = [c for _, _, c in triples]
        wins = sum(b > r for b, r in zip(bests, baseline))
        ties = sum(b == r for b, r in zip(bests, baseline))
        missed = sum(not math.isfinite(s) for s in shares)
        mean_share = f"{statistics.fmean(shares):.2f}" if not missed else f"- ({missed} missed)"
        rows.append(
            f"| {name} | {statistics.fmean(bests):.4f} | "
            f"{wins} / {ties} / {len(bests) - wins - ties} | "
            f"{statistics.median(shares):.2f} / {mean_share} | "
            f"{sum(s <= 1 / 3 for s in shares)}/{len(shares)} | "
            f"{min(completed)}-{max(completed)} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--space", choices=sorted(SPACES), default="searchable")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"MLP on digits, up to {MAX_EPOCHS} epochs a trial, budget {BUDGET} epochs "
        f"({N_FULL_TRIALS} full-budget trials), sequential, 1 thread, space {args.space}\n"
    )
    results: dict[str, list[Result]] = {}
    for seed in args.seeds:
        print("\n".join(run_seed(seed, results, args.space)) + "\n", flush=True)
    print("\n".join(summary(results)))


if __name__ == "__main__":
    main()
