"""QMCSampler: low-discrepancy joint proposals, seeding, fallback for new parameters."""

from __future__ import annotations

import numpy as np
import pytest

import hpopt
from hpopt import Float, Int
from hpopt.samplers import QMCSampler, RandomSampler
from hpopt.samplers.base import BaseSampler
from hpopt.trial import Trial


def _unit_points(sampler: BaseSampler, n: int) -> np.ndarray:
    """Run ``n`` trials over a 2-D unit square; return the points of trials 1..n-1 (trial
    0 has no history, so it is the random fallback)."""
    study = hpopt.create_study(sampler=sampler)
    study.optimize(
        lambda t: t.suggest_float("a", 0.0, 1.0) + t.suggest_float("b", 0.0, 1.0),
        n_trials=n,
        show_progress_bar=False,
    )
    return np.array([[t.params["a"], t.params["b"]] for t in study.trials[1:]])


def test_invalid_qmc_type() -> None:
    with pytest.raises(ValueError, match="qmc_type"):
        QMCSampler(qmc_type="lattice")


@pytest.mark.parametrize("seed", range(5))
def test_sobol_points_are_stratified(seed: int) -> None:
    # The first 2^m points of a (scrambled) Sobol sequence put exactly one point in each
    # of 2^m equal slices of every axis; random search fails this almost surely.
    pts = _unit_points(QMCSampler(seed=seed), 65)
    for axis in range(2):
        counts = np.bincount((pts[:, axis] * 64).astype(int), minlength=64)
        assert counts.tolist() == [1] * 64
    rand = _unit_points(RandomSampler(seed=seed), 65)
    assert np.bincount((rand[:, 0] * 64).astype(int), minlength=64).max() > 1


@pytest.mark.parametrize("qmc_type", ["sobol", "halton"])
def test_lower_discrepancy_than_random(qmc_type: str) -> None:
    from scipy.stats import qmc

    for seed in range(4):
        ours = qmc.discrepancy(_unit_points(QMCSampler(qmc_type=qmc_type, seed=seed), 101))
        rand = qmc.discrepancy(_unit_points(RandomSampler(seed=seed), 101))
        assert ours < 0.5 * rand, (seed, ours, rand)


def test_halton_first_axis_is_stratified() -> None:
    pts = _unit_points(QMCSampler(qmc_type="halton", seed=3), 33)
    assert np.bincount((pts[:, 0] * 32).astype(int), minlength=32).tolist() == [1] * 32


def test_seed_gives_the_sequence_and_unscrambled_is_the_plain_sequence() -> None:
    a = _unit_points(QMCSampler(seed=11), 20)
    b = _unit_points(QMCSampler(seed=11), 20)
    c = _unit_points(QMCSampler(seed=12), 20)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    plain = _unit_points(QMCSampler(scramble=False, seed=0), 5)
    # unscrambled Sobol in 2-D: (0,0), (.5,.5), (.75,.25), (.25,.75)
    assert plain.tolist() == [[0.0, 0.0], [0.5, 0.5], [0.75, 0.25], [0.25, 0.75]]


def test_log_and_int_parameters_are_spread_in_their_unit_representation() -> None:
    study = hpopt.create_study(sampler=QMCSampler(seed=0))

    def objective(trial: Trial) -> float:
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        k = trial.suggest_int("k", 0, 3)
        return lr + k

    study.optimize(objective, n_trials=33, show_progress_bar=False)
    joint = study.trials[1:]
    decades = np.floor(np.log10([t.params["lr"] for t in joint])).astype(int)
    assert np.bincount(decades + 5, minlength=4).tolist() == [8, 8, 8, 8]
    assert np.bincount([t.params["k"] for t in joint], minlength=4).tolist() == [8, 8, 8, 8]


def test_joint_space_is_the_intersection_of_completed_trials() -> None:
    sampler = QMCSampler(seed=0)
    study = hpopt.create_study(sampler=sampler)

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number < 3:
            trial.suggest_int("old", 0, 5)
        else:
            trial.suggest_int("new", 0, 5)
        return x

    study.optimize(objective, n_trials=6, show_progress_bar=False)
    space = sampler.infer_relative_search_space(study._view(), study.ask())
    assert space == {"x": Float(0, 1)}
    assert [set(t.relative_params) for t in [study.ask()]] == [{"x"}]
    assert all(0 <= t.params.get("new", 0) <= 5 for t in study.trials)


def test_new_parameters_fall_back_to_random_and_stay_valid() -> None:
    study = hpopt.create_study(sampler=QMCSampler(seed=1))

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        if trial.number >= 5:
            trial.suggest_int("n", 2, 40, step=2)
        return x**2

    study.optimize(objective, n_trials=12, show_progress_bar=False)
    ns = [t.params["n"] for t in study.trials[5:]]
    assert all(n % 2 == 0 and 2 <= n <= 40 for n in ns)
    assert len(set(ns)) > 1
    assert Int(2, 40, step=2).contains(ns[0])
