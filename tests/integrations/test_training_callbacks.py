"""Lightning and Keras callbacks on real (tiny) training runs on scikit-learn's digits."""

from __future__ import annotations

import os

import numpy as np
import pytest

import hpopt
from hpopt.schedulers import BaseScheduler, Decision

os.environ.setdefault("KERAS_BACKEND", "torch")


class StopOddTrialsAtStep1(BaseScheduler):
    """Stops odd-numbered trials once they report step 1; lets the others run."""

    def on_report(self, view, trial, step, value):  # type: ignore[no-untyped-def, override]
        return Decision.STOP if trial.number % 2 == 1 and step >= 1 else Decision.CONTINUE


def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    return X[:1200], y[:1200], X[1200:], y[1200:]


def _check_pruning(study: hpopt.Study, epochs: int) -> None:
    for t in study.trials:
        if t.number % 2:
            assert t.state is hpopt.TrialState.PRUNED
            assert sorted(t.intermediate_values) == [0, 1]
        else:
            assert t.state is hpopt.TrialState.COMPLETE, t.error
            assert sorted(t.intermediate_values) == list(range(epochs))
            assert t.value > 0.5  # a real network learns digits in a few epochs


def test_lightning_callback_reports_each_epoch_and_prunes() -> None:
    pytest.importorskip("lightning")
    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from hpopt.integrations.lightning import PruningCallback

    Xtr, ytr, Xva, yva = _digits()
    train = DataLoader(
        TensorDataset(torch.tensor(Xtr), torch.tensor(ytr)), batch_size=64, shuffle=True
    )
    val = DataLoader(TensorDataset(torch.tensor(Xva), torch.tensor(yva)), batch_size=256)

    class Net(L.LightningModule):
        def __init__(self, lr: float, width: int) -> None:
            super().__init__()
            self.lr = lr
            self.net = torch.nn.Sequential(
                torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, 10)
            )

        def training_step(self, batch, _):  # type: ignore[no-untyped-def]
            x, y = batch
            return torch.nn.functional.cross_entropy(self.net(x), y)

        def validation_step(self, batch, _):  # type: ignore[no-untyped-def]
            x, y = batch
            self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.Adam(self.parameters(), lr=self.lr)

    epochs = 3

    def objective(trial: hpopt.Trial) -> float:
        torch.manual_seed(0)
        model = Net(
            trial.suggest_float("lr", 3e-3, 3e-2, log=True), trial.suggest_int("width", 32, 64)
        )
        trainer = L.Trainer(
            max_epochs=epochs,
            callbacks=[PruningCallback(trial, "val_acc")],
            enable_progress_bar=False,
            enable_model_summary=False,
            logger=False,
            enable_checkpointing=False,
            num_sanity_val_steps=0,
        )
        trainer.fit(model, train, val)
        return float(trainer.callback_metrics["val_acc"])

    study = hpopt.create_study(
        direction="maximize", sampler=hpopt.RandomSampler(seed=0), scheduler=StopOddTrialsAtStep1()
    )
    study.optimize(objective, n_trials=3, show_progress_bar=False)
    _check_pruning(study, epochs)


def test_keras_callback_reports_each_epoch_and_prunes() -> None:
    pytest.importorskip("keras")
    import keras

    if keras.backend.backend() != "torch":
        pytest.skip("these tests run Keras on the torch backend (set KERAS_BACKEND=torch)")
    from hpopt.integrations.keras import PruningCallback

    Xtr, ytr, Xva, yva = _digits()
    epochs = 3

    def objective(trial: hpopt.Trial) -> float:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(trial.suggest_int("width", 32, 64), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            keras.optimizers.Adam(trial.suggest_float("lr", 3e-3, 3e-2, log=True)),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        hist = model.fit(
            Xtr,
            ytr,
            validation_data=(Xva, yva),
            epochs=epochs,
            batch_size=128,
            verbose=0,
            callbacks=[PruningCallback(trial, "val_accuracy")],
        )
        return float(hist.history["val_accuracy"][-1])

    study = hpopt.create_study(
        direction="maximize", sampler=hpopt.RandomSampler(seed=0), scheduler=StopOddTrialsAtStep1()
    )
    study.optimize(objective, n_trials=3, show_progress_bar=False)
    _check_pruning(study, epochs)
