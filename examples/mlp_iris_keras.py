"""A Keras 3 MLP on iris in the KerasTuner style: ``build_model(trial)`` returns a model.

Keras runs here on the torch backend. Run:
    KERAS_BACKEND=torch python examples/mlp_iris_keras.py [--n-trials 20] [--epochs 30]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import hpopt
from hpopt.integrations.keras import PruningCallback

X, y = load_iris(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)


def build_model(trial: hpopt.Trial) -> keras.Model:
    """The search space lives where the model is built, as with KerasTuner's build_model(hp)."""
    model = keras.Sequential([keras.Input((4,))])
    for i in range(trial.suggest_int("depth", 1, 3)):
        model.add(
            keras.layers.Dense(
                trial.suggest_int(f"units_{i}", 4, 64, log=True),
                activation=trial.suggest_categorical(f"act_{i}", ["relu", "tanh"]),
            )
        )
    model.add(keras.layers.Dense(3, activation="softmax"))
    model.compile(
        keras.optimizers.Adam(trial.suggest_float("lr", 1e-4, 1e-1, log=True)),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def make_objective(epochs: int):  # type: ignore[no-untyped-def]
    def objective(trial: hpopt.Trial) -> float:
        keras.utils.set_random_seed(trial.number)
        model = build_model(trial)
        history = model.fit(
            X_train,
            y_train,
            validation_data=(X_val, y_val),
            epochs=epochs,
            batch_size=16,
            verbose=0,
            callbacks=[PruningCallback(trial, "val_accuracy")],
        )
        return float(history.history["val_accuracy"][-1])

    return objective


def main(n_trials: int, epochs: int) -> hpopt.Study:
    study = hpopt.create_study(direction="maximize", scheduler=hpopt.MedianScheduler())
    study.optimize(make_objective(epochs), n_trials=n_trials)
    print(f"best validation accuracy {study.best_value:.3f} with {study.best_params}")
    return study


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    main(args.n_trials, args.epochs)
