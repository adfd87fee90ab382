"""The ``hpopt demo`` job: tune a small PyTorch MLP on scikit-learn's digits dataset.

The dataset (1,797 8x8 images of handwritten digits) ships with scikit-learn, so nothing is
downloaded. It is split once, with fixed seeds, into train (60 %), validation (20 %) and test
(20 %) sets, standardized with the training statistics. Each trial trains an MLP on the
training set, reports the validation accuracy after every epoch (``trial.report``) and asks
the study's scheduler whether to stop (``trial.should_prune``); its objective value is the
validation accuracy after the last epoch.

The test set is touched once, at the end: the best trial's model is rebuilt by retraining
its configuration with the seed the trial recorded (training is deterministic on CPU with one
thread, so this reproduces the trial's model exactly and works for a study resumed from an
earlier run), then scored on the test set.

torch and scikit-learn are imported when the demo runs (``pip install "hpopt[demo]"``).

Examples
--------
>>> from hpopt.demo import run_demo
>>> result = run_demo(n_trials=3, epochs=2, show_progress_bar=False)  # doctest: +SKIP
>>> result.test_accuracy > 0.5  # doctest: +SKIP
True
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpopt.exceptions import TrialPruned
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    import torch

    from hpopt.schedulers.base import BaseScheduler
    from hpopt.storage.base import BaseStorage
    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial
    from hpopt.trial.trial import Trial

__all__ = [
    "DEFAULT_EPOCHS",
    "DEFAULT_N_TRIALS",
    "DEFAULT_TIMEOUT",
    "DemoData",
    "DemoResult",
    "TrainedModel",
    "load_digits_data",
    "run_demo",
    "suggest_config",
    "train_mlp",
]

#: Default budget: about a minute of CPU time on two cores (measurements in docs/demo.md).
DEFAULT_N_TRIALS = 50
DEFAULT_EPOCHS = 20
#: ``hpopt demo`` starts no new trial after this many seconds, so that it ends within three
#: minutes even on a busy machine (on an idle one the trial budget ends it first).
DEFAULT_TIMEOUT = 120.0

#: Seeds of the train/validation/test split; fixed so every run scores the same data.
_SPLIT_SEEDS = (0, 1)

_INSTALL_HINT = 'the demo needs PyTorch and scikit-learn: pip install "hpopt[demo]"'


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"{_INSTALL_HINT} ({e})") from e
    return torch


# ---------------------------------------------------------------------- data
@dataclass(frozen=True)
class DemoData:
    """The standardized digits splits as float32 / int64 tensors."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.y_train.max().item()) + 1


def load_digits_data() -> DemoData:
    """Load scikit-learn's digits and split them 60/20/20, stratified, with fixed seeds."""
    torch = _import_torch()
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler
    except ImportError as e:
        raise ImportError(f"{_INSTALL_HINT} ({e})") from e

    x, y = load_digits(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=_SPLIT_SEEDS[0]
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=_SPLIT_SEEDS[1]
    )
    scaler = StandardScaler().fit(x_train)
    xs = [
        torch.as_tensor(scaler.transform(a), dtype=torch.float32) for a in (x_train, x_val, x_test)
    ]
    ys = [torch.as_tensor(a, dtype=torch.int64) for a in (y_train, y_val, y_test)]
    return DemoData(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2])


# ---------------------------------------------------------------------- search space
def suggest_config(trial: Trial) -> dict[str, Any]:
    """Draw one MLP configuration, define-by-run.

    The optimizer's own parameters are conditional: ``momentum`` exists only for SGD,
    ``beta1``/``beta2`` only for Adam.
    """
    config: dict[str, Any] = {
        "optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam"]),
        "lr": trial.suggest_float("lr", 1e-4, 0.3, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "hidden": trial.suggest_int("hidden", 16, 256, log=True),
        "depth": trial.suggest_int("depth", 1, 3),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "lr_schedule": trial.suggest_categorical(
            "lr_schedule", ["constant", "step", "exponential", "cosine"]
        ),
    }
    if config["optimizer"] == "sgd":
        config["momentum"] = trial.suggest_float("momentum", 0.0, 0.99)
    else:
        config["beta1"] = trial.suggest_float("beta1", 0.8, 0.99)
        config["beta2"] = trial.suggest_float("beta2", 0.9, 0.9999, log=True)
    return config


# ---------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainedModel:
    """A trained network and its validation accuracy after each epoch."""

    model: torch.nn.Module
    val_accuracies: tuple[float, ...]


def _build_mlp(torch: Any, config: Mapping[str, Any], n_in: int, n_out: int) -> Any:
    nn = torch.nn
    layers: list[Any] = []
    width = n_in
    for _ in range(int(config["depth"])):
        layers += [nn.Linear(width, int(config["hidden"])), nn.ReLU()]
        if config["dropout"] > 0:
            layers.append(nn.Dropout(float(config["dropout"])))
        width = int(config["hidden"])
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def _build_optimizer(torch: Any, config: Mapping[str, Any], params: Any) -> Any:
    lr, wd = float(config["lr"]), float(config["weight_decay"])
    if config["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=float(config["momentum"]), weight_decay=wd)
    betas = (float(config["beta1"]), float(config["beta2"]))
    return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=wd)


def _build_lr_schedule(torch: Any, name: str, optimizer: Any, epochs: int) -> Any | None:
    """Per-epoch schedules, scaled to the run's length so every choice decays comparably."""
    sched = torch.optim.lr_scheduler
    if name == "constant":
        return None
    if name == "step":  # x0.3 after each third of the run
        return sched.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.3)
    if name == "exponential":  # down to 1 % of the initial rate by the last epoch
        return sched.ExponentialLR(optimizer, gamma=0.01 ** (1.0 / max(1, epochs)))
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    raise ValueError(f"unknown lr_schedule {name!r}")


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` that ``model`` classifies as ``y`` (evaluation mode, no grad)."""
    torch = _import_torch()
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean().item())


@contextmanager
def _single_thread(torch: Any) -> Iterator[None]:
    """One intra-op thread: tiny matrices gain nothing from more, and results stay exact."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_mlp(
    config: Mapping[str, Any],
    data: DemoData,
    *,
    epochs: int,
    seed: int,
    trial: Trial | None = None,
) -> TrainedModel:
    """Train an MLP with ``config`` for ``epochs`` epochs, deterministically for ``seed``.

    With ``trial``, the validation accuracy is reported after each epoch and the trial is
    stopped (:class:`~hpopt.TrialPruned`) when the study's scheduler says so.
    """
    torch = _import_torch()
    with _single_thread(torch):
        torch.manual_seed(seed)
        model = _build_mlp(torch, config, data.n_features, data.n_classes)
        optimizer = _build_optimizer(torch, config, model.parameters())
        schedule = _build_lr_schedule(torch, str(config["lr_schedule"]), optimizer, epochs)
        loss_fn = torch.nn.CrossEntropyLoss()
        shuffle = torch.Generator().manual_seed(seed)
        n, batch = len(data.y_train), int(config["batch_size"])
        history: list[float] = []
        for epoch in range(epochs):
            model.train()
            for idx in torch.randperm(n, generator=shuffle).split(batch):
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(data.x_train[idx]), data.y_train[idx]).backward()
                optimizer.step()
            if schedule is not None:
                schedule.step()
            history.append(accuracy(model, data.x_val, data.y_val))
            if trial is not None:
                # The step is the number of epochs trained: the resource schedulers count.
                trial.report(history[-1], epoch + 1)
                if trial.should_prune():
                    raise TrialPruned(f"stopped after epoch {epoch + 1}")
        return TrainedModel(model, tuple(history))


def trial_seed(base_seed: int, number: int) -> int:
    """A well-mixed 31-bit seed for trial ``number`` of a run seeded with ``base_seed``."""
    return int(np.random.SeedSequence([base_seed, number]).generate_state(1)[0] >> 1)


# ---------------------------------------------------------------------- the run
@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` found.

    Attributes
    ----------
    study
        The study (its storage holds every trial).
    best_trial
        The trial with the highest validation accuracy.
    val_accuracy
        The best trial's validation accuracy (its objective value).
    retrained_val_accuracy
        Validation accuracy of the model rebuilt from the best trial's config and seed;
        equal to ``val_accuracy`` when training is reproducible, as it is on CPU.
    test_accuracy
        Test accuracy of that rebuilt model (the only use of the test set).
    state_counts
        Number of the study's trials in each state.
    search_seconds, evaluation_seconds
        Wall time of the search and of the final retrain-and-test.
    epochs_trained
        Epochs the search trained, over all its trials.
    epochs_full_budget
        Epochs the same trials would have trained without early stopping.
    """

    study: Study
    best_trial: FrozenTrial
    val_accuracy: float
    retrained_val_accuracy: float
    test_accuracy: float
    state_counts: Mapping[TrialState, int]
    search_seconds: float
    evaluation_seconds: float
    epochs_trained: int = 0
    epochs_full_budget: int = 0

    @property
    def epochs_saved(self) -> int:
        """Epochs that early stopping did not have to train."""
        return self.epochs_full_budget - self.epochs_trained


def make_objective(data: DemoData, *, epochs: int, seed: int) -> Any:
    """The define-by-run objective: validation accuracy after ``epochs`` epochs."""

    def objective(trial: Trial) -> float:
        config = suggest_config(trial)
        s = trial_seed(seed, trial.number)
        trial.set_user_attr("seed", s)
        trial.set_user_attr("epochs", epochs)
        return train_mlp(config, data, epochs=epochs, seed=s, trial=trial).val_accuracies[-1]

    return objective


def run_demo(
    *,
    n_trials: int | None = DEFAULT_N_TRIALS,
    epochs: int = DEFAULT_EPOCHS,
    storage: BaseStorage | str | None = None,
    study_name: str | None = None,
    seed: int = 0,
    timeout: float | None = None,
    show_progress_bar: bool | None = None,
    scheduler: BaseScheduler | None = None,
    pruning: bool = True,
) -> DemoResult:
    """Tune the digits MLP and score the best configuration on the test set.

    Parameters
    ----------
    n_trials, timeout
        Stop after this many new trials or seconds, whichever comes first.
    epochs
        Training epochs per trial.
    storage
        Where the study lives: a storage object, a URL, or ``None`` (memory).
    study_name
        An existing study of that name is continued; default: a new, time-stamped name.
    seed
        Seeds the sampler and every trial's initialization and data order.
    show_progress_bar
        ``None``: show when standard error is a terminal.
    scheduler
        Early stopping; default: ASHA (rungs from ``epochs // 9`` epochs, reduction factor
        3) when ``pruning``, else every trial trains for all epochs.
    pruning
        Whether to stop unpromising trials early when no ``scheduler`` is given.
    """
    import datetime as _dt

    from hpopt.samplers import default_sampler
    from hpopt.study.study import create_study

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if scheduler is None and pruning:
        from hpopt.schedulers import ASHAScheduler

        scheduler = ASHAScheduler(
            min_resource=max(1, epochs // 9), max_resource=epochs, reduction_factor=3
        )
    data = load_digits_data()
    study = create_study(
        storage=storage,
        study_name=study_name or f"demo-digits-{_dt.datetime.now():%Y%m%d-%H%M%S}",
        direction="maximize",
        sampler=default_sampler(seed=seed),
        scheduler=scheduler,
        load_if_exists=True,
    )
    study.set_user_attr("demo", {"dataset": "sklearn digits", "epochs": epochs, "seed": seed})
    start = time.perf_counter()
    study.optimize(
        make_objective(data, epochs=epochs, seed=seed),
        n_trials=n_trials,
        timeout=timeout,
        show_progress_bar=show_progress_bar,
    )
    search_seconds = time.perf_counter() - start
    ran = [t for t in study.trials if t.state.is_finished() and "epochs" in t.user_attrs]
    epochs_trained = sum(len(t.intermediate_values) for t in ran)
    epochs_full = sum(int(t.user_attrs["epochs"]) for t in ran)

    start = time.perf_counter()
    best = study.best_trial
    rebuilt = train_mlp(
        best.params,
        data,
        epochs=int(best.user_attrs["epochs"]),
        seed=int(best.user_attrs["seed"]),
    )
    test_accuracy = accuracy(rebuilt.model, data.x_test, data.y_test)
    evaluation_seconds = time.perf_counter() - start
    assert best.value is not None
    return DemoResult(
        study=study,
        best_trial=best,
        val_accuracy=best.value,
        retrained_val_accuracy=rebuilt.val_accuracies[-1],
        test_accuracy=test_accuracy,
        state_counts=Counter(t.state for t in study.trials),
        search_seconds=search_seconds,
        evaluation_seconds=evaluation_seconds,
        epochs_trained=epochs_trained,
        epochs_full_budget=epochs_full,
    )
