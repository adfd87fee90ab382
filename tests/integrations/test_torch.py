"""PyTorch helpers: searchable optimizers and schedules, the loop reporter, real pruning."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import hpopt
from hpopt.integrations.torch import (
    LRMultiplier,
    TrialReporter,
    report_epoch,
    suggest_lr_schedule,
    suggest_optimizer,
)

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _trial_with(params: dict[str, object]) -> hpopt.Trial:
    study = hpopt.create_study()
    study.enqueue_trial(params)
    return study.ask()


def test_lr_multiplier_schedules_and_warmup() -> None:
    const = LRMultiplier("constant", 10, total_steps=100, warmup_steps=4)
    assert [const(s) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    step = LRMultiplier("step", 10, total_steps=100, step_epochs=3, gamma=0.5)
    assert [step(s) for s in (0, 29, 30, 59, 60)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    expo = LRMultiplier("exponential", 10, total_steps=100, gamma=0.9)
    assert expo(20) == pytest.approx(0.81) and expo(5) == pytest.approx(0.9**0.5)
    cos = LRMultiplier("cosine", 10, total_steps=100, warmup_steps=10, min_ratio=0.01)
    assert cos(10) == pytest.approx(1.0)
    assert cos(55) == pytest.approx(0.505)
    assert cos(100) == pytest.approx(0.01)
    assert cos(200) == pytest.approx(0.01)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "rmsprop"])
def test_suggest_optimizer_builds_the_suggested_family(name: str) -> None:
    trial = _trial_with({"optimizer": name, "lr": 0.01, "beta1": 0.85, "momentum": 0.7})
    model = torch.nn.Linear(3, 2)
    optimizer, schedule = suggest_optimizer(
        trial, model.parameters(), optimizers=["adam", "adamw", "sgd", "rmsprop"]
    )
    expected = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}[name]
    assert type(optimizer).__name__ == expected
    group = optimizer.param_groups[0]
    assert group["lr"] == pytest.approx(0.01)
    assert group["weight_decay"] == trial.params["weight_decay"]
    if name.startswith("adam"):
        assert group["betas"] == (0.85, trial.params["beta2"])
        assert "momentum" not in trial.params
    else:
        assert group["momentum"] == 0.7
        assert "beta1" not in trial.params
    assert isinstance(schedule, torch.optim.lr_scheduler.LambdaLR)
    assert "lr_schedule" not in trial.params  # no epochs: constant schedule


def test_suggest_lr_schedule_drives_the_optimizer() -> None:
    trial = _trial_with({"lr_schedule": "step", "lr_step_epochs": 2, "lr_step_gamma": 0.5})
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=1.0)
    schedule = suggest_lr_schedule(trial, optimizer, epochs=6, steps_per_epoch=3, warmup=None)
    lrs = []
    for _ in range(18):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert lrs == [1.0] * 6 + [0.5] * 6 + [0.25] * 6
    assert "lr_warmup" not in trial.params


def test_schedule_and_optimizer_validation() -> None:
    trial = hpopt.create_study().ask()
    params = list(torch.nn.Linear(2, 1).parameters())
    with pytest.raises(ValueError, match="optimizers"):
        suggest_optimizer(trial, params, optimizers=["lbfgs"])
    optimizer = torch.optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        suggest_lr_schedule(trial, optimizer, epochs=0)
    with pytest.raises(ValueError, match="schedules"):
        suggest_lr_schedule(trial, optimizer, epochs=3, schedules=["linear"])


def test_report_epoch_tracks_the_best_epoch_and_prunes() -> None:
    study = hpopt.create_study(direction="maximize", scheduler=hpopt.ThresholdScheduler(lower=0.2))
    trial = study.ask()
    reporter = TrialReporter(trial)
    for epoch, accuracy in enumerate([0.5, 0.8, 0.7, math.nan], start=1):
        if epoch < 4:
            reporter.report(epoch, accuracy)
    assert (reporter.best_epoch, reporter.best_value) == (2, 0.8)
    with pytest.raises(hpopt.TrialPruned, match="stop at epoch 4"):
        reporter.report(4, math.nan)
    record = study.tell(trial, state=hpopt.TrialState.PRUNED)
    assert record.user_attrs["best_epoch"] == 2


def test_report_epoch_saves_a_checkpoint_only_when_paused(tmp_path: Path) -> None:
    study = hpopt.create_study(
        direction="maximize",
        scheduler=hpopt.ASHAScheduler(1, 9, pause=True),
        checkpoint_root=tmp_path,
    )
    saved: list[Path] = []
    for accuracy in (0.9, 0.8, 0.1):
        trial = study.ask()
        try:
            report_epoch(trial, 1, accuracy, save_checkpoint=saved.append)
        except hpopt.TrialPruned:
            study.tell(trial, state=hpopt.TrialState.PRUNED)
        else:
            study.tell(trial, accuracy)
    assert saved == [
        tmp_path / study.study_name / "trial-1",
        tmp_path / study.study_name / "trial-2",
    ]
    assert study.trials[2].system_attrs["paused_at_step"] == 1


def test_asha_prunes_real_training_on_digits() -> None:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    x_train, y_train, x_val, y_val = x[:1200], y[:1200], x[1200:], y[1200:]
    max_epochs = 9

    def objective(trial: hpopt.Trial) -> float:
        torch.manual_seed(trial.number)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)
        )
        optimizer, schedule = suggest_optimizer(
            trial, model.parameters(), lr=(1e-4, 1e-1), epochs=max_epochs
        )
        reporter = TrialReporter(trial)
        accuracy = 0.0
        for epoch in range(1, max_epochs + 1):
            for batch in torch.arange(len(x_train)).split(200):
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
                optimizer.step()
            schedule.step()
            with torch.no_grad():
                accuracy = float((model(x_val).argmax(1) == y_val).float().mean())
            reporter.report(epoch, accuracy)
        return accuracy

    study = hpopt.create_study(
        direction="maximize",
        sampler=hpopt.RandomSampler(seed=0),
        scheduler=hpopt.ASHAScheduler(1, max_epochs),
    )
    study.optimize(objective, n_trials=15)
    pruned = study.get_trials((hpopt.TrialState.PRUNED,))
    complete = study.get_trials((hpopt.TrialState.COMPLETE,))
    assert len(pruned) >= 5 and complete
    assert all(t.last_step is not None and t.last_step < max_epochs for t in pruned)
    assert sum(t.last_step or 0 for t in study.trials) < 15 * max_epochs * 0.7
    assert study.best_value > 0.85
    assert all(t.user_attrs["best_value"] == max(t.intermediate_values.values()) for t in complete)
