"""A Lightning model on scikit-learn's digits with the hpopt pruning callback.

Run:  python examples/lightning_digits.py [--n-trials 20] [--epochs 10]
"""

from __future__ import annotations

import argparse

import lightning as L
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

import hpopt
from hpopt.integrations.lightning import PruningCallback

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


class DigitsMLP(L.LightningModule):
    def __init__(self, width: int, dropout: float, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, width),
            torch.nn.ReLU(),
            torch.nn.Dropout(dropout),
            torch.nn.Linear(width, 10),
        )

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_objective(epochs: int):  # type: ignore[no-untyped-def]
    train = DataLoader(
        TensorDataset(torch.tensor(X_train), torch.tensor(y_train)), batch_size=64, shuffle=True
    )
    val = DataLoader(TensorDataset(torch.tensor(X_val), torch.tensor(y_val)), batch_size=512)

    def objective(trial: hpopt.Trial) -> float:
        torch.manual_seed(trial.number)
        model = DigitsMLP(
            width=trial.suggest_int("width", 16, 256, log=True),
            dropout=trial.suggest_float("dropout", 0.0, 0.5),
            lr=trial.suggest_float("lr", 1e-4, 3e-2, log=True),
        )
        trainer = L.Trainer(
            max_epochs=epochs,
            callbacks=[PruningCallback(trial, "val_acc")],
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            enable_checkpointing=False,
            num_sanity_val_steps=0,
        )
        trainer.fit(model, train, val)
        return float(trainer.callback_metrics["val_acc"])

    return objective


def main(n_trials: int, epochs: int) -> hpopt.Study:
    study = hpopt.create_study(
        direction="maximize", scheduler=hpopt.ASHAScheduler(min_resource=1, max_resource=epochs)
    )
    study.optimize(make_objective(epochs), n_trials=n_trials)
    print(f"best validation accuracy {study.best_value:.3f} with {study.best_params}")
    return study


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    main(args.n_trials, args.epochs)
