"""SVC on scikit-learn's digits: random search against the default (Bayesian) sampler.

Run:  python examples/svc_digits.py [--n-trials 40] [--seeds 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

import hpopt

X, y = load_digits(return_X_y=True)
X = X / 16.0


def objective(trial: hpopt.Trial) -> float:
    C = trial.suggest_float("C", 1e-2, 1e3, log=True)
    gamma = trial.suggest_float("gamma", 1e-5, 1e0, log=True)
    return float(cross_val_score(SVC(C=C, gamma=gamma), X, y, cv=3).mean())


def best_of(sampler: hpopt.samplers.BaseSampler, n_trials: int) -> float:
    study = hpopt.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=n_trials, show_progress_bar=False)
    return study.best_value


def main(n_trials: int, seeds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"random": [], "default": []}
    for seed in range(seeds):
        results["random"].append(best_of(hpopt.RandomSampler(seed=seed), n_trials))
        results["default"].append(best_of(hpopt.samplers.default_sampler(seed=seed), n_trials))
    for name, values in results.items():
        print(f"{name:>8}: mean best CV accuracy {np.mean(values):.4f} over {seeds} seed(s)")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-trials", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    main(args.n_trials, args.seeds)
