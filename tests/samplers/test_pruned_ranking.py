"""GP, TPE and AutoSampler learn from trials a scheduler pruned (hpopt.samplers._pruned)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hpopt
from hpopt.samplers import AutoSampler
from hpopt.samplers._pruned import compare_at, curve
from hpopt.samplers.gp.sampler import modelled_trials
from hpopt.samplers.gp.targets import ranked_targets, warp_targets
from hpopt.space.distributions import Float
from hpopt.study.study import create_trial
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

OPTIMUM = (0.7, 0.2)


def test_ranked_targets_order_by_step_then_value_with_shared_ties() -> None:
    from scipy.special import ndtri

    steps = np.array([math.inf, math.inf, 4.0, 10.0, 4.0, 10.0, 4.0])
    values = np.array([0.3, 0.1, 0.5, 0.9, math.nan, 0.9, 0.2])
    z = ranked_targets(steps, values)
    # Final values 0.1, 0.3; the step-10 pair (tied); step 4 by value: 0.2, 0.5, NaN.
    order = [1, 0, 3, 5, 6, 2, 4]
    assert np.all(np.diff(z[order]) >= 0)
    assert z[3] == z[5]
    assert len(set(np.round(z, 12))) == 6
    assert np.argmax(z) == 4  # NaN is the worst
    # Normal scores Phi^-1((rank + 1/2) / n); the tie of ranks 2 and 3 gets rank 2.5.
    assert z[1] == pytest.approx(ndtri(0.5 / 7))
    assert z[3] == pytest.approx(ndtri(3.0 / 7))


def _pruned(x: float, curve: dict[int, float]) -> FrozenTrial:
    return create_trial(
        params={"x": x},
        distributions={"x": Float(0.0, 1.0)},
        state=TrialState.PRUNED,
        intermediate_values=curve,
    )


def _complete(x: float, curve: dict[int, float], value: float) -> FrozenTrial:
    return create_trial(
        params={"x": x},
        distributions={"x": Float(0.0, 1.0)},
        value=value,
        intermediate_values=curve,
    )


def _gp_targets(study: hpopt.Study) -> np.ndarray:
    sampler = study.sampler
    assert isinstance(sampler, hpopt.GPSampler)
    view = study._view()
    trials = modelled_trials(view)
    return sampler._targets(view, trials, 1)(np.arange(len(trials)))


def test_trials_are_compared_at_the_largest_step_a_quarter_of_them_reached() -> None:
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=0))
    _lucky_first_history(study)
    z = _gp_targets(study)
    # 8 trials: at least max(1 + 2, 8 / 4) = 3 must reach the step; 4 reached step 3.
    # At step 3: 0.6 (0.2) < 0.5 (0.3) < 0.7 (0.5) < the complete trial (0.8); then step 1.
    assert list(np.argsort(z)) == [2, 1, 3, 0, 4, 5, 6, 7]


def test_with_enough_complete_trials_they_rank_first_by_final_value() -> None:
    study = hpopt.create_study(direction="maximize", sampler=hpopt.GPSampler(seed=0))
    study.add_trial(_complete(0.1, {1: 0.1, 9: 0.2}, 0.3))
    study.add_trial(_complete(0.2, {1: 0.9, 9: 0.9}, 0.2))
    study.add_trial(_complete(0.3, {1: 0.1, 9: 0.1}, 0.9))
    study.add_trial(_pruned(0.4, {1: 0.95, 9: 0.99}))
    z = _gp_targets(study)
    # Maximize: best final value first; the pruned trial after every complete one.
    assert list(np.argsort(z)) == [2, 0, 1, 3]


def _curve(x: float, y: float, step: int) -> float:
    """A learning curve whose final value is smallest at OPTIMUM and decays in the step."""
    final = (x - OPTIMUM[0]) ** 2 + (y - OPTIMUM[1]) ** 2
    return final + 0.5 / step


def _trained(trial: hpopt.Trial) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    y = trial.suggest_float("y", 0.0, 1.0)
    value = math.inf
    for step in range(1, 28):
        value = _curve(x, y, step)
        trial.report(value, step)
        if trial.should_prune():
            raise hpopt.TrialPruned()
    return value


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gp_under_asha_models_pruned_trials_and_samples_near_the_optimum(seed: int) -> None:
    study = hpopt.create_study(
        sampler=hpopt.GPSampler(seed=seed, n_startup_trials=8),
        scheduler=hpopt.ASHAScheduler(1, 27, reduction_factor=3),
    )
    study.optimize(_trained, n_trials=30)
    # Under ASHA few trials complete: a model of those alone would still be in its
    # quasi-random startup until the 8th complete trial (Sobol puts about 3 % of points
    # within 0.1 of OPTIMUM). Modelling the pruned trials too, the GP samples near the
    # optimum already before then.
    complete = [i for i, t in enumerate(study.trials) if t.state is TrialState.COMPLETE]
    eighth = complete[7] if len(complete) >= 8 else len(study.trials)
    assert eighth >= 12
    early = study.trials[8:eighth]
    assert sum(math.dist((t.params["x"], t.params["y"]), OPTIMUM) < 0.1 for t in early) >= 3
    near = [math.dist((t.params["x"], t.params["y"]), OPTIMUM) < 0.1 for t in study.trials[8:]]
    assert sum(near) >= 4
    best = min(
        math.dist((t.params["x"], t.params["y"]), OPTIMUM)
        for t in study.trials
        if t.state is TrialState.COMPLETE
    )
    assert best < 0.05


def test_without_pruned_trials_the_targets_are_the_warped_values() -> None:
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", 0.0, 1.0) - 0.3) ** 2, n_trials=12)
    sampler = study.sampler
    assert isinstance(sampler, hpopt.GPSampler)
    view = study._view()
    trials = modelled_trials(view)
    y = sampler._targets(view, trials, 1)(np.arange(len(trials)))
    raw = np.array([t.value for t in trials])
    np.testing.assert_array_equal(y, warp_targets(raw))


def test_modelled_trials_skip_failed_valueless_pruned_and_multi_objective_pruned() -> None:
    dist = {"x": Float(0.0, 1.0)}
    study = hpopt.create_study()
    study.add_trial(create_trial(params={"x": 0.1}, distributions=dist, value=1.0))
    study.add_trial(
        create_trial(
            params={"x": 0.2},
            distributions=dist,
            state=TrialState.PRUNED,
            intermediate_values={1: 2.0},
        )
    )
    study.add_trial(create_trial(params={"x": 0.3}, distributions=dist, state=TrialState.PRUNED))
    study.add_trial(create_trial(params={"x": 0.4}, distributions=dist, state=TrialState.FAIL))
    assert [t.params["x"] for t in modelled_trials(study._view())] == [0.1, 0.2]

    multi = hpopt.create_study(directions=["minimize", "minimize"])
    multi.add_trial(create_trial(params={"x": 0.1}, distributions=dist, values=[1.0, 2.0]))
    multi.add_trial(
        create_trial(
            params={"x": 0.2},
            distributions=dist,
            state=TrialState.PRUNED,
            intermediate_values={1: 2.0},
        )
    )
    assert len(modelled_trials(multi._view())) == 1


def test_auto_sampler_sees_a_conditional_space_in_pruned_trials() -> None:
    study = hpopt.create_study(sampler=AutoSampler(seed=0))
    a = {"a": Float(0.0, 1.0)}
    b = {"b": Float(0.0, 1.0)}
    study.add_trial(create_trial(params={"a": 0.5}, distributions=a, value=1.0))
    study.add_trial(
        create_trial(
            params={"b": 0.5}, distributions=b, state=TrialState.PRUNED, intermediate_values={1: 3}
        )
    )
    sampler = study.sampler
    assert isinstance(sampler, AutoSampler)
    assert sampler.choose(study._view()) == "tpe"


def _lucky_first_history(study: hpopt.Study) -> None:
    """A first trial that completed unopposed with a poor curve, better ones pruned at 3."""
    study.add_trial(_complete(0.1, {1: 0.9, 3: 0.8, 9: 0.7}, 0.6))
    study.add_trial(_pruned(0.5, {1: 0.5, 3: 0.3}))
    study.add_trial(_pruned(0.6, {1: 0.4, 3: 0.2}))
    study.add_trial(_pruned(0.7, {1: 0.6, 3: 0.5}))
    for x in (0.2, 0.3, 0.4, 0.8):
        study.add_trial(_pruned(x, {1: x + 1.0}))


def test_compare_at_the_common_budget_and_after_it_by_step_then_value() -> None:
    study = hpopt.create_study()
    _lucky_first_history(study)
    curves = [curve(t, 1.0) for t in study.trials]
    steps, values = compare_at(curves, 4)
    assert steps.tolist() == [3, 3, 3, 3, 1, 1, 1, 1]
    assert values.tolist() == [0.8, 0.3, 0.2, 0.5, 1.2, 1.3, 1.4, 1.8]
    # Only the complete trial reached the end: with n_min 1 the end is the budget.
    steps, values = compare_at(curves, 1)
    assert steps.tolist() == [math.inf, 3, 3, 3, 1, 1, 1, 1]
    assert values[0] == 0.6


@pytest.mark.parametrize("n_startup", [1, 8])
def test_tpe_good_set_compares_trials_at_the_common_budget(n_startup: int) -> None:
    sampler = hpopt.TPESampler(seed=0, n_startup_trials=n_startup)
    study = hpopt.create_study(sampler=sampler)
    _lucky_first_history(study)
    for x in (0.25, 0.35, 0.45, 0.85):
        study.add_trial(_pruned(x, {1: x + 1.0}))
    # 12 trials: gamma = 2 good ones; a quarter (3) reached step 3, so they are compared
    # there and the lucky complete trial (0.8 at step 3) is not in the good set.
    trial = study.ask()
    _, split = sampler._split(study._view(), trial)
    good = sorted(study.trials[i].params["x"] for i in split.good)
    assert good == [0.5, 0.6]
