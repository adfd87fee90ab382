"""A PyTorch MLP on iris, tuned define-by-run with per-epoch reports and early stopping.

Run:  python examples/mlp_iris_torch.py [--n-trials 30] [--epochs 40]
"""

from __future__ import annotations

import argparse

import torch
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import hpopt

X, y = load_iris(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
Xt = torch.tensor(scaler.transform(X_train), dtype=torch.float32)
Xv = torch.tensor(scaler.transform(X_val), dtype=torch.float32)
yt, yv = torch.tensor(y_train), torch.tensor(y_val)


def make_objective(epochs: int):  # type: ignore[no-untyped-def]
    def objective(trial: hpopt.Trial) -> float:
        torch.manual_seed(trial.number)
        width = trial.suggest_int("width", 4, 64, log=True)
        layers: list[torch.nn.Module] = []
        n_in = 4
        for _ in range(trial.suggest_int("depth", 1, 3)):
            layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
            n_in = width
        model = torch.nn.Sequential(*layers, torch.nn.Linear(n_in, 3))
        opt = torch.optim.Adam(
            model.parameters(), lr=trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        )
        acc = 0.0
        for epoch in range(epochs):
            model.train()
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt), yt).backward()
            opt.step()
            with torch.no_grad():
                acc = float((model(Xv).argmax(1) == yv).float().mean())
            trial.report(acc, epoch)
            if trial.should_prune():
                raise hpopt.TrialPruned()
        return acc

    return objective


def main(n_trials: int, epochs: int) -> hpopt.Study:
    study = hpopt.create_study(
        direction="maximize",
        scheduler=hpopt.ASHAScheduler(min_resource=max(1, epochs // 9), max_resource=epochs),
    )
    study.optimize(make_objective(epochs), n_trials=n_trials)
    print(f"best validation accuracy {study.best_value:.3f} with {study.best_params}")
    return study


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    main(args.n_trials, args.epochs)
