"""GridSampler: enumeration, visiting order, exhaustion, workers, conditional spaces."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

import hpopt
from hpopt import Categorical, Condition, Float, Int, SearchSpace, SpaceExhausted, TrialState
from hpopt.samplers import GridSampler
from hpopt.storage import BaseStorage
from hpopt.trial import Trial


def _key(params: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(dict(params).items()))


def test_plain_value_lists_visit_every_point_once_then_stop(storage: BaseStorage) -> None:
    grid = {"x": [-1, 0, 1], "act": ["relu", "tanh"], "n": range(2, 4)}
    study = hpopt.create_study(storage=storage, sampler=GridSampler(grid, seed=0))

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
        n = trial.suggest_int("n", 0, 10)
        return x**2 + n + (act == "relu")

    study.optimize(objective, n_trials=100, show_progress_bar=False)
    seen = [_key(t.params) for t in study.trials]
    expected = {
        _key({"x": float(x), "act": a, "n": n})
        for x, a, n in itertools.product([-1, 0, 1], ["relu", "tanh"], [2, 3])
    }
    assert len(seen) == 12 and set(seen) == expected
    assert study.best_params == {"x": 0.0, "act": "tanh", "n": 2}
    with pytest.raises(SpaceExhausted):
        study.ask()


def test_declarative_space_enumerates_int_categorical_and_stepped_float() -> None:
    space = {
        "k": Int(1, 7, step=3),  # 1, 4, 7
        "f": Float(0.0, 1.0, step=0.5),  # 0, 0.5, 1
        "c": Categorical([None, True, "a"]),
        "const": Float(2.0, 2.0),
        "lr": Int(1, 100, log=True),
    }
    sampler = GridSampler(space, seed=1)
    assert sampler.n_points == 3 * 3 * 3 * 1 * 100 == SearchSpace.from_dict(space).grid_size()
    points = [sampler.point(i) for i in range(sampler.n_points)]
    assert len({_key(p) for p in points}) == sampler.n_points
    assert {p["k"] for p in points} == {1, 4, 7}
    assert {p["f"] for p in points} == {0.0, 0.5, 1.0}
    assert {p["lr"] for p in points} == set(range(1, 101))
    assert all(sampler.index_of(p) == i for i, p in enumerate(points))


def test_unstepped_float_needs_n_points_per_float() -> None:
    with pytest.raises(ValueError, match=r"'lr'.*n_points_per_float"):
        GridSampler({"lr": Float(1e-4, 1e-1, log=True), "k": Int(0, 2)})
    sampler = GridSampler(
        {"lr": Float(1e-4, 1e-1, log=True), "x": Float(-1.0, 1.0)}, n_points_per_float=4
    )
    lrs = sorted({sampler.point(i)["lr"] for i in range(sampler.n_points)})
    xs = sorted({sampler.point(i)["x"] for i in range(sampler.n_points)})
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])  # evenly spaced in log space
    assert lrs[0] == 1e-4 and lrs[-1] == 1e-1
    assert xs == pytest.approx([-1.0, -1 / 3, 1 / 3, 1.0])
    with pytest.raises(ValueError, match="n_points_per_float"):
        GridSampler({"x": Float(0.0, 1.0)}, n_points_per_float=0)


def test_visiting_order_is_seeded_and_a_permutation() -> None:
    space = {"a": list(range(8)), "b": ["x", "y", "z"]}

    def order(seed: int) -> list[tuple[Any, ...]]:
        study = hpopt.create_study(sampler=GridSampler(space, seed=seed))
        study.optimize(
            lambda t: t.suggest_int("a", 0, 7) + len(t.suggest_categorical("b", ["x", "y", "z"])),
            show_progress_bar=False,
        )
        return [_key(t.params) for t in study.trials]

    first, again, other = order(3), order(3), order(4)
    assert first == again
    assert first != other and sorted(first) == sorted(other)
    assert len(set(first)) == 24
    natural = [_key({"a": a, "b": b}) for a, b in itertools.product(range(8), "xyz")]
    assert first != natural  # shuffled, not the enumeration order


def test_conditional_space_enumerates_the_tree_not_the_product(storage: BaseStorage) -> None:
    space = {
        "opt": {
            "sgd": {"momentum": Float(0.0, 0.9, step=0.45)},  # 3 values
            "adam": {"beta1": Categorical([0.8, 0.9]), "amsgrad": [True, False]},
            "lbfgs": None,
        },
        "layers": Int(1, 3),
        "width": {"type": "int", "low": 16, "high": 64, "step": 16, "when": {"layers": [2, 3]}},
    }
    sampler = GridSampler(space, seed=0)
    # (3 + 2*2 + 1) optimizer branches x (1 + 2*4) layer/width combinations
    assert sampler.n_points == 8 * 9
    study = hpopt.create_study(storage=storage, sampler=sampler)
    configs: list[dict[str, Any]] = []
    study.optimize(
        lambda config: (configs.append(config), config["layers"])[1],
        space=space,
        show_progress_bar=False,
    )
    assert len(configs) == 72 and len({_key(c) for c in configs}) == 72
    for c in configs:
        expected = {"opt", "layers"}
        expected |= {"sgd": {"momentum"}, "adam": {"beta1", "amsgrad"}, "lbfgs": set()}[c["opt"]]
        expected |= {"width"} if c["layers"] >= 2 else set()
        assert set(c) == expected
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_parameter_outside_the_grid_raises_naming_it() -> None:
    study = hpopt.create_study(sampler=GridSampler({"x": [1, 2]}, seed=0))
    trial = study.ask()
    assert trial.suggest_int("x", 0, 5) in (1, 2)
    with pytest.raises(ValueError, match="'y' is not in the grid"):
        trial.suggest_float("y", 0, 1)
    with pytest.raises(ValueError, match=r"'x'.*outside"):
        hpopt.create_study(sampler=GridSampler({"x": [7]})).ask().suggest_int("x", 0, 5)


def test_inactive_branch_parameter_raises() -> None:
    space = SearchSpace({"m": Categorical(["a", "b"]), "p": Int(0, 1)}, {"p": Condition("m", "a")})
    study = hpopt.create_study(sampler=GridSampler(space, seed=0))
    for _ in range(3):
        trial = study.ask()
        m = trial.suggest_categorical("m", ["a", "b"])
        if m == "b":
            with pytest.raises(ValueError, match="'p' is not active"):
                trial.suggest_int("p", 0, 1)
            return
        study.tell(trial, 0.0)
    raise AssertionError("branch 'b' never proposed")


def test_workers_sharing_a_storage_do_not_duplicate_running_points(storage: BaseStorage) -> None:
    grid = {"x": list(range(6))}
    first = hpopt.create_study(storage=storage, study_name="g", sampler=GridSampler(grid, seed=0))
    second = hpopt.load_study(study_name="g", storage=storage, sampler=GridSampler(grid, seed=1))
    pending = []
    for i in range(6):
        study = first if i % 2 == 0 else second
        trial = study.ask()
        trial.suggest_int("x", 0, 5)
        pending.append((study, trial))
    assert sorted(t.params["x"] for _, t in pending) == list(range(6))
    # every point is running now: a seventh ask joins a running point instead of failing
    extra = second.ask()
    assert extra.suggest_int("x", 0, 5) in range(6)
    for study, trial in pending:
        study.tell(trial, float(trial.params["x"]))
    second.tell(extra, 0.0)
    with pytest.raises(SpaceExhausted):
        first.ask()


def test_enqueued_added_and_failed_trials_count_as_visited(storage: BaseStorage) -> None:
    grid = {"x": [0, 1, 2, 3], "c": ["a", "b"]}
    study = hpopt.create_study(storage=storage, sampler=GridSampler(grid, seed=0))
    study.enqueue_trial({"x": 2, "c": "b"})
    study.enqueue_trial({"x": 9})  # not a grid value: runs, but visits no point
    study.add_trial(
        hpopt.create_trial(
            params={"x": 3, "c": "a"},
            distributions={"x": Int(0, 3), "c": Categorical(["a", "b"])},
            value=1.0,
        )
    )

    def objective(trial: Trial) -> float:
        x = trial.suggest_int("x", 0, 9)
        c = trial.suggest_categorical("c", ["a", "b"])
        if (x, c) == (0, "a"):
            raise RuntimeError("this point fails")
        return float(x)

    study.optimize(objective, show_progress_bar=False)
    keys = [(t.params["x"], t.params["c"]) for t in study.trials]
    assert keys[0] == (2, "b") and keys[1][0] == 9 and keys[2] == (3, "a")
    on_grid = [k for k in keys if k[0] != 9]
    assert sorted(on_grid) == sorted(itertools.product(range(4), "ab"))  # each exactly once
    assert [t.state for t in study.trials].count(TrialState.FAIL) == 1


def test_pruned_and_failed_points_are_not_retried() -> None:
    study = hpopt.create_study(sampler=GridSampler({"x": [0, 1, 2]}, seed=0))

    def objective(trial: Trial) -> float:
        x = trial.suggest_int("x", 0, 2)
        if x == 1:
            raise hpopt.TrialPruned()
        return math.nan if x == 2 else 0.0

    study.optimize(objective, n_trials=10, show_progress_bar=False)
    assert len(study.trials) == 3
    assert study.sampler.is_exhausted(study._view())  # type: ignore[attr-defined]


def test_grid_too_large_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'n'.*points"):
        GridSampler({"n": Int(0, 10**9)})
    with pytest.raises(ValueError, match="the grid has"):
        GridSampler({"a": Int(0, 9999), "b": Int(0, 9999)})


def test_value_lists_must_be_valid_choices() -> None:
    with pytest.raises(ValueError, match="'hidden'"):
        GridSampler({"hidden": [[64, 64], [128]]})
