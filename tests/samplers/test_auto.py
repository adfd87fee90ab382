"""AutoSampler: the rule, clean delegation, switching, reproducibility, bounds."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest

import hpopt
from hpopt.samplers import AutoSampler, default_sampler
from hpopt.space.distributions import Categorical, Float, Int
from hpopt.trial.state import TrialState

ALL_KINDS = {
    "f": Float(-3.0, 2.0),
    "flog": Float(1e-4, 10.0, log=True),
    "fstep": Float(0.0, 1.0, step=0.25),
    "i": Int(-2, 7),
    "ilog": Int(1, 1000, log=True),
    "istep": Int(0, 30, step=5),
    "c": Categorical(("x", 1, 2.5, None, True)),
}


def _kinds_loss(p: dict[str, Any]) -> float:
    return (p["f"] - 0.5) ** 2 + math.log10(p["flog"]) ** 2 + 0.1 * p["i"] ** 2 + p["fstep"]


def _bowl(t: hpopt.Trial) -> float:
    return sum((t.suggest_float(f"x{j}", -1.0, 1.0) - 0.3) ** 2 for j in range(3))


def _choices(study: hpopt.Study) -> list[str]:
    return [t.system_attrs["auto_sampler"] for t in study.trials]


def test_default_sampler_is_auto_and_seeded() -> None:
    assert isinstance(hpopt.create_study().sampler, AutoSampler)
    runs = []
    for _ in range(2):
        study = hpopt.create_study(sampler=default_sampler(seed=4))
        study.optimize(_bowl, n_trials=9)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_small_continuous_space_uses_the_gp_exactly() -> None:
    """In the GP regime the proposals are the GPSampler's own, point for point."""
    auto = hpopt.create_study(sampler=AutoSampler(seed=3))
    gp = hpopt.create_study(sampler=hpopt.GPSampler(seed=3))
    auto.optimize(_bowl, n_trials=14)
    gp.optimize(_bowl, n_trials=14)
    assert _choices(auto) == ["gp"] * 14
    assert [t.params for t in auto.trials] == [t.params for t in gp.trials]
    # The model's proposals improve on the ten Sobol startup points.
    values = [t.value for t in auto.trials]
    assert min(values[10:]) < 0.25 * min(values[:10])


def test_several_objectives_use_tpe_exactly() -> None:
    def two(t: hpopt.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", 0.0, 1.0)
        y = t.suggest_float("y", 0.0, 1.0)
        return x + y, (1 - x) ** 2 + y

    auto = hpopt.create_study(directions=["minimize", "minimize"], sampler=AutoSampler(seed=2))
    tpe = hpopt.create_study(directions=["minimize", "minimize"], sampler=hpopt.TPESampler(seed=2))
    auto.optimize(two, n_trials=16)
    tpe.optimize(two, n_trials=16)
    assert _choices(auto) == ["tpe"] * 16
    assert [t.params for t in auto.trials] == [t.params for t in tpe.trials]


def test_many_dimensions_use_tpe_after_the_first_trial() -> None:
    def wide(t: hpopt.Trial) -> float:
        return sum(t.suggest_float(f"x{j}", 0.0, 1.0) for j in range(13))

    study = hpopt.create_study(sampler=AutoSampler(seed=0))
    study.optimize(wide, n_trials=5)
    # Nothing is known before the first trial; from then on the space is 13-D.
    assert _choices(study) == ["gp"] + ["tpe"] * 4
    narrow = hpopt.create_study(sampler=AutoSampler(seed=0, max_gp_dims=13))
    narrow.optimize(wide, n_trials=5)
    assert _choices(narrow) == ["gp"] * 5


def _conditional(t: hpopt.Trial) -> float:
    family = t.suggest_categorical("family", ["svm", "tree"])
    if family == "svm":
        return (math.log10(t.suggest_float("c", 1e-3, 1e3, log=True)) - 1) ** 2
    return 0.5 + 0.1 * abs(t.suggest_int("depth", 1, 12) - 6)


def test_conditional_space_switches_to_tpe_once_both_branches_were_seen() -> None:
    study = hpopt.create_study(sampler=AutoSampler(seed=1))
    study.optimize(_conditional, n_trials=20)
    choices = _choices(study)
    branches = [frozenset(t.params) for t in study.trials]
    first_mixed = next(i for i in range(1, 20) if branches[i] != branches[0])
    # GP until a completed trial took a second branch, TPE for every trial after that.
    assert choices[: first_mixed + 1] == ["gp"] * (first_mixed + 1)
    assert choices[first_mixed + 1 :] == ["tpe"] * (19 - first_mixed)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_changed_distribution_counts_as_conditional() -> None:
    study = hpopt.create_study(sampler=AutoSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 2.0), n_trials=2)
    assert _choices(study) == ["gp", "gp", "gp", "tpe"]


def _bowl2(t: hpopt.Trial) -> float:
    return (t.suggest_float("x", 0.0, 1.0) - 0.8) ** 2 + (t.suggest_float("y", 0, 1) - 0.2) ** 2


@pytest.mark.parametrize("seed", [0, 1])
def test_switch_by_trial_count_and_tpe_learns_from_the_gp_history(seed: int) -> None:
    """After the switch, TPE proposes exactly what a TPESampler given the GP's trials as its
    history proposes (a TPE that ignored them would still be in its Sobol startup)."""
    study = hpopt.create_study(sampler=AutoSampler(seed=seed, max_gp_trials=12))
    study.optimize(_bowl2, n_trials=20)
    assert _choices(study) == ["gp"] * 12 + ["tpe"] * 8

    reference = hpopt.create_study(sampler=hpopt.TPESampler(seed=seed))
    for t in study.trials[:12]:
        reference.add_trial(
            hpopt.create_trial(params=t.params, distributions=t.distributions, value=t.value)
        )
    reference.optimize(_bowl2, n_trials=8)
    assert [t.params for t in study.trials[12:]] == [t.params for t in reference.trials[12:]]
    fresh = hpopt.create_study(sampler=hpopt.TPESampler(seed=seed))
    fresh.optimize(_bowl2, n_trials=8)
    assert [t.params for t in fresh.trials] != [t.params for t in study.trials[12:]]


@pytest.mark.parametrize("directions", [["minimize"], ["minimize", "maximize"]])
def test_every_distribution_kind_stays_in_bounds(directions: list[str]) -> None:
    study = hpopt.create_study(directions=directions, sampler=AutoSampler(seed=5))
    for _ in range(14):
        trial = study.ask(ALL_KINDS)
        assert trial.config is not None
        loss = _kinds_loss(trial.config)
        study.tell(trial, loss if len(directions) == 1 else (loss, trial.config["f"]))
    expected = "gp" if len(directions) == 1 else "tpe"
    assert _choices(study) == [expected] * 14
    for t in study.trials:
        assert t.state is TrialState.COMPLETE
        for name, dist in ALL_KINDS.items():
            assert dist.contains(t.params[name]), (name, t.params[name])


def test_reproducible_across_a_switch() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = hpopt.create_study(sampler=AutoSampler(seed=seed))
        study.optimize(_conditional, n_trials=16)
        assert "tpe" in _choices(study)
        return [t.params for t in study.trials]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_pending_trials_get_distinct_points() -> None:
    study = hpopt.create_study(sampler=AutoSampler(seed=0))
    study.optimize(_bowl, n_trials=8)
    space = {f"x{j}": Float(-1.0, 1.0) for j in range(3)}
    batch = [study.ask(space) for _ in range(4)]
    points = {tuple(round(t.config[n], 6) for n in space) for t in batch if t.config}
    assert len(points) == 4
    for t in batch:
        study.tell(t, 1.0)
    assert _choices(study)[8:] == ["gp"] * 4


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="max_gp_dims"):
        AutoSampler(max_gp_dims=0)
    with pytest.raises(ValueError, match="max_gp_trials"):
        AutoSampler(max_gp_trials=0)


def test_pickled_sampler_continues_the_same_stream() -> None:
    """Samplers travel with pickled objects (fitted searches, worker processes)."""
    study = hpopt.create_study(sampler=AutoSampler(seed=0))
    study.optimize(_conditional, n_trials=12)
    copy = pickle.loads(pickle.dumps(study.sampler))
    twin = hpopt.create_study(sampler=copy)
    twin.add_trials(study.trials)
    study.optimize(_conditional, n_trials=3)
    twin.optimize(_conditional, n_trials=3)
    assert [t.params for t in twin.trials[12:]] == [t.params for t in study.trials[12:]]
