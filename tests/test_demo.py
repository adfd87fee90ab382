"""The digits demo: search space, deterministic training, the run and its report data."""

from __future__ import annotations

import math
import sys

import pytest

import hpopt
from hpopt.demo import (
    DemoData,
    load_digits_data,
    run_demo,
    suggest_config,
    train_mlp,
    trial_seed,
)
from hpopt.schedulers import BaseScheduler, Decision
from hpopt.storage import InMemoryStorage
from hpopt.trial.state import TrialState

pytest.importorskip("torch")
pytest.importorskip("sklearn")

ADAM = {
    "optimizer": "adam",
    "lr": 1e-2,
    "weight_decay": 1e-5,
    "batch_size": 64,
    "hidden": 64,
    "depth": 2,
    "dropout": 0.1,
    "lr_schedule": "cosine",
    "beta1": 0.9,
    "beta2": 0.999,
}


@pytest.fixture(scope="module")
def data() -> DemoData:
    return load_digits_data()


def test_the_split_is_fixed_stratified_and_standardized(data: DemoData) -> None:
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1077, 360, 360)
    assert data.n_features == 64 and data.n_classes == 10
    assert load_digits_data().x_test.equal(data.x_test)  # same split every time
    for y in (data.y_train, data.y_val, data.y_test):
        counts = y.bincount(minlength=10).float() / len(y)
        assert counts.min() > 0.08 and counts.max() < 0.12  # stratified (digits: ~10 % each)
    mean, std = data.x_train.mean(0), data.x_train.std(0)
    assert mean.abs().max() < 1e-5
    assert ((std - 1).abs() < 1e-2).sum() + (std == 0).sum() == 64  # constant pixels stay 0


def test_optimizer_parameters_are_conditional() -> None:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=3))
    seen = set()
    for _ in range(30):
        trial = study.ask()
        config = suggest_config(trial)
        seen.add(config["optimizer"])
        if config["optimizer"] == "sgd":
            assert "momentum" in trial.params and "beta1" not in trial.params
        else:
            assert {"beta1", "beta2"} <= set(trial.params) and "momentum" not in trial.params
        assert config["batch_size"] in (32, 64, 128) and 16 <= config["hidden"] <= 256
        study.tell(trial, 0.0)
    assert seen == {"sgd", "adam"}


def test_training_learns_and_is_deterministic_for_a_seed(data: DemoData) -> None:
    first = train_mlp(ADAM, data, epochs=3, seed=7)
    again = train_mlp(ADAM, data, epochs=3, seed=7)
    other = train_mlp(ADAM, data, epochs=3, seed=8)
    assert len(first.val_accuracies) == 3
    assert first.val_accuracies == again.val_accuracies
    assert first.val_accuracies != other.val_accuracies
    assert first.val_accuracies[-1] > 0.9  # chance is 0.1


@pytest.mark.parametrize(
    ("schedule", "final_factor"),
    [("constant", 1.0), ("step", 0.3**3), ("exponential", 0.01), ("cosine", 0.0)],
)
def test_lr_schedules_scale_to_the_run_length(schedule: str, final_factor: float) -> None:
    import torch

    from hpopt.demo import _build_lr_schedule

    epochs = 9
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = _build_lr_schedule(torch, schedule, opt, epochs)
    for _ in range(epochs):
        opt.step()
        if sched is not None:
            sched.step()
    assert math.isclose(opt.param_groups[0]["lr"], 0.5 * final_factor, abs_tol=1e-12)


def test_trial_seeds_differ_by_trial_and_by_run() -> None:
    seeds = {trial_seed(run, n) for run in range(3) for n in range(100)}
    assert len(seeds) == 300
    assert all(0 <= s < 2**31 for s in seeds)


def test_run_demo_reproduces_the_best_model_for_the_test_score() -> None:
    store = InMemoryStorage()
    result = run_demo(
        n_trials=4,
        epochs=2,
        storage=store,
        study_name="d",
        seed=1,
        show_progress_bar=False,
        pruning=False,
    )
    trials = result.study.trials
    assert result.state_counts == {TrialState.COMPLETE: 4}
    assert result.best_trial.value == max(t.value for t in trials if t.value is not None)
    assert result.retrained_val_accuracy == result.val_accuracy  # exactly the trial's model
    assert result.test_accuracy > 0.5
    for t in trials:
        assert t.user_attrs == {"seed": trial_seed(1, t.number), "epochs": 2}
        assert sorted(t.intermediate_values) == [1, 2]  # steps count epochs trained
        assert t.intermediate_values[2] == t.value
    assert result.study.user_attrs["demo"]["epochs"] == 2

    again = run_demo(n_trials=4, epochs=2, seed=1, show_progress_bar=False, pruning=False)
    assert [t.params for t in again.study.trials] == [t.params for t in trials]
    assert [t.value for t in again.study.trials] == [t.value for t in trials]


class _StopOddTrials(BaseScheduler):
    def on_report(self, view, trial, step, value):  # type: ignore[no-untyped-def]
        return Decision.STOP if trial.number % 2 else Decision.CONTINUE


def test_the_objective_obeys_the_scheduler() -> None:
    result = run_demo(
        n_trials=4, epochs=3, seed=0, show_progress_bar=False, scheduler=_StopOddTrials()
    )
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED] * 2
    for t in trials:
        assert sorted(t.intermediate_values) == ([1, 2, 3] if t.number % 2 == 0 else [1])
    assert result.best_trial.number in (0, 2)
    assert result.state_counts == {TrialState.COMPLETE: 2, TrialState.PRUNED: 2}
    assert (result.epochs_trained, result.epochs_full_budget) == (3 + 1 + 3 + 1, 12)
    assert result.epochs_saved == 4


def test_asha_is_on_by_default_and_saves_epochs() -> None:
    result = run_demo(n_trials=9, epochs=3, seed=0, show_progress_bar=False)
    trials = result.study.trials
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert pruned, "ASHA stops some of 9 trials at its first rung"
    # Every pruned trial stopped at a rung (1 epoch) and was worse there than a trial
    # that went on.
    for t in pruned:
        assert sorted(t.intermediate_values) == [1]
        assert any(
            o.intermediate_values[1] > t.intermediate_values[1]
            for o in trials
            if o.number < t.number and len(o.intermediate_values) > 1
        )
    assert result.epochs_trained == sum(len(t.intermediate_values) for t in trials)
    assert result.epochs_saved == 2 * len(pruned)


def test_a_named_study_is_continued() -> None:
    store = InMemoryStorage()
    run_demo(n_trials=2, epochs=1, storage=store, study_name="cont", show_progress_bar=False)
    second = run_demo(
        n_trials=1, epochs=1, storage=store, study_name="cont", show_progress_bar=False
    )
    assert [t.number for t in second.study.trials] == [0, 1, 2]
    assert second.state_counts == {TrialState.COMPLETE: 3}


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match=r'pip install "hpopt\[demo\]"'):
        run_demo(n_trials=1, epochs=1, show_progress_bar=False)
