"""A small CNN on scikit-learn's 8x8 digits, the small-scale stand-in for MNIST/CIFAR-10,
tuned with the default sampler and ASHA early stopping.

Run:  python examples/cnn_digits.py [--n-trials 30] [--epochs 15]
"""

from __future__ import annotations

import argparse

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hpopt

X, y = load_digits(return_X_y=True)
X = (X / 16.0).reshape(-1, 1, 8, 8).astype("float32")
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
Xt, Xv = torch.tensor(X_train), torch.tensor(X_val)
yt, yv = torch.tensor(y_train), torch.tensor(y_val)


def build(trial: hpopt.Trial) -> torch.nn.Module:
    c1 = trial.suggest_int("channels", 8, 64, log=True)
    k = trial.suggest_categorical("kernel", [3, 5])
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, k, padding=k // 2),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, 2 * c1, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Dropout(trial.suggest_float("dropout", 0.0, 0.5)),
        torch.nn.Linear(2 * c1, 10),
    )


def make_objective(epochs: int):  # type: ignore[no-untyped-def]
    def objective(trial: hpopt.Trial) -> float:
        torch.manual_seed(trial.number)
        model = build(trial)
        opt = torch.optim.AdamW(
            model.parameters(),
            lr=trial.suggest_float("lr", 1e-4, 3e-2, log=True),
            weight_decay=trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        )
        batch = trial.suggest_categorical("batch_size", [32, 64, 128])
        acc = 0.0
        for epoch in range(epochs):
            model.train()
            for idx in torch.randperm(len(Xt)).split(batch):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                acc = float((model(Xv).argmax(1) == yv).float().mean())
            trial.report(acc, epoch + 1)
            if trial.should_prune():
                raise hpopt.TrialPruned()
        return acc

    return objective


def main(n_trials: int, epochs: int) -> hpopt.Study:
    torch.set_num_threads(1)
    study = hpopt.create_study(
        direction="maximize",
        scheduler=hpopt.ASHAScheduler(min_resource=1, max_resource=epochs, reduction_factor=3),
    )
    study.optimize(make_objective(epochs), n_trials=n_trials)
    pruned = sum(t.state is hpopt.TrialState.PRUNED for t in study.trials)
    print(
        f"best validation accuracy {study.best_value:.3f} with {study.best_params}; "
        f"{pruned} of {len(study.trials)} trials stopped early"
    )
    return study


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    main(args.n_trials, args.epochs)
