"""ASHA in pause/resume mode: an MLP on scikit-learn's digits that checkpoints.

A trial that is not in the best third at a rung is *paused*: it saves a checkpoint in
``trial.checkpoint_dir`` and stops. When later trials show that it was in fact among the
best third, the scheduler resumes it: a new trial with the same parameters loads the
checkpoint and trains on from the epoch it paused at, instead of starting over.

Run::

    python examples/asha_checkpoint_resume.py --trials 30 --epochs 27
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hpopt
from hpopt.integrations.torch import TrialReporter, restore_checkpoint, suggest_optimizer

BATCH_SIZE = 128


def digits(seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Train and validation tensors of the digits data set, scaled to [0, 1]."""
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=seed, stratify=y
    )
    return (
        torch.tensor(x_train, dtype=torch.float32),
        torch.tensor(y_train),
        torch.tensor(x_val, dtype=torch.float32),
        torch.tensor(y_val),
    )


def make_objective(data: tuple[torch.Tensor, ...], max_epochs: int) -> Any:
    x_train, y_train, x_val, y_val = data
    steps_per_epoch = -(-len(x_train) // BATCH_SIZE)

    def objective(trial: hpopt.Trial) -> float:
        hidden = trial.suggest_int("hidden", 16, 128, log=True)
        torch.manual_seed(trial.number)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
        )
        optimizer, schedule = suggest_optimizer(
            trial, model.parameters(), epochs=max_epochs, steps_per_epoch=steps_per_epoch
        )
        shuffle = torch.Generator().manual_seed(trial.number)

        def save(directory: Path) -> None:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "shuffle": shuffle.get_state(),
            }
            torch.save(state, directory / "checkpoint.pt")

        def load(directory: Path) -> None:
            state = torch.load(directory / "checkpoint.pt")
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            shuffle.set_state(state["shuffle"])

        done = restore_checkpoint(trial, load)  # 0 unless this trial resumes a paused one
        reporter = TrialReporter(trial, save_checkpoint=save)
        accuracy = 0.0
        for epoch in range(done + 1, max_epochs + 1):
            model.train()
            order = torch.randperm(len(x_train), generator=shuffle)
            for batch in order.split(BATCH_SIZE):
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
                loss.backward()
                optimizer.step()
                schedule.step()
            model.eval()
            with torch.no_grad():
                accuracy = float((model(x_val).argmax(1) == y_val).float().mean())
            reporter.report(epoch, accuracy)  # raises TrialPruned when stopped or paused
        return accuracy

    return objective


def epochs_trained(study: hpopt.Study) -> int:
    """Epochs actually trained: a resumed trial trains only past its predecessor's pause."""
    total = 0
    for t in study.trials:
        if t.last_step is not None:
            total += t.last_step - int(t.system_attrs.get("resumed_at_step", 0))
    return total


def main(
    n_trials: int = 30, max_epochs: int = 27, checkpoint_root: str | None = None, seed: int = 0
) -> hpopt.Study:
    root = checkpoint_root or tempfile.mkdtemp(prefix="hpopt_runs_")
    study = hpopt.create_study(
        direction="maximize",
        sampler=hpopt.RandomSampler(seed=seed),
        scheduler=hpopt.ASHAScheduler(1, max_epochs, reduction_factor=3, pause=True),
        checkpoint_root=root,
    )
    study.optimize(make_objective(digits(seed), max_epochs), n_trials=n_trials)
    resumed = sum(t.system_attrs.get("resumed_from") is not None for t in study.trials)
    print(
        f"{len(study.trials)} trials ({resumed} resumed from a checkpoint), "
        f"{epochs_trained(study)} epochs trained of {n_trials * max_epochs} without early "
        f"stopping; best validation accuracy {study.best_value:.4f} with {study.best_params}"
    )
    return study


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--checkpoint-root", default=None)
    args = parser.parse_args()
    main(args.trials, args.epochs, args.checkpoint_root)
