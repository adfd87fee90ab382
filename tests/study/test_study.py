"""Study behaviour on every storage backend: optimize, ask/tell, best, warm start, failures."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

import hpopt
from hpopt import Float, Int, SearchSpace, TrialState
from hpopt.samplers import RandomSampler
from hpopt.storage import BaseStorage
from hpopt.study.optimize import ObjectiveFailedError
from hpopt.study.pareto import dominates
from hpopt.trial import Trial


def _study(storage: BaseStorage, **kwargs: Any) -> hpopt.Study:
    kwargs.setdefault("sampler", RandomSampler(seed=0))
    return hpopt.create_study(storage=storage, **kwargs)


def _quadratic(trial: Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    k = trial.suggest_int("k", 0, 4)
    return (x - 1.0) ** 2 + k


def _run(study: hpopt.Study, objective: Any, n: int, **kwargs: Any) -> None:
    study.optimize(objective, n_trials=n, show_progress_bar=False, **kwargs)


# ---------------------------------------------------------------------- basics and best
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_optimize_and_best(storage: BaseStorage, direction: str) -> None:
    study = _study(storage, direction=direction)
    _run(study, _quadratic, 25)
    trials = study.trials
    assert len(trials) == 25 and all(t.state is TrialState.COMPLETE for t in trials)
    values = [t.value for t in trials]
    assert all(v is not None for v in values)
    pick = min if direction == "minimize" else max
    expected = pick(trials, key=lambda t: t.value)  # type: ignore[arg-type,return-value]
    assert study.best_value == expected.value
    assert study.best_trial.number == expected.number
    assert study.best_params == dict(expected.params)
    x, k = study.best_params["x"], study.best_params["k"]
    assert study.best_value == pytest.approx((x - 1.0) ** 2 + k)


def test_ask_tell_by_handle_and_by_number(storage: BaseStorage) -> None:
    study = _study(storage)
    first, second = study.ask(), study.ask()
    x = first.suggest_float("x", 0, 1)
    second.suggest_float("x", 0, 1)
    record = study.tell(first, x)
    assert record.state is TrialState.COMPLETE and record.values == (x,)
    study.tell(second.number, state=TrialState.FAIL, error="gave up")
    failed = study.trials[1]
    assert failed.state is TrialState.FAIL and failed.error == "gave up"
    assert failed.params == second.params  # buffered params were written on tell
    with pytest.raises(RuntimeError, match="already told"):
        study.tell(first, 1.0)
    other = _study(storage)
    with pytest.raises(ValueError, match="another study"):
        other.tell(study.ask(), 1.0)


def test_best_without_completed_trials_and_multi_objective_best(storage: BaseStorage) -> None:
    study = _study(storage)
    with pytest.raises(ValueError, match="no completed trial"):
        _ = study.best_trial
    multi = _study(storage, directions=["minimize", "maximize"])
    with pytest.raises(RuntimeError, match="several objectives"):
        _ = multi.best_trial


def test_multi_objective_best_trials_is_the_pareto_front(storage: BaseStorage) -> None:
    study = _study(storage, directions=["minimize", "maximize"])
    points = [(1.0, 1.0), (2.0, 3.0), (3.0, 2.0), (0.0, 0.0), (2.0, 2.0), (2.0, 3.0)]
    for i, values in enumerate(points):
        study.add_trial(
            hpopt.create_trial(params={"i": i}, distributions={"i": Int(0, 9)}, values=values)
        )
    front = sorted(t.params["i"] for t in study.best_trials)
    assert front == [0, 1, 3, 5]  # (3,2) and (2,2) are dominated by (2,3)

    ran = _study(storage, directions=["minimize", "maximize"])
    _run(ran, lambda t: (t.suggest_float("a", 0, 1), t.suggest_float("b", 0, 1)), 30)
    front_numbers = {t.number for t in ran.best_trials}
    for t in ran.trials:
        assert t.values is not None
        minimized = (t.values[0], -t.values[1])
        dominated = any(
            dominates((o.values[0], -o.values[1]), minimized)  # type: ignore[index]
            for o in ran.trials
        )
        assert (t.number in front_numbers) == (not dominated)


# ---------------------------------------------------------------------- warm start
def test_enqueued_trials_run_first_and_exactly_once(storage: BaseStorage) -> None:
    study = _study(storage)
    study.enqueue_trial({"x": 0.25, "k": 3})
    study.enqueue_trial({"x": -2.0})
    study.enqueue_trial({"x": 0.25, "k": 3}, skip_if_exists=True)  # already queued: skipped
    _run(study, _quadratic, 5)
    _run(study, _quadratic, 3)
    trials = study.trials
    assert len(trials) == 8
    assert dict(trials[0].params) == {"x": 0.25, "k": 3}
    assert trials[1].params["x"] == -2.0 and 0 <= trials[1].params["k"] <= 4
    assert [t.params["x"] for t in trials].count(0.25) == 1
    assert [t.params["x"] for t in trials].count(-2.0) == 1
    assert not study.get_trials((TrialState.WAITING,))


def test_enqueued_value_outside_the_distribution_fails_that_trial(storage: BaseStorage) -> None:
    study = _study(storage)
    study.enqueue_trial({"x": 10.0})
    _run(study, _quadratic, 2)
    assert study.trials[0].state is TrialState.FAIL
    assert "'x'" in (study.trials[0].error or "") and "enqueued" in (study.trials[0].error or "")
    assert study.trials[1].state is TrialState.COMPLETE


def test_add_trial_and_create_trial(storage: BaseStorage) -> None:
    study = _study(storage)
    dists = {"x": Float(-3, 3), "k": Int(0, 4)}
    added = study.add_trial(
        hpopt.create_trial(params={"x": 1.0, "k": 0}, distributions=dists, value=-5.0)
    )
    assert added.number == 0 and added.state is TrialState.COMPLETE
    _run(study, _quadratic, 5)
    assert study.best_trial.number == 0 and study.best_value == -5.0
    with pytest.raises(ValueError, match="'x'"):
        study.add_trial(hpopt.create_trial(params={"x": 9.0}, distributions=dists, value=1.0))
    with pytest.raises(ValueError, match="finished"):
        study.add_trial(
            hpopt.create_trial(
                params={"x": 1.0}, distributions=dists, value=1.0, state=TrialState.RUNNING
            )
        )
    with pytest.raises(ValueError, match="'k'"):
        study.add_trial(
            hpopt.create_trial(params={"k": 1.5}, distributions={"k": Float(0, 4)}, value=1.0)
        )
    with pytest.raises(ValueError, match="non-finite"):
        study.add_trial(hpopt.create_trial(params={"x": 1.0}, distributions=dists, value=math.nan))


# ---------------------------------------------------------------------- failures
@pytest.mark.parametrize(
    ("returned", "reason"),
    [
        (math.nan, "non-finite"),
        (math.inf, "non-finite"),
        (None, "returned None"),
        ("0.5", "string"),
        ((1.0, 2.0), "2 value(s)"),
        ([], "0 value(s)"),
        (object(), "not a number"),
    ],
)
def test_bad_returns_fail_the_trial_and_the_study_goes_on(
    storage: BaseStorage, returned: Any, reason: str
) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> Any:
        x = trial.suggest_float("x", 0, 1)
        return returned if trial.number % 2 == 0 else x

    _run(study, objective, 6)
    states = [t.state for t in study.trials]
    assert states == [TrialState.FAIL, TrialState.COMPLETE] * 3
    for t in study.trials[::2]:
        assert t.error is not None and reason in t.error
        assert t.values is None and "x" in t.params


def test_exceptions_fail_the_trial_with_traceback(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 1:
            raise ZeroDivisionError("bad batch")
        return x

    _run(study, objective, 3)
    failed = study.trials[1]
    assert failed.state is TrialState.FAIL
    assert failed.error is not None
    assert failed.error.startswith("ZeroDivisionError: bad batch")
    assert "Traceback" in failed.error and "objective" in failed.error
    assert [t.state for t in study.trials].count(TrialState.COMPLETE) == 2


class _Boom(Exception):
    pass


def test_max_consecutive_failures_reraises_the_original_exception(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> float:
        trial.suggest_float("x", 0, 1)
        raise _Boom(f"trial {trial.number}")

    with pytest.raises(_Boom, match="trial 4"):
        _run(study, objective, 100)
    assert len(study.trials) == 5  # the default limit
    assert all(t.state is TrialState.FAIL for t in study.trials)

    nan_study = _study(storage)
    with pytest.raises(ObjectiveFailedError, match=r"3 trials failed in a row.*non-finite"):
        _run(nan_study, lambda t: math.nan, 100, max_consecutive_failures=3)
    assert len(nan_study.trials) == 3


def test_failures_that_are_not_consecutive_do_not_stop(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> float:
        if trial.number % 3 != 2:
            raise _Boom("flaky")
        return 1.0

    _run(study, objective, 12, max_consecutive_failures=3)
    assert len(study.trials) == 12


def test_catch_lets_listed_exceptions_through_and_others_propagate(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> float:
        trial.suggest_float("x", 0, 1)
        if trial.number < 2:
            raise ValueError("caught")
        raise KeyError("not caught")

    with pytest.raises(KeyError, match="not caught"):
        _run(study, objective, 10, catch=(ValueError,))
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 3
    assert "KeyError" in (study.trials[2].error or "")

    strict = _study(storage)
    with pytest.raises(ValueError, match="caught"):
        _run(strict, objective, 10, catch=())
    assert len(strict.trials) == 1 and strict.trials[0].state is TrialState.FAIL


def test_keyboard_interrupt_marks_the_trial_failed_and_propagates(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 2:
            raise KeyboardInterrupt
        return x

    with pytest.raises(KeyboardInterrupt):
        _run(study, objective, 10)
    assert [t.state for t in study.trials] == [
        TrialState.COMPLETE,
        TrialState.COMPLETE,
        TrialState.FAIL,
    ]
    assert "interrupted" in (study.trials[2].error or "")
    assert not study.get_trials((TrialState.RUNNING,))


# ---------------------------------------------------------------------- distributions
def test_resuggesting_in_one_trial(storage: BaseStorage) -> None:
    study = _study(storage)
    trial = study.ask()
    x = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    assert trial.suggest_float("lr", 1e-4, 1.0, log=True) == x
    with pytest.raises(ValueError, match=r"'lr'.*already suggested"):
        trial.suggest_float("lr", 1e-4, 1.0)
    with pytest.raises(ValueError, match="'lr'"):
        trial.suggest_int("lr", 1, 5)


def test_incompatible_distributions_across_trials(storage: BaseStorage) -> None:
    study = _study(storage)
    _run(study, lambda t: t.suggest_categorical("act", ["relu", "tanh"]) == "relu", 2)
    trial = study.ask()
    with pytest.raises(ValueError) as info:
        trial.suggest_categorical("act", ["relu", "gelu"])
    message = str(info.value)
    assert "'act'" in message and "tanh" in message and "gelu" in message
    with pytest.raises(ValueError, match=r"'act'.*Categorical.*Float"):
        trial.suggest_float("act", 0, 1)
    # a numeric range may change between trials, the kind may not
    _run(study, lambda t: t.suggest_float("x", 0, 1), 1)
    _run(study, lambda t: t.suggest_float("x", -5, 5), 1)
    assert study.trials[-1].state is TrialState.COMPLETE
    with pytest.raises(ValueError, match=r"'x'.*Float.*Int"):
        study.ask().suggest_int("x", 0, 3)


def test_single_valued_distributions_need_no_sampler(storage: BaseStorage) -> None:
    study = _study(storage)
    trial = study.ask()
    assert trial.suggest_float("a", 2.5, 2.5) == 2.5
    assert trial.suggest_int("b", 3, 3) == 3
    assert trial.suggest_categorical("c", ["only"]) == "only"


# ---------------------------------------------------------------------- declarative spaces
SPACE = {
    "lr": Float(1e-4, 1e-1, log=True),
    "layers": Int(1, 3),
    "opt": {"sgd": {"momentum": Float(0.0, 0.9)}, "adam": {}},
}


def test_declarative_space_with_config_objective(storage: BaseStorage) -> None:
    study = _study(storage)
    configs: list[dict[str, Any]] = []

    def objective(config: dict[str, Any]) -> float:
        configs.append(config)
        return float(config["lr"] * config["layers"])

    _run(study, objective, 12, space=SPACE)
    assert [dict(t.params) for t in study.trials] == configs
    for config in configs:
        assert ("momentum" in config) == (config["opt"] == "sgd")
    assert {c["opt"] for c in configs} == {"sgd", "adam"}


def test_declarative_space_with_config_and_trial(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(config: dict[str, Any], trial: Trial) -> float:
        trial.set_user_attr("n", trial.number)
        trial.report(config["lr"], 0)
        return float(config["lr"])

    _run(study, objective, 4, space=SearchSpace.from_dict(SPACE))
    for t in study.trials:
        assert t.user_attrs["n"] == t.number
        assert t.intermediate_values == {0: t.params["lr"]}


def test_ask_with_a_space_fills_config(storage: BaseStorage) -> None:
    study = _study(storage)
    trial = study.ask(SPACE)
    assert trial.config is not None and trial.config == trial.params
    study.tell(trial, 1.0)
    assert study.trials[0].params == trial.config


# ---------------------------------------------------------------------- export, report, timeout
def test_trials_dataframe_columns(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> float:
        trial.set_user_attr("tag", "t")
        if trial.number == 2:
            raise _Boom("no")
        return _quadratic(trial)

    _run(study, objective, 4)
    df = study.trials_dataframe()
    for column in ("number", "state", "value", "datetime_start", "datetime_complete"):
        assert column in df.columns
    assert {"duration_s", "params_x", "params_k", "user_attrs_tag", "error"} <= set(df.columns)
    assert list(df["number"]) == [0, 1, 2, 3]
    assert list(df["state"]) == ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE"]
    assert df["error"].iloc[2].startswith("_Boom") or "_Boom" in df["error"].iloc[2]
    complete = study.trials_dataframe(states=(TrialState.COMPLETE,))
    assert len(complete) == 3

    multi = _study(storage, directions=["minimize", "minimize"])
    _run(multi, lambda t: (t.suggest_float("a", 0, 1), 1.0), 2)
    assert {"values_0", "values_1"} <= set(multi.trials_dataframe().columns)


def test_report_and_should_prune_with_the_default_scheduler(storage: BaseStorage) -> None:
    study = _study(storage)
    trial = study.ask()
    assert not trial.should_prune()  # nothing reported yet
    for step in range(3):
        trial.report(1.0 / (step + 1), step)
        assert not trial.should_prune()
    trial.report(1.0, 0)  # same value again: nothing happens
    with pytest.raises(ValueError, match="already reported"):
        trial.report(2.0, 0)
    with pytest.raises(ValueError, match="step must be >= 0"):
        trial.report(1.0, -1)
    with pytest.raises(TypeError):
        trial.report("high", 5)  # type: ignore[arg-type]
    record = study.tell(trial, state=TrialState.PRUNED)
    assert record.state is TrialState.PRUNED
    assert record.values == (1.0 / 3,)  # the last reported value
    assert dict(study.trials[0].intermediate_values) == {0: 1.0, 1: 0.5, 2: 1.0 / 3}


def test_trial_pruned_exception_marks_pruned(storage: BaseStorage) -> None:
    study = _study(storage)

    def objective(trial: Trial) -> float:
        trial.report(0.7, 0)
        raise hpopt.TrialPruned()

    _run(study, objective, 2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert study.trials[0].values == (0.7,)


def test_timeout_stops_optimize(storage: BaseStorage) -> None:
    study = _study(storage)
    start = time.monotonic()
    study.optimize(_quadratic, timeout=0.3, show_progress_bar=False)
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 5.0
    assert len(study.trials) > 0
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_callbacks_see_each_record_and_can_stop(storage: BaseStorage) -> None:
    study = _study(storage)
    seen: list[int] = []

    def callback(s: hpopt.Study, record: hpopt.FrozenTrial) -> None:
        seen.append(record.number)
        if record.number == 3:
            s.stop()

    study.optimize(_quadratic, n_trials=50, callbacks=[callback], show_progress_bar=False)
    assert seen == [0, 1, 2, 3] and len(study.trials) == 4


def test_bad_optimize_arguments(storage: BaseStorage) -> None:
    study = _study(storage)
    with pytest.raises(ValueError, match="n_trials"):
        study.optimize(_quadratic, n_trials=-1)
    with pytest.raises(ValueError, match="timeout"):
        study.optimize(_quadratic, timeout=-1)
    with pytest.raises(TypeError, match="callable"):
        study.optimize(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_consecutive_failures"):
        study.optimize(_quadratic, n_trials=1, max_consecutive_failures=0)


def test_load_study_shares_trials(storage: BaseStorage) -> None:
    study = _study(storage, study_name="shared", direction="maximize")
    _run(study, _quadratic, 3)
    again = hpopt.load_study(study_name="shared", storage=storage)
    assert again.direction is hpopt.StudyDirection.MAXIMIZE
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    with pytest.raises(ValueError, match="already exists"):
        hpopt.create_study(storage=storage, study_name="shared")
    assert (
        hpopt.create_study(storage=storage, study_name="shared", load_if_exists=True).study_name
        == "shared"
    )
