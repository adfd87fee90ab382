"""The Trial handle: buffered writes, suggest types, attributes."""

from __future__ import annotations

import pytest

import hpopt
from hpopt import TrialState
from hpopt.samplers import RandomSampler
from hpopt.storage import BaseStorage


def _stored(storage: BaseStorage, trial: hpopt.Trial) -> hpopt.FrozenTrial:
    return storage.get_trial(trial.trial_id)


def test_suggest_is_buffered_until_report_or_tell(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage, sampler=RandomSampler(seed=1))
    trial = study.ask()
    x = trial.suggest_float("x", 0, 1)
    trial.set_user_attr("note", "hi")
    assert dict(_stored(storage, trial).params) == {}  # no round trip per suggest
    trial.report(0.5, 1)
    stored = _stored(storage, trial)
    assert dict(stored.params) == {"x": x}
    assert dict(stored.intermediate_values) == {1: 0.5}
    assert stored.user_attrs["note"] == "hi"
    assert stored.state is TrialState.RUNNING
    n = trial.suggest_int("n", 1, 4)
    study.tell(trial, 1.0)
    final = _stored(storage, trial)
    assert dict(final.params) == {"x": x, "n": n} and final.state is TrialState.COMPLETE


def test_suggest_returns_python_types(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage, sampler=RandomSampler(seed=2))
    for _ in range(10):
        trial = study.ask()
        assert type(trial.suggest_float("f", 0, 10, step=0.5)) is float
        assert type(trial.suggest_int("i", 1, 100, log=True)) is int
        assert type(trial.suggest_categorical("c", [True, 1, "1"])) in (bool, int, str)
        study.tell(trial, 0.0)


def test_handle_views_are_copies(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage)
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    trial.params["x"] = 99.0
    trial.distributions.clear()
    assert trial.params["x"] != 99.0 and "x" in trial.distributions


def test_attributes_that_are_not_json_fail_the_trial_not_leave_it_running(
    storage: BaseStorage,
) -> None:
    study = hpopt.create_study(storage=storage)

    def objective(trial: hpopt.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 0:
            trial.set_user_attr("model", object())
        return x

    study.optimize(objective, n_trials=3, show_progress_bar=False)
    first = study.trials[0]
    assert first.state is TrialState.FAIL
    assert "JSON" in (first.error or "") and "x" in first.params
    assert [t.state for t in study.trials[1:]] == [TrialState.COMPLETE] * 2


def test_report_flushes_attribute_errors_into_the_objective(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage)
    trial = study.ask()
    trial.set_user_attr("bad", {1, 2})
    with pytest.raises(TypeError, match="JSON"):
        trial.report(1.0, 0)
    record = study.tell(trial, 1.0)
    assert record.state is TrialState.FAIL and "JSON" in (record.error or "")
